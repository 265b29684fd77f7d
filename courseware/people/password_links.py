"""Choosing a password through an e-mailed link: an invitation from HR, or a reset when it was forgotten.

A reset is asked for with an email or an employee ID and answered the same way whether or not an
account exists; only the e-mail, which only the address's owner reads, differs. Using either link
sets the password, ends every session of the person and every other link they hold.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..models import AccountToken, AuditEntry, User
from ..outbox import queue as outbox
from . import sessions, tokens

ACTIONS = {tokens.INVITATION: "accept_invitation", tokens.RESET: "reset_password"}


def reset_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["RESET_LINK_HOURS"])


def request_reset(login: str) -> None:
    """Queue a reset link for the active account `login` names, or tell the address there is none (caller commits)."""
    user = User.by_login(login)
    if user is not None and user.active:
        token = tokens.issue(tokens.RESET, user.email, {"user_id": user.id}, reset_lifetime())
        link = current_app.config["PUBLIC_URL"] + url_for("auth.reset_password", token=token)
        outbox.enqueue_mail(user.email, _("Choose a new password"), _(
            "Hello %(name)s,\n\nSomeone (we hope you) asked to reset your password for the internal customer "
            "service course. Open this link within %(hours)s hours to choose a new one:\n\n%(link)s\n\n"
            "The link works once, and signs you out everywhere else. If you did not ask, ignore this "
            "message: your password has not changed.",
            name=user.name, link=link, hours=current_app.config["RESET_LINK_HOURS"],
        ))
    elif "@" in login:
        outbox.enqueue_mail(User.normalise_email(login), _("No account for this address"), _(
            "Hello,\n\nSomeone (maybe you) asked to reset the password of this address for the internal "
            "customer service course, but no active account uses it. If you should have one, ask your HR."
        ))


def holder(purpose: str, token: str) -> User | None:
    """Whom a live link is for, without using it up (a mail scanner opening it must not)."""
    row = tokens.peek(purpose, token)
    return _holder(row) if row is not None else None


def choose_password(purpose: str, token: str, password: str) -> User | None:
    """Use up the link and set its holder's password; None when the link is dead (caller commits)."""
    row = tokens.redeem(purpose, token)
    user = _holder(row) if row is not None else None
    if user is None:
        return None
    user.set_password(password)
    sessions.end_sessions(user)
    tokens.revoke(user.email)
    db.session.add(AuditEntry(user_id=user.id, action=ACTIONS[purpose], subject_user_id=user.id, detail={}))
    return user


def _holder(row: AccountToken) -> User | None:
    user = db.session.get(User, (row.payload or {}).get("user_id"))
    return user if user is not None and user.active and user.email == row.email else None
