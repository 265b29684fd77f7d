"""Trainers' drafts: unpublished changes to course files, published all-or-nothing or discarded.

There is one shared draft of the course. Each changed file is a `DraftFile`; the working copy is
the live revision's files with the drafts laid over them. Learners only ever see the live revision.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..content import Course, CourseInvalid, compile_sources
from ..content.archive import QUIZ_FOLDER, course_folder
from ..content.errors import N_, ContentError, Refused
from ..extensions import db
from ..models import ContentRevision, DraftFile, Progress, RevisionFile, User, utcnow
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
    live_text = file_text(live_id, path)
    if text == live_text:
        gone = db.session.execute(
            delete(DraftFile).where(DraftFile.path == path, DraftFile.version == expected_version)
        ).rowcount
        if not gone and expected_version:
            db.session.rollback()
            raise DraftConflict(draft_of(path))
        db.session.commit()
        return None
    if expected_version:
        changed = db.session.execute(
            update(DraftFile)
            .where(DraftFile.path == path, DraftFile.version == expected_version)
            .values(text=text, version=DraftFile.version + 1, base_revision_id=live_id, updated_by_id=by.id, updated_at=utcnow())
        ).rowcount
        if changed != 1:
            db.session.rollback()
            raise DraftConflict(draft_of(path))
    else:
        db.session.add(DraftFile(path=path, text=text, base_revision_id=live_id, version=1, updated_by_id=by.id, updated_at=utcnow()))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise DraftConflict(draft_of(path)) from None
    db.session.commit()
    return draft_of(path)


def discard(path: str | None = None) -> int:
    """Drop the draft of `path`, or every draft; return how many were dropped."""
    statement = delete(DraftFile)
    if path is not None:
        statement = statement.where(DraftFile.path == path)
    count = db.session.execute(statement).rowcount
    db.session.commit()
    return count


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


def check(files: dict[str, str]) -> Check:
    try:
        return Check(compile_sources(files), ())
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
    rows = drafts()
    if not rows:
        raise NothingToPublish
    live_id = live_revision_id()
    live = revision_files(live_id)
    stale = stale_paths(rows, live_id, live)
    if stale:
        raise StaleDrafts(stale)
    files = working_files(live, rows)
    for row in rows:
        db.session.execute(delete(DraftFile).where(DraftFile.id == row.id, DraftFile.version == row.version))
    try:
        result = publish(files, by=by, note=note or "studio")
    except CourseInvalid:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def add_files(files: dict[str, str], by: User, replace_all: bool = False) -> list[ContentError]:
    """Lay uploaded files over the working copy as drafts, unless they bring new errors.

    With `replace_all` the files are the whole course: every other file is deleted in the draft.
    Returns the new errors (then nothing is saved); errors the working copy already had do not
    block an upload that fixes something else.
    """
    working = working_files()
    if errors := new_errors(files, replace_all, working):
        return errors
    changes: dict[str, str | None] = {path: text for path, text in files.items() if working.get(path) != text}
    if replace_all:
        changes |= {path: None for path in working if path not in files}
    for path, text in sorted(changes.items()):
        current = draft_of(path)
        save(path, text, by, current.version if current else 0)
    return []


def new_errors(files: dict[str, str], replace_all: bool = False, working: dict[str, str] | None = None) -> list[ContentError]:
    """The errors laying `files` over the working copy would bring, beyond those it already has."""
    working = working_files() if working is None else working
    before = set(check(working).errors)
    after = check(dict(files) if replace_all else {**working, **files})
    return [error for error in after.errors if error not in before]


def roll_back(revision_id: int, by: User) -> PublishResult:
    """Publish an earlier revision's files again as a new revision; every record stays."""
    return publish(revision_files(revision_id), by=by, note=f"rollback to revision {revision_id}")
