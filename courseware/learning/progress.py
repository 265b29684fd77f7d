"""What a learner has done, summarised for the pages that show progress."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple

from sqlalchemy import String, bindparam, select, type_coerce

from ..content import Activity, Course, Module
from ..extensions import db
from ..models import Progress, Status


class ActivityState(NamedTuple):  # a tuple, not a dataclass: a page builds one per activity of the learner
    """A learner's state on one activity. Its times are kept as the database gave them and parsed when asked
    for: a page builds a state for each of the learner's activities and shows the time of a few."""

    status: Status
    started: datetime | str | None = None
    completed: datetime | str | None = None
    score: float | None = None
    attempts: int = 0

    @property
    def started_at(self) -> datetime | None:
        return moment(self.started)

    @property
    def completed_at(self) -> datetime | None:
        return moment(self.completed)

    @property
    def last_touched(self) -> datetime | str | None:
        """When the activity was last started or completed, as stored: the values one database gives compare
        as their times do (SQLite's ISO text, always in UTC, as well as PostgreSQL's datetimes)."""
        return self.completed or self.started

    @property
    def percent(self) -> int | None:
        return None if self.score is None else int(self.score * 100 + 1e-9)


NOT_STARTED = ActivityState(Status.NOT_STARTED)


@dataclass(frozen=True)
class ModuleProgress:
    module: Module
    activities: tuple[Activity, ...]
    done: int
    state: ActivityState

    @property
    def total(self) -> int:
        return len(self.activities)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class CourseProgress:
    course: Course
    states: dict[str, ActivityState]
    modules: tuple[ModuleProgress, ...]
    next_activity: Activity | None

    def state(self, activity_id: str) -> ActivityState:
        return self.states.get(activity_id, NOT_STARTED)

    def module(self, module_id: str) -> ModuleProgress:
        return next(m for m in self.modules if m.module.id == module_id)

    @property
    def done(self) -> int:
        return sum(1 for a in self.course.activities if self.state(a.id).status is Status.COMPLETED)

    @property
    def total(self) -> int:
        return len(self.course.activities)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def completed_at(self) -> datetime | None:
        return self.state(self.course.id).completed_at


def as_read(column):
    """`column` as the driver returns it: SQLite's text is parsed by `moment`, several times faster than SQLAlchemy's parser."""
    return type_coerce(column, String)


# Built once: putting a statement together costs more than running it. Rows go to `progress_from_rows`.
PROGRESS_ROWS = select(
    Progress.activity_id, Progress.status, as_read(Progress.started_at), as_read(Progress.completed_at),
    Progress.score, Progress.attempts,
).where(Progress.user_id == bindparam("user_id"))


def learner_progress(user_id: int, course: Course) -> CourseProgress:
    """Load one learner's progress on `course` with a single query."""
    return progress_from_rows(course, db.session.connection().execute(PROGRESS_ROWS, {"user_id": user_id}))


def progress_from_rows(course: Course, rows) -> CourseProgress:
    """A learner's progress on `course` from their rows of `PROGRESS_ROWS`."""
    states = {
        activity_id: ActivityState(_STATUS[status], started, completed, score, attempts)
        for activity_id, status, started, completed, score, attempts in rows
    }
    return summarise(course, states)


_STATUS = {status.value: status for status in Status}


def moment(value: datetime | str | None) -> datetime | None:
    """A stored time, aware in UTC (SQLite gives ISO text without a zone; PostgreSQL an aware datetime)."""
    if value is None:
        return None
    if isinstance(value, str):  # at most 26 characters without a zone: parsing it with one is far cheaper than adding it after
        return datetime.fromisoformat(value + "+00:00" if len(value) <= 26 else value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def is_completed(user_id: int, activity_id: str) -> bool:
    return db.session.scalar(
        select(Progress.status).where(Progress.user_id == user_id, Progress.activity_id == activity_id)
    ) == Status.COMPLETED.value


def summarise(course: Course, states: dict[str, ActivityState]) -> CourseProgress:
    """Combine a course with a learner's activity states into per-module and overall progress."""
    completed = {activity_id for activity_id, state in states.items() if state.status is Status.COMPLETED}
    modules = []
    for module in course.modules:
        activities = course.activities_of(module)
        done = sum(1 for a in activities if a.id in completed)
        modules.append(ModuleProgress(module, activities, done, states.get(module.id, NOT_STARTED)))
    return CourseProgress(course, states, tuple(modules), _next_activity(course, states, completed))


def _next_activity(course: Course, states: dict[str, ActivityState], completed: set[str]) -> Activity | None:
    """Pick where to continue: the activity last touched if unfinished, else the next unfinished one.

    The final assessment waits until every module activity is done, unless the learner is taking it.
    """
    activities = course.activities
    unfinished = [i for i, a in enumerate(activities) if a.id not in completed]
    if not unfinished:
        return None
    touched = [
        (state.last_touched, i)
        for i, a in enumerate(activities)
        if (state := states.get(a.id)) and state.last_touched
    ]
    last = max(touched)[1] if touched else -1
    if last in unfinished:
        return activities[last]
    ahead = [i for i in unfinished if activities[i].id != course.final_quiz_id] or unfinished
    return activities[next((i for i in ahead if i > last), ahead[0])]
