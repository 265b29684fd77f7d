"""Published content: revisions of the whole course and their source files."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


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
