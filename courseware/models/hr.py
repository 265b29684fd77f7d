"""HR's working data: assignments with due dates, staff imports, and the audit log."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .people import Department, User


class Assignment(db.Model):
    """The course or one module, assigned to a department (and its sub-departments) or a person."""

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(128))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class DueDateExtension(db.Model):
    """One person's later due date on an assignment that covers them (e.g. back from leave)."""

    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Notice(db.Model):
    """What a learner is told on their home page (and by e-mail) about an assignment: new, moved, withdrawn.

    The words are made when shown, in the reader's language; the title is kept as it was then.
    """

    __table_args__ = (Index("ix_notice_user_open", "user_id", "dismissed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(255))
    activity_id: Mapped[str] = mapped_column(String(128))
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportBatch(db.Model):
    """An uploaded staff file between its preview and its import."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[Any] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="previewed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[Any | None] = mapped_column(JSON)


class AuditEntry(db.Model):
    """Who looked at or exported whose records, when, with which filter."""

    __table_args__ = (Index("ix_audit_entry_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(64))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    detail: Mapped[Any | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_user_id])


class Certificate(db.Model):
    """Proof of completing the course, checkable by anyone with its code at /verify/<code>."""

    __table_args__ = (UniqueConstraint("user_id", "course_id", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[str] = mapped_column(String(128))
    course_title: Mapped[str] = mapped_column(String(255))
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    revision_id: Mapped[int] = mapped_column(ForeignKey("content_revision.id"))
    score: Mapped[float | None] = mapped_column()
    learning_seconds: Mapped[float | None] = mapped_column()  # credited reading time of the round (学时)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    renewal_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ReminderSent(db.Model):
    """A reminder e-mail, claimed before it is sent so that no reminder ever goes out twice."""

    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
