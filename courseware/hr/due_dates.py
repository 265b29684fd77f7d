"""One person's later due date on a department assignment (back from leave, say), leaving everyone else's.

The date a person must finish by is `assignments.effective_due_on`: their extension when it is later
than the assignment's date. An extension is granted only later than the assignment's date, and when
the date moves for everyone to or past someone's extension, that extension is dropped: it no longer
changes anything, and a later move back earlier should not bring it back.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Assignment, DueDateExtension, User, upsert, utcnow
from .notifications import covered


def covers(assignment: Assignment, person: User) -> bool:
    """Whether the assignment is set on a department that covers this active person."""
    return assignment.department_id is not None and db.session.scalar(
        covered(assignment).where(User.id == person.id).with_only_columns(User.id)
    ) is not None


def of(assignment: Assignment, person: User) -> DueDateExtension | None:
    return db.session.scalar(select(DueDateExtension).where(
        DueDateExtension.assignment_id == assignment.id, DueDateExtension.user_id == person.id
    ))


def extend(assignment: Assignment, person: User, due_on: date, by: User) -> None:
    """Give this person their own due date (replacing any extension they had), in the caller's transaction."""
    db.session.execute(
        upsert(DueDateExtension)
        .values(assignment_id=assignment.id, user_id=person.id, due_on=due_on, created_by_id=by.id)
        .on_conflict_do_update(index_elements=["assignment_id", "user_id"], set_={"due_on": due_on, "created_by_id": by.id, "created_at": utcnow()})
    )


def drop_reached(assignment: Assignment) -> int:
    """Drop the extensions the assignment's (new) date has reached; return how many."""
    return db.session.execute(delete(DueDateExtension).where(
        DueDateExtension.assignment_id == assignment.id, DueDateExtension.due_on <= assignment.due_on
    )).rowcount


def still_later(assignment: Assignment) -> dict[User, date]:
    """The active people whose own date is later than the assignment's, with that date."""
    rows = db.session.execute(
        select(User, DueDateExtension.due_on)
        .join(DueDateExtension, DueDateExtension.user_id == User.id)
        .where(DueDateExtension.assignment_id == assignment.id, DueDateExtension.due_on > assignment.due_on,
               User.active.is_(True))
    )
    return {person: due_on for person, due_on in rows}


def by_assignment(assignment_ids: list[int]) -> dict[int, list[DueDateExtension]]:
    """The extensions on these assignments, each with its person (one query), latest date first."""
    found: dict[int, list[DueDateExtension]] = defaultdict(list)
    for extension in db.session.scalars(
        select(DueDateExtension).options(joinedload(DueDateExtension.user))
        .where(DueDateExtension.assignment_id.in_(assignment_ids or [-1]))
        .order_by(DueDateExtension.due_on.desc(), DueDateExtension.id)
    ):
        found[extension.assignment_id].append(extension)
    return found
