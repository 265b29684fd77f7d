"""Assignments: what a learner must complete by when, and where each learner stands."""
from __future__ import annotations

import enum
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, Exists, Row, Select, and_, bindparam, case, exists, or_, select
from sqlalchemy.orm import aliased, contains_eager

from ..extensions import db
from ..models import Assignment, Department, DueDateExtension, Status, User


class AssignmentStatus(enum.StrEnum):
    """Where a learner stands on an assignment: a progress `Status`, or overdue once the due date passed."""

    NOT_STARTED = Status.NOT_STARTED.value
    IN_PROGRESS = Status.IN_PROGRESS.value
    COMPLETED = Status.COMPLETED.value
    OVERDUE = "overdue"


def today() -> date:
    """Today in the organisation's time zone (due dates are calendar days there)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def status(progress: Status | None, due_on: date, on: date) -> AssignmentStatus:
    """Where a learner stands on an assignment on the day `on`."""
    if progress is Status.COMPLETED:
        return AssignmentStatus.COMPLETED
    if on > due_on:
        return AssignmentStatus.OVERDUE
    return AssignmentStatus.IN_PROGRESS if progress is Status.IN_PROGRESS else AssignmentStatus.NOT_STARTED


def extension_of(user_id) -> ColumnElement[bool]:
    """Join condition: the extension `user_id` holds on `Assignment`, if any (use with an outer join)."""
    return and_(DueDateExtension.assignment_id == Assignment.id, DueDateExtension.user_id == user_id)


def effective_due_on() -> ColumnElement[date]:
    """The date one person must finish an assignment by, over `Assignment` outer-joined with `extension_of`.

    Their extension when it is later than the assignment's date, else the assignment's: moving the
    date for everyone never makes anyone's date earlier. An extension is only ever granted later than
    the assignment's date, and one the assignment's date reaches is dropped when that date moves.
    """
    return case((DueDateExtension.due_on > Assignment.due_on, DueDateExtension.due_on), else_=Assignment.due_on)


def _learners_own() -> ColumnElement[bool]:
    """SQL condition on `Assignment`: set on the person `:user_id` or on their department `:department_id` or any above it."""
    home, above = aliased(Department), aliased(Department)
    ancestors = select(above.id).join(home, home.lineage.startswith(above.lineage)).where(home.id == bindparam("department_id"))
    return or_(Assignment.user_id == bindparam("user_id"), Assignment.department_id.in_(ancestors))


def _for_learner() -> Select:
    due_on = effective_due_on()
    return (
        select(Assignment.activity_id, due_on.label("due_on"))
        .outerjoin(DueDateExtension, extension_of(bindparam("user_id")))
        .where(_learners_own())
        .order_by(due_on, Assignment.id)
    )


def any_for_learner() -> Exists:
    """SQL: whether `for_learner` would find anything for `:user_id` in `:department_id`."""
    return exists(select(Assignment.id).where(_learners_own()))


_FOR_LEARNER = _for_learner()  # built once: the trainee's home runs it on every view


def for_learner(user: User) -> list[Row[tuple[str, date]]]:
    """(activity id, this person's due date) for each of their assignments, directly or through their
    department or any above it, soonest first."""
    return db.session.connection().execute(_FOR_LEARNER, {"user_id": user.id, "department_id": user.department_id}).all()


def in_scope(department_ids: set[int] | None, set_on: set[int] | None = None) -> Select:
    """Select the assignments HR may see, latest due date first, each with its person (one query).

    Those for a person in `department_ids`, and those set on a department in `set_on` (default: the
    same departments); `department_ids` None means every assignment.
    """
    statement = (
        select(Assignment)
        .outerjoin(Assignment.user)
        .options(contains_eager(Assignment.user).lazyload("*"))
        .order_by(Assignment.due_on.desc())
    )
    if department_ids is None:
        return statement
    set_on = department_ids if set_on is None else set_on
    return statement.where(or_(
        User.department_id.in_(department_ids or {-1}),
        and_(Assignment.user_id.is_(None), Assignment.department_id.in_(set_on or {-1})),
    ))
