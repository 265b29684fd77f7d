"""Assignments: what a learner must complete by when, and where each learner stands."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Assignment, Status, User
from ..people.departments import tree

COMPLETED, OVERDUE, IN_PROGRESS, NOT_STARTED = "completed", "overdue", "in_progress", "not_started"


def today() -> date:
    """Today in the organisation's time zone (due dates are calendar days there)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def status(progress: Status | None, due_on: date, on: date) -> str:
    """Where a learner stands on an assignment: completed, overdue, in progress or not started."""
    if progress is Status.COMPLETED:
        return COMPLETED
    if on > due_on:
        return OVERDUE
    return IN_PROGRESS if progress is Status.IN_PROGRESS else NOT_STARTED


def for_learner(user: User) -> list[Assignment]:
    """Assignments for this person, directly or through their department or any above it."""
    nodes = {node.id: node for node in tree()}
    ancestors, current = [], nodes.get(user.department_id)
    while current is not None:
        ancestors.append(current.id)
        current = nodes.get(current.parent_id)
    return list(
        db.session.scalars(
            select(Assignment)
            .where(or_(Assignment.user_id == user.id, Assignment.department_id.in_(ancestors)))
            .order_by(Assignment.due_on)
        )
    )
