"""Studio: the course's files with their draft and validation state, and an editor with live preview."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..content import Course
from ..content import frontmatter as fm
from ..content.archive import QUIZ_FOLDER, course_folder
from ..content.compiler import AIDS_FOLDER, MAX_FILE_CHARS, too_long
from ..content.errors import Refused
from ..content.lint import LintWarning, lint
from ..content.render import MAX_TEXT_CHARS, image_problem, render, unrenderable
from ..extensions import db
from ..forms import options
from ..inputs import integer
from ..models import ContentRevision, DraftFile
from ..publishing import live_course
from . import bp, drafts, skeletons, trainer_required
from .forms import EditForm, NewFileForm


@dataclass(frozen=True)
class FileRow:
    path: str
    name: str
    title: str
    draft: DraftFile | None
    errors: int
    stale: bool
    new: bool

    @property
    def deleted(self) -> bool:
        return self.draft is not None and self.draft.text is None


@dataclass(frozen=True)
class FileGroup:
    title: str
    folder: str
    rows: list[FileRow]


def _titles(course: Course | None) -> dict[str, str]:
    if course is None:
        return {}
    titles = {m.path: m.title for m in course.modules}
    titles |= {x.path: x.title for x in course.lessons}
    titles |= {x.path: x.title for x in (*course.quizzes, *course.scenarios, *course.aids)}
    return titles


def file_groups(
    files: dict[str, str], live_paths: set[str], rows: list[DraftFile], check: drafts.Check, stale: set[str], live: Course | None
) -> list[FileGroup]:
    """The course's files grouped as a trainer thinks of them: the course, each module, quizzes."""
    titles = _titles(live) | _titles(check.course)
    by_path = {row.path: row for row in rows}
    error_counts: dict[str, int] = {}
    for error in check.errors:
        error_counts[error.path] = error_counts.get(error.path, 0) + 1
    root = course_folder(files)
    folders: dict[str, list[str]] = {}
    for path in sorted(set(files) | set(by_path)):
        folders.setdefault(posixpath.dirname(path), []).append(path)

    def row(path: str) -> FileRow:
        name = posixpath.basename(path)
        return FileRow(
            path, name, titles.get(path, ""), by_path.get(path), error_counts.get(path, 0), path in stale, path not in live_paths
        )

    groups = []
    if root in folders:
        groups.append(FileGroup(_("Course"), root, [row(p) for p in folders.pop(root)]))
    quizzes = folders.pop(QUIZ_FOLDER, [])
    for folder, paths in sorted(folders.items()):
        paths.sort(key=lambda p: (posixpath.basename(p) != "module.md", p))
        groups.append(FileGroup(titles.get(paths[0], "") or posixpath.basename(folder), folder, [row(p) for p in paths]))
    if quizzes:
        groups.append(FileGroup(_("Quizzes and role-plays"), QUIZ_FOLDER, [row(p) for p in quizzes]))
    return groups


@bp.route("/")
@trainer_required
def index():
    live = live_course()
    rows = drafts.drafts()
    live_id = drafts.live_revision_id()
    live_files = drafts.revision_files(live_id)
    files = drafts.working_files(live_files, rows)
    check = drafts.check(files) if rows or drafts.media_drafts() else drafts.Check(live.course if live else None, ())
    stale = set(drafts.stale_paths(rows, live_id, live_files))
    revision = db.session.get(ContentRevision, live_id) if live_id else None
    return render_template(
        "studio/index.html",
        groups=file_groups(files, set(live_files), rows, check, stale, live.course if live else None),
        drafts=rows,
        check=check,
        revision=revision,
        new_form=_new_file_form(files),
    )


def _working_file_or_404(path: str) -> tuple[dict[str, str], DraftFile | None]:
    files = drafts.working_files()
    row = drafts.draft_of(path)
    if path not in files and row is None:
        abort(404)
    return files, row


@dataclass(frozen=True)
class Preview:
    """What the editor shows beside the source: the compiled result, or the errors and a best effort."""

    kind: str
    item: Any
    course: Course | None
    errors_here: list
    errors_elsewhere: list
    fallback_html: str = ""
    warnings: tuple[LintWarning, ...] = ()  # the author's lint on this file, once the course compiles


def preview(files: dict[str, str], path: str, text: str) -> Preview:
    """Compile the whole course with `text` as the file at `path`, exactly as publishing would."""
    if error := too_long(path, text):
        return Preview("", None, None, [error], [])
    working = {**files, path: drafts.normalise_text(text)}
    check = drafts.check(working)
    here, elsewhere = check.errors_in(path), check.errors_elsewhere(path)
    if check.course is not None:
        warnings = tuple(w for w in lint(check.course, working) if w.path == path)
        if posixpath.basename(path) == "course.md":
            return Preview("course", check.course, check.course, here, elsewhere, warnings=warnings)
        found = check.course.by_path(path)
        if found:
            return Preview(found[0], found[1], check.course, here, elsewhere, warnings=warnings)
    fallback = ""
    if path.endswith(".md"):
        doc = fm.parse(path, text)
        body = doc.body if doc.parsed else text
        html = "" if unrenderable(body) else render(body)
        fallback = "" if image_problem(html) else html  # the pane must not fetch what the compiler refuses (media/ too: not linked yet)
    return Preview("", None, check.course, here, elsewhere, fallback)


def _editor(path: str, files: dict[str, str], row: DraftFile | None, form: EditForm, status: int = 200, conflict: DraftFile | None = None):
    live_text = drafts.file_text(drafts.live_revision_id(), path)
    return (
        render_template(
            "studio/edit.html",
            path=path,
            form=form,
            row=row,
            live_text=live_text,
            preview=preview(files, path, form.text.data or ""),
            conflict=conflict,
            mode="yaml" if path.endswith((".yaml", ".yml")) else "markdown",
            max_file_chars=MAX_FILE_CHARS,
            max_text_chars=MAX_TEXT_CHARS,
        ),
        status,
    )


@bp.route("/files/<path:path>", methods=["GET", "POST"])
@trainer_required
def edit(path: str):
    files, row = _working_file_or_404(path)
    form = EditForm()
    if request.method == "GET":
        form.text.data = files.get(path, "")
        form.version.data = str(row.version if row else 0)
        return _editor(path, files, row, form)
    if not form.validate_on_submit():
        return _editor(path, files, row, form, 400)
    action = request.form.get("action", "save")
    if action == "preview":
        return _editor(path, files, row, form)
    if action == "discard":
        drafts.discard(path)
        flash(_("Your draft of %(path)s was discarded; the live version is back.", path=path), "success")
        still_there = drafts.file_text(drafts.live_revision_id(), path) is not None
        return redirect(url_for("studio.edit", path=path) if still_there else url_for("studio.index"))
    text = None if action == "delete" else form.text.data or ""
    version = integer(form.version.data or "0")
    if version is None:
        abort(400)
    try:
        saved = drafts.save(path, text, current_user, version)
    except ValueError:
        abort(400)
    except drafts.DraftConflict as conflict:
        flash(_("Someone else saved this file after you opened it. Your text is still below: copy what you need, then reload."), "error")
        return _editor(path, files, drafts.draft_of(path), form, 409, conflict.current)
    if action == "delete":
        flash(_("%(path)s will be deleted when the draft is published.", path=path), "success")
        return redirect(url_for("studio.index"))
    errors = drafts.check(drafts.working_files()).errors_in(path)
    if saved is None:
        flash(_("The text is the same as the live version, so there is no draft of this file."), "success")
    elif errors:
        flash(_("Draft saved. This file has %(n)s error(s) to fix before the course can be published.", n=len(errors)), "warning")
    else:
        flash(_("Draft saved. Learners see it once you publish."), "success")
    return redirect(url_for("studio.edit", path=path))


@bp.route("/preview", methods=["POST"])
@trainer_required
def live_preview():
    """The preview pane alone, for the editor's script to refresh as the trainer types."""
    form = EditForm()
    path = request.form.get("path", "")
    valid = form.validate_on_submit() or set(form.errors) == {"text"}  # a text too long: the pane says so
    if not valid or not path:
        abort(400)
    files, _row = _working_file_or_404(path)
    return render_template("studio/_preview.html", preview=preview(files, path, form.text.data or ""), path=path)


def _new_file_form(files: dict[str, str]) -> NewFileForm:
    form = NewFileForm()
    form.kind.choices = options(
        [("lesson", _("Lesson")), ("module", _("Module")), ("quiz", _("Quiz")), ("scenario", _("Role-play")), ("aid", _("Job aid"))]
    )
    folders = sorted(drafts.module_folders(files))
    form.folder.choices = options([(f, posixpath.basename(f)) for f in folders])
    return form


@bp.route("/new", methods=["POST"])
@trainer_required
def new_file():
    files = drafts.working_files()
    form = _new_file_form(files)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("studio.index"))
    name = form.name.data.strip().lower().removesuffix(".md").removesuffix(".yaml")
    root = course_folder(files)
    slug = name if fm.SLUG.match(name) else None
    if slug is None:
        flash(_("Use lowercase letters, digits and '-' in the name, e.g. 05-new-lesson."), "error")
        return redirect(url_for("studio.index"))
    kind = form.kind.data
    if kind == "lesson":
        folder = form.folder.data or ""
        order = sum(1 for p in files if posixpath.dirname(p) == folder and not p.endswith("/module.md")) + 1
        new = {f"{folder}/{slug}.md": skeletons.lesson(slug, order)}
    elif kind == "module":
        order = sum(1 for p in files if p.endswith("/module.md")) + 1
        new = {
            f"{root}/{slug}/module.md": skeletons.module(slug, order),
            f"{root}/{slug}/01-{slug}-intro.md": skeletons.lesson(f"{slug}-intro", 1),
        }
    elif kind == "aid":
        order = sum(1 for p in files if posixpath.dirname(p) == f"{root}/{AIDS_FOLDER}") + 1
        new = {f"{root}/{AIDS_FOLDER}/{slug}.md": skeletons.aid(slug, order)}
    else:
        new = {f"{QUIZ_FOLDER}/{slug}.yaml": getattr(skeletons, kind)(slug)}
    for path, text in new.items():
        try:
            drafts.check_path(path, files)
        except Refused as refused:
            flash(refused.message.render(_), "error")
            return redirect(url_for("studio.index"))
        if path in files:
            flash(_("%(path)s exists already.", path=path), "error")
            return redirect(url_for("studio.index"))
    for path, text in new.items():
        drafts.save(path, text, current_user, 0)
    first = next(iter(new))
    flash(_("%(path)s was added to the draft.", path=first), "success")
    return redirect(url_for("studio.edit", path=first))
