"""What a learner has done, summarised for the pages that show progress."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .content import Course, Lesson, Module
from .extensions import db
from .models import Progress, Status


@dataclass(frozen=True)
class ActivityState:
    status: Status
    started_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def last_touched(self) -> datetime | None:
        return self.completed_at or self.started_at


NOT_STARTED = ActivityState(Status.NOT_STARTED)


@dataclass(frozen=True)
class ModuleProgress:
    module: Module
    done: int
    state: ActivityState

    @property
    def total(self) -> int:
        return len(self.module.lessons)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class CourseProgress:
    course: Course
    states: dict[str, ActivityState]
    modules: tuple[ModuleProgress, ...]
    next_lesson: Lesson | None

    def state(self, activity_id: str) -> ActivityState:
        return self.states.get(activity_id, NOT_STARTED)

    def module(self, module_id: str) -> ModuleProgress:
        return next(m for m in self.modules if m.module.id == module_id)

    @property
    def done(self) -> int:
        return sum(m.done for m in self.modules)

    @property
    def total(self) -> int:
        return sum(m.total for m in self.modules)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def completed_at(self) -> datetime | None:
        return self.state(self.course.id).completed_at


def learner_progress(user_id: int, course: Course) -> CourseProgress:
    """Load one learner's progress on `course` with a single query."""
    rows = db.session.execute(
        select(Progress.activity_id, Progress.status, Progress.started_at, Progress.completed_at)
        .where(Progress.user_id == user_id)
    )
    states = {
        activity_id: ActivityState(Status(status), started_at, completed_at)
        for activity_id, status, started_at, completed_at in rows
    }
    return summarise(course, states)


def summarise(course: Course, states: dict[str, ActivityState]) -> CourseProgress:
    """Combine a course with a learner's activity states into per-module and overall progress."""
    modules = tuple(
        ModuleProgress(
            module=module,
            done=sum(
                1
                for lesson in module.lessons
                if states.get(lesson.id, NOT_STARTED).status is Status.COMPLETED
            ),
            state=states.get(module.id, NOT_STARTED),
        )
        for module in course.modules
    )
    return CourseProgress(course, states, modules, _next_lesson(course, states))


def _next_lesson(course: Course, states: dict[str, ActivityState]) -> Lesson | None:
    """Pick where to continue: the lesson last opened if unfinished, else the next unfinished one."""
    lessons = course.lessons
    unfinished = [
        i for i, lesson in enumerate(lessons)
        if states.get(lesson.id, NOT_STARTED).status is not Status.COMPLETED
    ]
    if not unfinished:
        return None
    touched = [
        (state.last_touched, i)
        for i, lesson in enumerate(lessons)
        if (state := states.get(lesson.id)) and state.last_touched
    ]
    if not touched:
        return lessons[unfinished[0]]
    _, last = max(touched)
    after = next((i for i in unfinished if i >= last), unfinished[0])
    return lessons[after]
