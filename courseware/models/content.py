"""Course content: published revisions of the whole course, their source files and media, and trainers' drafts."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .people import User


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

    created_by: Mapped[User | None] = relationship()
    files: Mapped[list[RevisionFile]] = relationship(
        cascade="all, delete-orphan", order_by="RevisionFile.path"
    )
    media: Mapped[list[RevisionMedia]] = relationship(
        cascade="all, delete-orphan", order_by="RevisionMedia.name"
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


class DraftFile(db.Model):
    """A trainer's unpublished change to one course file, shared by every trainer until published.

    `text` is None when the draft deletes the file. `base_revision_id` is the live revision the
    change was made against, so a change made meanwhile by someone else is noticed. `version`
    grows with each save, so two trainers saving the same file cannot overwrite each other unseen.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(255), unique=True)
    text: Mapped[str | None] = mapped_column(Text)
    base_revision_id: Mapped[int | None] = mapped_column(ForeignKey("content_revision.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    updated_by: Mapped[User | None] = relationship()


class MediaBlob(db.Model):
    """The bytes of one picture or file of the course, keyed by their SHA-256: stored once, whatever names and revisions use them.

    `content_type` was sniffed from the bytes when they were first stored (see content/media.py).
    """

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevisionMedia(db.Model):
    """A picture or file, by its name in media/, as it was published in a revision."""

    __table_args__ = (UniqueConstraint("revision_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("content_revision.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(ForeignKey("media_blob.sha256"), index=True)


class DraftMedia(db.Model):
    """A trainer's unpublished change to one picture or file, shared like `DraftFile`.

    `sha256` is None when the draft deletes the file; `base_revision_id` and `version` work as in `DraftFile`.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sha256: Mapped[str | None] = mapped_column(ForeignKey("media_blob.sha256"))
    base_revision_id: Mapped[int | None] = mapped_column(ForeignKey("content_revision.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    updated_by: Mapped[User | None] = relationship()
