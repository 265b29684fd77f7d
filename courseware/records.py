"""The one door for writing learner activity.

Every action writes, in one transaction, an append-only `LearningRecord` and updates the
learner's `Progress` rows. Each record carries an idempotency key, so a double click, a retry or
two workers racing write it once.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .content import Lesson, Module
from .extensions import db
from .models import LearningRecord, Progress, Status, User, utcnow
from .publishing import LiveCourse

EXPERIENCED = "experienced"
COMPLETED = "completed"

_DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert(model: type):
    return _DIALECT_INSERT[db.session.get_bind().dialect.name](model)


def _append_record(
    user: User,
    verb: str,
    object_id: str,
    object_kind: str,
    revision_id: int,
    key: str,
    now: datetime,
    result: dict[str, Any] | None = None,
    attempt_id: str | None = None,
) -> bool:
    """Append a record unless one with the same key exists; tell whether it was written."""
    statement = (
        _insert(LearningRecord)
        .values(
            statement_id=str(uuid.uuid4()),
            idempotency_key=key,
            user_id=user.id,
            verb=verb,
            object_id=object_id,
            object_kind=object_kind,
            revision_id=revision_id,
            attempt_id=attempt_id,
            result=result,
            timestamp=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(LearningRecord.id)
    )
    return db.session.execute(statement).scalar() is not None


def _mark(
    user: User,
    activity_id: str,
    kind: str,
    module_id: str | None,
    revision_id: int,
    status: Status,
    now: datetime,
) -> None:
    """Move a Progress row forward to `status`; never backwards (completed stays completed)."""
    values = dict(
        user_id=user.id,
        activity_id=activity_id,
        kind=kind,
        module_id=module_id,
        status=status.value,
        revision_id=revision_id,
        attempts=0,
        started_at=now,
        completed_at=now if status is Status.COMPLETED else None,
        updated_at=now,
    )
    statement = _insert(Progress).values(**values)
    if status is Status.COMPLETED:
        statement = statement.on_conflict_do_update(
            index_elements=["user_id", "activity_id"],
            set_=dict(status=status.value, completed_at=now, updated_at=now, revision_id=revision_id),
            where=Progress.status != Status.COMPLETED.value,
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["user_id", "activity_id"])
    db.session.execute(statement)


def _start(user: User, live: LiveCourse, module: Module, lesson: Lesson, now: datetime) -> bool:
    created = _append_record(
        user, EXPERIENCED, lesson.id, "lesson", live.revision_id, f"experienced:{user.id}:{lesson.id}", now
    )
    for activity_id, kind, module_id in (
        (live.course.id, "course", None),
        (module.id, "module", None),
        (lesson.id, "lesson", module.id),
    ):
        _mark(user, activity_id, kind, module_id, live.revision_id, Status.IN_PROGRESS, now)
    return created


def open_lesson(user: User, live: LiveCourse, lesson: Lesson) -> bool:
    """Record that the learner opened a lesson (the first time only)."""
    module = live.course.module(lesson.module_id)
    created = _start(user, live, module, lesson, utcnow())
    db.session.commit()
    return created


def complete_lesson(user: User, live: LiveCourse, lesson: Lesson) -> bool:
    """Record a completed lesson, then the module and course if their rules now hold.

    Returns whether the lesson's completion was new.
    """
    now = utcnow()
    course = live.course
    module = course.module(lesson.module_id)
    _start(user, live, module, lesson, now)
    created = _append_record(
        user, COMPLETED, lesson.id, "lesson", live.revision_id, f"completed:{user.id}:{lesson.id}", now
    )
    _mark(user, lesson.id, "lesson", module.id, live.revision_id, Status.COMPLETED, now)
    _complete_rollups(user, live, module, now)
    db.session.commit()
    return created


def _complete_rollups(user: User, live: LiveCourse, module: Module, now: datetime) -> None:
    completed = set(
        db.session.scalars(
            select(Progress.activity_id).where(
                Progress.user_id == user.id, Progress.status == Status.COMPLETED.value
            )
        )
    )
    if not module.completion.is_met(module, completed):
        return
    _finish(user, live, module.id, "module", now)
    completed.add(module.id)
    course = live.course
    if all(m.id in completed for m in course.modules):
        _finish(user, live, course.id, "course", now)


def _finish(user: User, live: LiveCourse, activity_id: str, kind: str, now: datetime) -> None:
    _append_record(
        user, COMPLETED, activity_id, kind, live.revision_id, f"completed:{user.id}:{activity_id}", now
    )
    _mark(user, activity_id, kind, None, live.revision_id, Status.COMPLETED, now)
