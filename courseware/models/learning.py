"""What learners did: append-only records, current progress, quiz attempts and scenario runs."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class LearningRecord(db.Model):
    """An append-only, xAPI-shaped statement of something a learner did."""

    __table_args__ = (
        Index("ix_learning_record_user_time", "user_id", "timestamp"),
        Index("ix_learning_record_object", "object_id", "verb"),
        # covers the trainer's per-lesson analytics (readers, completions, time to complete); only lessons'
        # records are in it, so a quiz submit's dozen records of answers do not write a dozen pages of it
        Index("ix_learning_record_lessons", "object_kind", "verb", "object_id", "user_id", "timestamp",
              sqlite_where=text("object_kind = 'lesson'"), postgresql_where=text("object_kind = 'lesson'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    verb: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(128))
    object_kind: Mapped[str] = mapped_column(String(16))
    revision_id: Mapped[int] = mapped_column(ForeignKey("content_revision.id"))
    attempt_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict | None] = mapped_column(JSON)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

# The condition of that index as a query must write it for either database's planner to use the index:
# the same text, the kind a literal rather than a parameter.
OF_LESSONS = LearningRecord.object_kind == literal_column("'lesson'")


class Progress(db.Model):
    """A learner's current state on one activity (lesson, module or course): what dashboards read."""

    __table_args__ = (
        UniqueConstraint("user_id", "activity_id"),
        Index("ix_progress_activity_status", "activity_id", "status"),
        Index("ix_progress_kind_completed_at", "kind", "completed_at"),  # HR's latest completions
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    activity_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    module_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    revision_id: Mapped[int] = mapped_column(ForeignKey("content_revision.id"))
    score: Mapped[float | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

class Status(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Verb(enum.StrEnum):
    """What a learning record says the learner did: the xAPI verb http://adlnet.gov/expapi/verbs/<value>."""

    EXPERIENCED = "experienced"
    ATTEMPTED = "attempted"
    ANSWERED = "answered"
    RESPONDED = "responded"
    PASSED = "passed"
    FAILED = "failed"
    COMPLETED = "completed"

class NumberedTry:
    """Columns shared by quiz attempts and scenario runs: the learner's n-th go, on one revision."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    revision_id: Mapped[int] = mapped_column(ForeignKey("content_revision.id"))
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

class QuizAttempt(NumberedTry, db.Model):
    """One attempt at a quiz, pinned to the content revision the learner saw."""

    __table_args__ = (UniqueConstraint("user_id", "quiz_id", "number"),)

    quiz_id: Mapped[str] = mapped_column(String(128), index=True)
    score: Mapped[float | None] = mapped_column()
    passed: Mapped[bool | None] = mapped_column(Boolean)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the questions this attempt asks, drawn from the quiz's pools when it began (NULL: every question)
    question_ids: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))

    answers: Mapped[list[QuizAnswer]] = relationship(lazy="selectin", order_by="QuizAnswer.id")

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"

    def answer_map(self) -> dict[str, Any]:
        return {row.question_id: row.answer for row in self.answers}

class QuizAnswer(db.Model):
    """A learner's answer to one question of an attempt, saved as they go."""

    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(128))
    answer: Mapped[Any] = mapped_column(JSON)
    fraction: Mapped[float | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

ELEMENT_COLUMNS = {"沟通": "communication", "理解": "understanding", "协作": "collaboration", "反馈": "feedback"}


def element_columns(profile: dict[str, int]) -> dict[str, int]:
    """Column values for a finished run's totals on the four core elements (keyed 沟通…反馈)."""
    return {column: profile[element] for element, column in ELEMENT_COLUMNS.items()}


class ScenarioRun(NumberedTry, db.Model):
    """One play-through of a role-play scenario."""

    __table_args__ = (UniqueConstraint("user_id", "scenario_id", "number"),)

    scenario_id: Mapped[str] = mapped_column(String(128), index=True)
    ending_id: Mapped[str | None] = mapped_column(String(128))
    communication: Mapped[int | None] = mapped_column(Integer)
    understanding: Mapped[int | None] = mapped_column(Integer)
    collaboration: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    steps: Mapped[list[ScenarioStep]] = relationship(lazy="selectin", order_by="ScenarioStep.step")

    @property
    def choice_ids(self) -> list[str]:
        return [step.choice_id for step in self.steps]


class ScenarioStep(db.Model):
    """A choice made in a run: which node, which choice, in which order."""

    __table_args__ = (
        UniqueConstraint("run_id", "step"),
        Index("ix_scenario_step_node_choice", "node_id", "choice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("scenario_run.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(128))
    choice_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonTime(db.Model):
    """Seconds of reading credited to a learner on one lesson in one round of the course.

    `last_seen_at` is when the lesson was last seen open (opening, a heartbeat, a completion
    attempt); None while its page is hidden. Credit is wall-clock time per lesson, whatever the tabs.
    """

    __table_args__ = (UniqueConstraint("user_id", "lesson_id", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    lesson_id: Mapped[str] = mapped_column(String(128))
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    seconds: Mapped[float] = mapped_column(default=0.0)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
