"""Telling learners about their assignments: a notice on their home page and an e-mail, when HR assigns,
moves the due date or withdraws. Written in bulk, in the caller's transaction (the outbox sends the mail)."""
from __future__ import annotations

import enum
from datetime import date

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, insert, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Assignment, Department, Notice, User, utcnow
from ..outbox import queue as outbox


class NoticeKind(enum.StrEnum):
    ASSIGNED = "assigned"
    DUE_CHANGED = "due_changed"
    WITHDRAWN = "withdrawn"


def covered(assignment: Assignment) -> Select:
    """The active people an assignment covers: its person, or everyone in its department and below."""
    if assignment.user_id is not None:
        return select(User).where(User.id == assignment.user_id, User.active.is_(True))
    home, target = aliased(Department), aliased(Department)
    return (
        select(User)
        .join(home, home.id == User.department_id)
        .join(target, target.id == assignment.department_id)
        .where(User.active.is_(True), home.lineage.startswith(target.lineage))
    )


def notify(assignment: Assignment, kind: NoticeKind, title: str) -> int:
    """Leave a notice for everyone the assignment covers and queue their e-mails; return how many."""
    people = db.session.scalars(covered(assignment)).all()
    now = utcnow()
    due_on = None if kind is NoticeKind.WITHDRAWN else assignment.due_on
    if people:
        db.session.execute(insert(Notice), [
            {"user_id": p.id, "kind": kind.value, "title": title, "activity_id": assignment.activity_id,
             "due_on": due_on, "created_at": now}
            for p in people
        ])
        link = current_app.config["PUBLIC_URL"] + url_for("learn.home")
        outbox.enqueue_mails(outbox.in_their_language(people, lambda person: mail(person, kind, title, due_on, link)))
    return len(people)


def mail(person: User, kind: NoticeKind, title: str, due_on: date | None, link: str) -> tuple[str, str]:
    """The e-mail's subject and body, in the language active when it is called."""
    what = text(kind, title, due_on)
    return what, _("Hello %(name)s,\n\n%(what)s\n\nSee it on your home page: %(link)s", name=person.name, what=what, link=link)


def text(kind: str, title: str, due_on: date | None) -> str:
    """One line saying what happened, in the language active when it is called."""
    if kind == NoticeKind.ASSIGNED:
        return _("New training for you: %(title)s, due %(date)s.", title=title, date=due_on.isoformat())
    if kind == NoticeKind.DUE_CHANGED:
        return _("The due date of %(title)s is now %(date)s.", title=title, date=due_on.isoformat())
    return _("%(title)s is no longer assigned to you.", title=title)
