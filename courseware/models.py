"""Typed database models: people, published content revisions, and learner records."""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC and always read them back aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Role(enum.StrEnum):
    TRAINEE = "trainee"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"


class Department(db.Model):
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))

    parent: Mapped[Department | None] = relationship(remote_side="Department.id")

    @classmethod
    def named(cls, name: str) -> Department:
        """Return the top-level department called `name`, creating it if needed (not committed)."""
        department = db.session.scalar(
            select(cls).where(cls.name == name, cls.parent_id.is_(None))
        )
        if department is None:
            department = cls(name=name)
            db.session.add(department)
            db.session.flush()
        return department


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def roles(self) -> set[Role]:
        return {Role(row.role) for row in self.role_rows}

    @roles.setter
    def roles(self, roles: set[Role] | list[Role]) -> None:
        wanted = {Role(role) for role in roles}
        self.role_rows = [row for row in self.role_rows if row.role in wanted]
        present = {row.role for row in self.role_rows}
        self.role_rows.extend(UserRole(role=role.value) for role in wanted - present)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(select(cls).where(cls.email == cls.normalise_email(email)))


class UserRole(db.Model):
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class ContentRevision(db.Model):
    """One compiled, validated state of the whole course; the newest published one is live."""

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    source_hash: Mapped[str] = mapped_column(String(64), index=True)
    compiled: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    files: Mapped[list[RevisionFile]] = relationship(
        cascade="all, delete-orphan", order_by="RevisionFile.path"
    )

    @classmethod
    def live(cls, *columns):
        """Select the published revision learners see now (or just `columns` of it)."""
        return (
            select(*(columns or (cls,)))
            .where(cls.published_at.is_not(None))
            .order_by(cls.published_at.desc(), cls.id.desc())
            .limit(1)
        )


class RevisionFile(db.Model):
    """A source file (Markdown or YAML) exactly as it was published in a revision."""

    __table_args__ = (UniqueConstraint("revision_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("content_revision.id", ondelete="CASCADE")
    )
    path: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)


class LearningRecord(db.Model):
    """An append-only, xAPI-shaped statement of something a learner did."""

    __table_args__ = (
        Index("ix_learning_record_user_time", "user_id", "timestamp"),
        Index("ix_learning_record_object", "object_id", "verb"),
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


class Progress(db.Model):
    """A learner's current state on one activity (lesson, module or course): what dashboards read."""

    __table_args__ = (
        UniqueConstraint("user_id", "activity_id"),
        Index("ix_progress_activity_status", "activity_id", "status"),
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


class ScenarioRun(NumberedTry, db.Model):
    """One play-through of a role-play scenario."""

    __table_args__ = (UniqueConstraint("user_id", "scenario_id", "number"),)

    scenario_id: Mapped[str] = mapped_column(String(128), index=True)
    ending_id: Mapped[str | None] = mapped_column(String(128))
    profile: Mapped[dict | None] = mapped_column(JSON)
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
