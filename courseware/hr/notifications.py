"""Telling learners about their assignments: a notice on their home page and an e-mail, when HR assigns,
moves the due date or withdraws; and, for a department's assignment, a post to each group robot of the
departments it covers. Written in bulk, in the caller's transaction (the outbox sends them)."""
from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import date

from flask import current_app, url_for
from flask_babel import force_locale
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
    EXTENDED = "extended"


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


def notify(assignment: Assignment, kind: NoticeKind, title: str, leave_out: Collection[int] = ()) -> int:
    """Leave a notice for everyone the assignment covers (but the ids in `leave_out`), queue their
    e-mails and the group robots' posts; return how many people were told."""
    people = [person for person in db.session.scalars(covered(assignment)) if person.id not in leave_out]
    due_on = None if kind is NoticeKind.WITHDRAWN else assignment.due_on
    notify_each(assignment, kind, title, dict.fromkeys(people, due_on))
    link = current_app.config["PUBLIC_URL"] + url_for("learn.home")
    if assignment.department_id is not None:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            outbox.enqueue_robot_posts(
                (department.id, robot_text(kind, title, due_on, department.name, covered_in(department, people), link))
                for department in db.session.scalars(with_robots(assignment.department_id))
            )
    return len(people)


def with_robots(department_id: int) -> Select:
    """The department and those below it that have a group robot."""
    top = aliased(Department)
    return (
        select(Department)
        .join(top, top.id == department_id)
        .where(Department.lineage.startswith(top.lineage), Department.robot_kind.is_not(None), Department.robot_url.is_not(None))
        .order_by(Department.id)
    )


def covered_in(department: Department, people: list[User]) -> int:
    return sum(1 for person in people if person.department.lineage.startswith(department.lineage))


def robot_text(kind: str, title: str, due_on: date | None, department: str, count: int, link: str) -> str:
    """A group robot's post: what happened to the department, how many people it covers, and the link."""
    if kind == NoticeKind.ASSIGNED:
        what = _("New training for %(department)s: %(title)s, due %(date)s.", department=department, title=title, date=due_on.isoformat())
    elif kind == NoticeKind.DUE_CHANGED:
        what = _("The due date of %(title)s for %(department)s is now %(date)s.", title=title, department=department, date=due_on.isoformat())
    else:
        what = _("%(title)s is no longer assigned to %(department)s.", title=title, department=department)
    return "\n".join([what, _("People covered: %(num)d", num=count), _("Open Courseware: %(link)s", link=link)])


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
    if kind == NoticeKind.EXTENDED:
        return _("Your due date for %(title)s is now %(date)s.", title=title, date=due_on.isoformat())
    return _("%(title)s is no longer assigned to you.", title=title)


def notify_each(assignment: Assignment, kind: NoticeKind, title: str, due_dates: dict[User, date | None]) -> None:
    """Leave a notice for each of these people about their own due date (None: withdrawn), and queue their e-mails."""
    if not due_dates:
        return
    now = utcnow()
    db.session.execute(insert(Notice), [
        {"user_id": p.id, "kind": kind.value, "title": title, "activity_id": assignment.activity_id,
         "due_on": due_on, "created_at": now}
        for p, due_on in due_dates.items()
    ])
    link = current_app.config["PUBLIC_URL"] + url_for("learn.home")
    outbox.enqueue_mails(outbox.in_their_language(due_dates, lambda person: mail(person, kind, title, due_dates[person], link)))
