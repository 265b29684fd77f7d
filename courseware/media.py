"""The course's pictures and files in the database: bytes stored once by SHA-256, named per revision.

A revision maps names (`media/<name>` in Markdown) to blobs; the compiler is told each name's
address, which holds the blob's hash, so a browser may keep it for good.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from flask import Response, abort, request
from sqlalchemy import select

from .content.media import NAME, kind_of
from .extensions import db
from .models import MediaBlob, RevisionMedia, upsert, utcnow

PUBLIC_URL = "/media/{sha256}/{name}"  # the route of learning/media.py: any signed-in user, live revision only
DRAFT_URL = "/studio/media/{sha256}/{name}"  # the studio's: trainers, any stored blob (drafts, older revisions)
SHA256 = re.compile(r"[0-9a-f]{64}")
CACHE_FOR = 365 * 24 * 3600  # the address holds the hash: what it names never changes


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(name: str, data: bytes) -> str:
    """Keep `data` (already checked as the file `name`) unless the same bytes are stored; return its SHA-256.

    Runs in the caller's transaction; two trainers storing the same bytes at once both succeed.
    """
    sha256 = digest(data)
    kind = kind_of(name)
    db.session.execute(
        upsert(MediaBlob)
        .values(sha256=sha256, content_type=kind.content_type if kind else "application/octet-stream", size=len(data), data=data, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return sha256


def urls(media: Mapping[str, str], template: str = PUBLIC_URL) -> dict[str, str]:
    """Name → address, for the compiler: `template` filled with each file's hash and name."""
    return {name: template.format(sha256=sha256, name=name) for name, sha256 in media.items()}


def revision_media(revision_id: int | None) -> dict[str, str]:
    """Name → SHA-256 of the pictures and files in a revision."""
    if revision_id is None:
        return {}
    rows = db.session.execute(
        select(RevisionMedia.name, RevisionMedia.sha256).where(RevisionMedia.revision_id == revision_id)
    )
    return {name: sha256 for name, sha256 in rows}


def sizes(hashes: set[str]) -> dict[str, tuple[int, str]]:
    """SHA-256 → (size, content type), without loading the bytes."""
    if not hashes:
        return {}
    rows = db.session.execute(
        select(MediaBlob.sha256, MediaBlob.size, MediaBlob.content_type).where(MediaBlob.sha256.in_(hashes))
    )
    return {sha256: (size, content_type) for sha256, size, content_type in rows}


def contents(media: Mapping[str, str]) -> dict[str, bytes]:
    """Name → bytes, for an export."""
    hashes = set(media.values())
    if not hashes:
        return {}
    data = {sha256: blob for sha256, blob in db.session.execute(select(MediaBlob.sha256, MediaBlob.data).where(MediaBlob.sha256.in_(hashes)))}
    return {name: data[sha256] for name, sha256 in media.items() if sha256 in data}


def in_revision(revision_id: int | None, sha256: str, name: str) -> MediaBlob | None:
    """The blob published as `name` in the revision, or None."""
    if revision_id is None:
        return None
    return db.session.scalar(
        select(MediaBlob)
        .join(RevisionMedia, RevisionMedia.sha256 == MediaBlob.sha256)
        .where(RevisionMedia.revision_id == revision_id, RevisionMedia.name == name, MediaBlob.sha256 == sha256)
    )


def blob(sha256: str) -> MediaBlob | None:
    return db.session.get(MediaBlob, sha256)


def checked_address(sha256: str, name: str) -> None:
    """Answer 404 to an address no stored file can have (before asking the database)."""
    if not SHA256.fullmatch(sha256) or not NAME.fullmatch(name) or kind_of(name) is None:
        abort(404)


def response(blob: MediaBlob, name: str) -> Response:
    """Send a stored picture or file: its sniffed type, never sniffed again by the browser, kept for a year.

    Pictures are shown in the page; anything else is downloaded, never opened as a page of this site.
    """
    kind = kind_of(name)
    picture = kind is not None and kind.image and blob.content_type.startswith("image/")
    sent = Response(blob.data, mimetype=blob.content_type)
    sent.headers["X-Content-Type-Options"] = "nosniff"
    sent.headers["Cache-Control"] = f"private, max-age={CACHE_FOR}, immutable"
    sent.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    sent.headers["Content-Disposition"] = f'{"inline" if picture else "attachment"}; filename="{name}"'
    sent.set_etag(blob.sha256)
    return sent.make_conditional(request)
