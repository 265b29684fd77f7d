"""Invitations: people imported without a password are asked to set one through a single-use link.

HR sends the links by e-mail, or downloads them to pass on through 企业微信 or 钉钉. A new link
replaces the person's older one; setting the password, or deactivation, ends it. Issued in bulk
(a few statements whatever the number of people), so a company's whole staff is invited at once.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, delete, insert, select, update

from ..extensions import db
from ..models import AccountToken, AuditEntry, User, utcnow
from ..outbox import queue as outbox
from . import tokens
from .scope import in_departments

CHUNK = 500  # ids per IN (...) list


def pending(department_ids: set[int] | None) -> Select:
    """People in `department_ids` (None: everyone) who can be invited: active, no password, never signed in."""
    statement = select(User).where(
        User.active.is_(True), User.last_sign_in_at.is_(None), User.password_hash.not_like("%$%")
    )
    return in_departments(statement, department_ids).order_by(User.name, User.id)


def lifetime() -> timedelta:
    return timedelta(days=current_app.config["INVITATION_DAYS"])


@dataclass(frozen=True)
class Invitation:
    user: User
    link: str
    expires_at: datetime


def invite(people: Iterable[User], by: User, *, mail: bool) -> list[Invitation]:
    """Give each person a fresh link (their older one stops working) and, with `mail`, queue it by e-mail.

    One audit entry names everyone invited. The caller commits.
    """
    people = list(people)
    now = utcnow()
    expires_at = now + lifetime()
    for chunk in _chunks([p.email for p in people]):
        db.session.execute(delete(AccountToken).where(
            AccountToken.purpose == tokens.INVITATION, AccountToken.email.in_(chunk), AccountToken.used_at.is_(None),
        ))
    invitations, rows = [], []
    for person in people:
        token = secrets.token_urlsafe(32)
        rows.append({
            "purpose": tokens.INVITATION, "token_hash": tokens.hashed(token), "email": person.email,
            "payload": {"user_id": person.id}, "created_at": now, "expires_at": expires_at,
        })
        link = current_app.config["PUBLIC_URL"] + url_for("auth.invitation", token=token)
        invitations.append(Invitation(person, link, expires_at))
    if rows:
        db.session.execute(insert(AccountToken), rows)
    for chunk in _chunks([p.id for p in people]):
        db.session.execute(update(User).where(User.id.in_(chunk)).values(invited_at=now).execution_options(synchronize_session=False))
    if mail:
        by_person = {invitation.user.id: invitation for invitation in invitations}
        outbox.enqueue_mails(outbox.in_their_language(people, lambda person: _invitation_mail(by_person[person.id])))
    db.session.add(AuditEntry(
        user_id=by.id, action="invite" if mail else "invitation_links",
        detail={"count": len(people), "user_ids": [p.id for p in people]},
    ))
    return invitations


def _invitation_mail(invitation: Invitation) -> tuple[str, str]:
    return _("You are invited to the internal customer service course"), _(
        "Hello %(name)s,\n\nYour company has invited you to the internal customer service course. "
        "Open this link within %(days)s days and choose a password:\n\n%(link)s\n\n"
        "The link works once. If it has expired, ask your HR for a new one.",
        name=invitation.user.name, link=invitation.link, days=current_app.config["INVITATION_DAYS"],
    )


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
