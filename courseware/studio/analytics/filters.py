"""Which records a figure counts: a date range and a set of departments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from sqlalchemy import select

from ...models import User
from ...people.departments import DepartmentNode, with_descendants
from ...people.scope import in_departments


@dataclass(frozen=True)
class Filter:
    """Which records count: made from `start` to `end` (local dates in `tz`, both inclusive; None: open)
    by learners in `department_ids` (None: everyone)."""

    start: date | None = None
    end: date | None = None
    department_ids: frozenset[int] | None = None
    tz: tzinfo = timezone.utc

    def during(self, column) -> list:
        """Conditions keeping `column` (an aware timestamp) within the date range."""
        conditions = []
        if self.start is not None:
            conditions.append(column >= datetime.combine(self.start, time.min, self.tz))
        if self.end is not None:
            conditions.append(column < datetime.combine(self.end + timedelta(days=1), time.min, self.tz))
        return conditions

    def by(self, user_column) -> list:
        """Conditions keeping `user_column` to learners in the chosen departments."""
        if self.department_ids is None:
            return []
        return [user_column.in_(in_departments(select(User.id), set(self.department_ids)))]


def departments_for(
    department_id: int | None, visible: set[int] | None, nodes: list[DepartmentNode] | None = None
) -> frozenset[int] | None:
    """Return the departments a filter covers: the chosen one and those below it, within `visible`."""
    if department_id is None:
        return None if visible is None else frozenset(visible)
    chosen = with_descendants({department_id}, nodes)
    return frozenset(chosen if visible is None else chosen & visible)


def share(count: int | float, total: int) -> float | None:
    return count / total if total else None
