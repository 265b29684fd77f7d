"""Trainers' drafts: unpublished changes to course files, published all-or-nothing or discarded.

There is one shared draft of the course. Each changed file is a `DraftFile`, each changed picture or
file of media/ a `DraftMedia`; the working copy is the live revision's files and media with the
drafts laid over them. Learners only ever see the live revision.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..content import Course, CourseInvalid, compile_sources
from ..content.archive import QUIZ_FOLDER, course_folder
from ..content.compiler import AIDS_FOLDER
from ..content.errors import N_, ContentError, Refused
from ..content.media import MEDIA_FOLDER
from ..extensions import db
from ..media import DRAFT_URL, revision_media, urls
from ..models import ContentRevision, DraftFile, DraftMedia, Progress, RevisionFile, User, utcnow
from ..publishing import PublishResult, publish

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MARKDOWN, YAML = ".md", (".yaml", ".yml")


class DraftConflict(Exception):
    """Someone else saved this file after the editor loaded it; nothing was overwritten."""

    def __init__(self, current: DraftFile | None):
        self.current = current
        super().__init__("the draft changed since it was opened")


class StaleDrafts(Exception):
    """Files changed in the live course after these drafts were started from an older version."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        super().__init__(", ".join(paths))


class NothingToPublish(Exception):
    """There are no drafts."""


def normalise_text(text: str) -> str:
    """Line endings as the files keep them (browsers send CRLF from text areas)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def live_revision_id() -> int | None:
    return db.session.scalar(ContentRevision.live(ContentRevision.id))


def revision_files(revision_id: int | None) -> dict[str, str]:
    if revision_id is None:
        return {}
    rows = db.session.execute(select(RevisionFile.path, RevisionFile.text).where(RevisionFile.revision_id == revision_id))
    return {path: text for path, text in rows}


def file_text(revision_id: int | None, path: str) -> str | None:
    """One file's text in a revision (None: not in it)."""
    if revision_id is None:
        return None
    return db.session.scalar(
        select(RevisionFile.text).where(RevisionFile.revision_id == revision_id, RevisionFile.path == path)
    )


def live_files() -> dict[str, str]:
    return revision_files(live_revision_id())


def drafts() -> list[DraftFile]:
    return list(db.session.scalars(select(DraftFile).order_by(DraftFile.path)))


def draft_of(path: str) -> DraftFile | None:
    return db.session.scalar(select(DraftFile).where(DraftFile.path == path))


def working_files(live: dict[str, str] | None = None, rows: list[DraftFile] | None = None) -> dict[str, str]:
    """The course as a trainer is shaping it: live files with every draft laid over them."""
    files = dict(live_files() if live is None else live)
    for row in drafts() if rows is None else rows:
        if row.text is None:
            files.pop(row.path, None)
        else:
            files[row.path] = row.text
    return files


def module_folders(files: dict[str, str]) -> set[str]:
    """The course's module folders (not aids/ nor media/), where lessons go."""
    root = course_folder(files)
    reserved = {f"{root}/{AIDS_FOLDER}", f"{root}/{MEDIA_FOLDER}"}
    return {posixpath.dirname(p) for p in files if p.startswith(root + "/") and p.count("/") == 2} - reserved


def check_path(path: str, files: dict[str, str]) -> str:
    """Return `path` if a course file may live there; raise Refused saying why not."""
    path = path.strip().strip("/")
    parts = path.split("/")
    if not all(FILE_NAME.match(part) for part in parts):
        raise Refused(N_("use letters, digits, '-', '_' and '.' in file and folder names"))
    root = course_folder(files)
    if parts[0] == QUIZ_FOLDER:
        if len(parts) != 2 or not path.endswith(YAML):
            raise Refused(N_("quizzes and role-plays are .yaml files directly in %(folder)s/", folder=QUIZ_FOLDER))
        return path
    if parts[0] == root and len(parts) == 3 and parts[1] == MEDIA_FOLDER:
        raise Refused(N_("%(folder)s/ holds the course's pictures and files: upload them under Pictures and files", folder=f"{root}/{MEDIA_FOLDER}"))
    if parts[0] == root and path.endswith(MARKDOWN) and (len(parts) == 3 or path == f"{root}/course.md"):
        return path
    raise Refused(N_("lessons are .md files in a module folder: %(pattern)s", pattern=f"{root}/<module>/<lesson>.md"))


def save(path: str, text: str | None, by: User, expected_version: int) -> DraftFile | None:
    """Save a draft of `path` (text None: delete the file) unless it changed since `expected_version`.

    `expected_version` is the draft version the editor loaded (0 when there was no draft). Saving
    text identical to the live file removes the draft. Raises `DraftConflict`.
    """
    text = None if text is None else normalise_text(text)
    live_id = live_revision_id()
    _save_versioned(DraftFile.path, path, {"text": text}, text == file_text(live_id, path), live_id, by, expected_version)
    return draft_of(path)


def _save_versioned(key: Any, name: str, values: dict[str, Any], as_live: bool, live_id: int | None, by: User, expected_version: int) -> None:
    """Write one draft row (a text file's or a picture's, keyed by `key` == `name`), or drop it when it
    matches the live course, unless another trainer saved it since `expected_version`; then raise `DraftConflict`."""
    model = key.class_
    current = (lambda: draft_of(name)) if model is DraftFile else (lambda: None)
    if as_live:
        gone = db.session.execute(delete(model).where(key == name, model.version == expected_version)).rowcount
        if not gone and expected_version:
            db.session.rollback()
            raise DraftConflict(current())
        db.session.commit()
        return
    stamp = {"base_revision_id": live_id, "updated_by_id": by.id, "updated_at": utcnow()}
    if expected_version:
        changed = db.session.execute(
            update(model).where(key == name, model.version == expected_version).values(**values, **stamp, version=model.version + 1)
        ).rowcount
        if changed != 1:
            db.session.rollback()
            raise DraftConflict(current())
    else:
        db.session.add(model(**{key.key: name}, **values, **stamp, version=1))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise DraftConflict(current()) from None
    db.session.commit()


def discard(path: str | None = None) -> int:
    """Drop the draft of `path`, or every draft (pictures and files too); return how many were dropped."""
    statement = delete(DraftFile)
    if path is not None:
        statement = statement.where(DraftFile.path == path)
    count = db.session.execute(statement).rowcount
    if path is None:
        count += db.session.execute(delete(DraftMedia)).rowcount
    db.session.commit()
    return count


# Pictures and files (media/): the same shared draft, a row per changed name holding a blob's hash.

def media_drafts() -> list[DraftMedia]:
    return list(db.session.scalars(select(DraftMedia).order_by(DraftMedia.name)))


def media_draft_of(name: str) -> DraftMedia | None:
    return db.session.scalar(select(DraftMedia).where(DraftMedia.name == name))


def working_media(live: dict[str, str] | None = None, rows: list[DraftMedia] | None = None) -> dict[str, str]:
    """Name → SHA-256 of the pictures and files as a trainer is shaping them: live ones with every draft laid over them."""
    media = dict(revision_media(live_revision_id()) if live is None else live)
    for row in media_drafts() if rows is None else rows:
        if row.sha256 is None:
            media.pop(row.name, None)
        else:
            media[row.name] = row.sha256
    return media


def save_media(name: str, sha256: str | None, by: User, expected_version: int) -> DraftMedia | None:
    """Save a draft of picture or file `name` (None: delete it), as `save` does for text; raises `DraftConflict`."""
    live_id = live_revision_id()
    _save_versioned(DraftMedia.name, name, {"sha256": sha256}, sha256 == revision_media(live_id).get(name), live_id, by, expected_version)
    return media_draft_of(name)


def discard_media(name: str) -> int:
    count = db.session.execute(delete(DraftMedia).where(DraftMedia.name == name)).rowcount
    db.session.commit()
    return count


def stale_media(rows: list[DraftMedia], live_id: int | None, live: dict[str, str]) -> list[str]:
    """Media drafts whose file was changed in the live course after the draft was started, as `media/<name>`."""
    return [
        f"{MEDIA_FOLDER}/{row.name}" for row in rows
        if row.base_revision_id != live_id and revision_media(row.base_revision_id).get(row.name) != live.get(row.name)
    ]


def stale_paths(rows: list[DraftFile], live_id: int | None, live: dict[str, str]) -> list[str]:
    """Drafts whose file was changed in the live course after the draft was started."""
    stale = []
    for row in rows:
        if row.base_revision_id != live_id and file_text(row.base_revision_id, row.path) != live.get(row.path):
            stale.append(row.path)
    return stale


@dataclass(frozen=True)
class Check:
    """The working copy compiled: the course, or every error in it."""

    course: Course | None
    errors: tuple[ContentError, ...]

    def errors_in(self, path: str) -> list[ContentError]:
        return [e for e in self.errors if e.path == path]

    def errors_elsewhere(self, path: str) -> list[ContentError]:
        return [e for e in self.errors if e.path != path]


def check(files: dict[str, str], media: dict[str, str] | None = None) -> Check:
    """Compile the working copy with its pictures and files (`media`: name → SHA-256; default the working media) as the studio shows them."""
    media = working_media() if media is None else media
    try:
        return Check(compile_sources(files, urls(media, DRAFT_URL)), ())
    except CourseInvalid as invalid:
        return Check(None, tuple(invalid.errors))


@dataclass(frozen=True)
class RemovedActivity:
    kind: str
    id: str
    title: str
    learners: int


def removed_activities(old: Course | None, new: Course) -> list[RemovedActivity]:
    """Activities and modules the new course no longer has, with how many learners have records on them.

    Their records are kept, but they stop counting towards completion.
    """
    if old is None:
        return []
    kept = {a.id for a in new.activities} | {m.id for m in new.modules}
    gone = [(a.kind, a.id, a.title) for a in old.activities if a.id not in kept]
    gone += [("module", m.id, m.title) for m in old.modules if m.id not in kept]
    if not gone:
        return []
    counts = dict(
        db.session.execute(
            select(Progress.activity_id, func.count()).where(Progress.activity_id.in_([g[1] for g in gone])).group_by(Progress.activity_id)
        ).all()
    )
    return [RemovedActivity(kind, id_, title, counts.get(id_, 0)) for kind, id_, title in gone]


def publish_drafts(by: User, note: str = "") -> PublishResult:
    """Publish the working copy as the new live revision and clear the drafts, in one transaction.

    Raises NothingToPublish, StaleDrafts or CourseInvalid; then nothing changes.
    """
    rows, media_rows = drafts(), media_drafts()
    if not rows and not media_rows:
        raise NothingToPublish
    live_id = live_revision_id()
    live, live_media = revision_files(live_id), revision_media(live_id)
    stale = stale_paths(rows, live_id, live) + stale_media(media_rows, live_id, live_media)
    if stale:
        raise StaleDrafts(stale)
    files = working_files(live, rows)
    for row in rows:
        db.session.execute(delete(DraftFile).where(DraftFile.id == row.id, DraftFile.version == row.version))
    for row in media_rows:
        db.session.execute(delete(DraftMedia).where(DraftMedia.id == row.id, DraftMedia.version == row.version))
    try:
        result = publish(files, media=working_media(live_media, media_rows), by=by, note=note or "studio")
    except CourseInvalid:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def add_files(
    files: dict[str, str], by: User, replace_all: bool = False, media: dict[str, str] | None = None
) -> list[ContentError]:
    """Lay uploaded files (and pictures and files: `media`, name → SHA-256 of stored blobs) over the working copy as drafts, unless they bring new errors.

    With `replace_all` the files are the whole course: every other file and picture is deleted in the draft.
    Returns the new errors (then nothing is saved); errors the working copy already had do not
    block an upload that fixes something else.
    """
    media = media or {}
    working, working_now = working_files(), working_media()
    if errors := new_errors(files, replace_all, working, media, working_now):
        return errors
    changes: dict[str, str | None] = {path: text for path, text in files.items() if working.get(path) != text}
    media_changes: dict[str, str | None] = {name: sha for name, sha in media.items() if working_now.get(name) != sha}
    if replace_all:
        changes |= {path: None for path in working if path not in files}
        media_changes |= {name: None for name in working_now if name not in media}
    for path, text in sorted(changes.items()):
        current = draft_of(path)
        save(path, text, by, current.version if current else 0)
    for name, sha256 in sorted(media_changes.items()):
        current_media = media_draft_of(name)
        save_media(name, sha256, by, current_media.version if current_media else 0)
    return []


def new_errors(
    files: dict[str, str], replace_all: bool = False, working: dict[str, str] | None = None,
    media: dict[str, str] | None = None, working_now: dict[str, str] | None = None,
) -> list[ContentError]:
    """The errors laying `files` and `media` over the working copy would bring, beyond those it already has."""
    working = working_files() if working is None else working
    working_now = working_media() if working_now is None else working_now
    media = media or {}
    before = set(check(working, working_now).errors)
    after = check(dict(files) if replace_all else {**working, **files}, dict(media) if replace_all else {**working_now, **media})
    return [error for error in after.errors if error not in before]


def roll_back(revision_id: int, by: User) -> PublishResult:
    """Publish an earlier revision's files again as a new revision; every record stays."""
    return publish(revision_files(revision_id), media=revision_media(revision_id), by=by, note=f"rollback to revision {revision_id}")
