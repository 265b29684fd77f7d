"""Publish compiled courses as database revisions, and serve the live one from a per-worker cache."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from flask import current_app, g
from sqlalchemy import select

from . import learner_gains
from .content import Course, compile_sources, decode_sources, source_hash
from .content.compiler import Sources
from .extensions import db
from .media import urls
from .models import ContentRevision, RevisionFile, RevisionMedia, User, utcnow


@dataclass(frozen=True)
class LiveCourse:
    revision_id: int
    course: Course
    pieces: dict = field(default_factory=dict, compare=False, repr=False)

    def piece(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What `build()` makes for `key`, built once for this revision in this worker.

        For the parts of pages that are the same for every learner (links, titles, labels in a
        locale): a publish brings a new LiveCourse, so nothing built from an older revision is served.
        """
        found = self.pieces.get(key)
        if found is None:
            found = self.pieces[key] = build()
        return found


@dataclass(frozen=True)
class PublishResult:
    revision: ContentRevision
    created: bool


def publish(
    files: Sources, *, media: Mapping[str, str] | None = None, by: User | None = None, note: str = ""
) -> PublishResult:
    """Compile `files` with the pictures and files `media` (name → SHA-256 of a stored blob) and make them the live course, all-or-nothing.

    Raises `CourseInvalid` (nothing written) when any file has an error. Publishing the same
    files and media as the live revision writes nothing.
    """
    media = dict(media or {})
    course = compile_sources(files, urls(media))
    texts, _ = decode_sources(files)
    digest = source_hash(texts, media)
    live = db.session.scalar(ContentRevision.live())
    if live is not None and live.source_hash == digest:
        return PublishResult(live, created=False)
    revision = ContentRevision(
        course_id=course.id,
        source_hash=digest,
        compiled=course.to_dict(),
        note=note,
        created_by_id=by.id if by else None,
        published_at=utcnow(),
        files=[RevisionFile(path=path, text=text) for path, text in sorted(texts.items())],
        media=[RevisionMedia(name=name, sha256=sha256) for name, sha256 in sorted(media.items())],
    )
    db.session.add(revision)
    if live is None or learner_gains.basis(course) != learner_gains.basis(_course_of(live)):
        learner_gains.refresh_all(course)
    db.session.commit()
    current_app.extensions.get("courseware.live_course", {}).pop("recheck_at", None)
    g.pop("live_course", None)
    return PublishResult(revision, created=True)


def _course_of(revision: ContentRevision) -> Course:
    """The course of a published revision: this worker's copy when it is the live one, else built again."""
    cached = current_app.extensions.get("courseware.live_course", {}).get("live")
    return cached.course if cached is not None and cached.revision_id == revision.id else Course.from_dict(revision.compiled)


class NoCoursePublished(Exception):
    """Raised by pages that need a course when none is published yet; shown as a friendly page."""


def require_live_course() -> LiveCourse:
    """Return the published course, or raise NoCoursePublished."""
    live = live_course()
    if live is None:
        raise NoCoursePublished
    return live


_cache_lock = Lock()


def live_course() -> LiveCourse | None:
    """Return the published course, rebuilding this worker's copy only when the revision changed.

    A worker asks the database which revision is live at most every CONTENT_CHECK_SECONDS, so a
    publish reaches every worker within that time (at once in the worker that published).
    """
    if "live_course" in g:
        return g.live_course
    cache: dict = current_app.extensions.setdefault("courseware.live_course", {})
    live = cache.get("live")
    now = time.monotonic()
    if live is not None and now < cache.get("recheck_at", 0.0):
        g.live_course = live
        return live
    revision_id = db.session.scalar(ContentRevision.live(ContentRevision.id))
    cache["recheck_at"] = now + current_app.config.get("CONTENT_CHECK_SECONDS", 0)
    if revision_id is None:
        live = None
    elif live is None or live.revision_id != revision_id:
        with _cache_lock:
            compiled = db.session.scalar(
                select(ContentRevision.compiled).where(ContentRevision.id == revision_id)
            )
            live = LiveCourse(revision_id, Course.from_dict(compiled))
            cache["live"] = live
    g.live_course = live
    return live


def course_at(revision_id: int) -> Course:
    """Return the course as it was in `revision_id` (for attempts made against an older revision)."""
    live = live_course()
    if live is not None and live.revision_id == revision_id:
        return live.course
    cache: dict = current_app.extensions.setdefault("courseware.old_courses", {})
    if revision_id not in cache:
        compiled = db.session.scalar(
            select(ContentRevision.compiled).where(ContentRevision.id == revision_id)
        )
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        cache[revision_id] = Course.from_dict(compiled)
    return cache[revision_id]
