"""Studio: upload and download course files (.zip, .md, .yaml) and quiz questions in Moodle's GIFT format."""
from __future__ import annotations

import posixpath
import re
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from .. import media as stored
from ..access import live_activity_or_404
from ..content import archive, decode_sources, gift, quizfile
from ..content.archive import QUIZ_FOLDER, course_folder
from ..content.errors import N_, ContentError, CourseInvalid, Refused
from ..extensions import db
from ..forms import options
from ..people import audit
from ..publishing import live_course
from . import bp, drafts, trainer_required
from .downloads import zip_response
from .forms import GiftImportForm, UploadForm
from .messages import translated


def _upload_form(files: dict[str, str]) -> UploadForm:
    form = UploadForm()
    folders = sorted(drafts.module_folders(files))
    form.folder.choices = options([("", "—")] + [(f, posixpath.basename(f)) for f in folders])
    return form


def _gift_form() -> GiftImportForm:
    form = GiftImportForm()
    live = live_course()
    quizzes = live.course.quizzes if live else ()
    form.quiz.choices = options([(q.id, f"{q.title} ({q.id})") for q in quizzes])
    return form


def _gift_losses() -> dict[str, list[gift.Skipped]]:
    """For each live quiz, what an export to GIFT could not carry."""
    live = live_course()
    if live is None:
        return {}
    files = drafts.revision_files(live.revision_id)
    return {q.id: gift.quiz_to_gift(files[q.path], q.path)[1] for q in live.course.quizzes if q.path in files}


def _exchange_page(upload_form: UploadForm | None = None, gift_form: GiftImportForm | None = None, status: int = 200, **extra: Any):
    files = drafts.working_files()
    return (
        render_template(
            "studio/exchange.html",
            upload_form=upload_form or _upload_form(files),
            gift_form=gift_form or _gift_form(),
            live=live_course(),
            losses=_gift_losses(),
            **extra,
        ),
        status,
    )


@bp.route("/exchange")
@trainer_required
def exchange():
    return _exchange_page()


def uploaded_files(
    filename: str, data: bytes, folder: str, files: dict[str, str]
) -> tuple[dict[str, str], dict[str, bytes], list[ContentError], list[str]]:
    """Turn an upload into course paths and texts, and pictures and files by name; also return errors and ignored archive members.

    An archive that holds course.md is a whole course: files it does not hold are deleted in the draft.
    """
    root = course_folder(files)
    ignored: list[str] = []
    media: dict[str, bytes] = {}
    if filename.lower().endswith(".zip"):
        unpacked = archive.unpack(data, filename, root, current_app.config["MEDIA_MAX_BYTES"])
        if unpacked.errors:
            return {}, {}, unpacked.errors, []
        raw, ignored, media = unpacked.files, unpacked.ignored, unpacked.media
    elif filename.lower().endswith((".yaml", ".yml")):
        raw = {f"{QUIZ_FOLDER}/{filename}": data}
    elif filename == "course.md":
        raw = {f"{root}/course.md": data}
    elif folder:
        raw = {f"{folder}/{filename}": data}
    else:
        return {}, {}, [ContentError(filename, 1, N_("choose the module folder this lesson belongs in"))], []
    texts, errors = decode_sources(raw)
    for path in texts:
        try:
            drafts.check_path(path, files)
        except Refused as refused:
            errors.append(ContentError(path, 1, refused.message))
    if not raw:
        errors.append(ContentError(filename, 1, N_("the archive holds no .md or .yaml files")))
    return texts, media, errors, ignored


@bp.route("/upload", methods=["POST"])
@trainer_required
def upload():
    files = drafts.working_files()
    form = _upload_form(files)
    if not form.validate_on_submit():
        return _exchange_page(upload_form=form, status=400)
    storage = form.file.data
    filename = secure_filename(storage.filename or "") or "upload"
    texts, media, errors, ignored = uploaded_files(filename, storage.read(), form.folder.data or "", files)
    whole_course = filename.lower().endswith(".zip") and any(posixpath.basename(p) == "course.md" for p in texts)
    if not errors:
        hashes = {name: stored.store(name, data) for name, data in media.items()}  # kept only if the drafts are saved
        errors = drafts.add_files(texts, current_user, replace_all=whole_course, media=hashes)
    if errors:
        db.session.rollback()
        return _exchange_page(upload_form=form, status=400, upload_errors=sorted(errors), ignored=ignored)
    removed = len(set(files) - set(texts)) if whole_course else 0
    audit.record("content.upload", detail={"file": filename, "files": sorted(texts), "media": sorted(media), "removed": removed})
    if ignored:
        flash(_("Ignored (not .md or .yaml): %(names)s", names=", ".join(ignored)), "warning")
    flash(_("%(n)s file(s) from %(name)s are in the draft. Review the changes, then publish.", n=len(texts), name=filename), "success")
    return redirect(url_for("studio.changes"))


@bp.route("/download/course.zip")
@trainer_required
def download_course():
    if request.args.get("draft"):
        return zip_response(drafts.working_files(), "course-draft.zip", drafts.working_media())
    live = live_course()
    if live is None:
        abort(404)
    return zip_response(drafts.revision_files(live.revision_id), f"course-r{live.revision_id}.zip", stored.revision_media(live.revision_id))


@bp.route("/download/modules/<module_id>.zip")
@trainer_required
def download_module(module_id: str):
    live = live_course()
    module = live.course.module(module_id) if live else None
    if module is None:
        abort(404)
    files = archive.module_files(drafts.revision_files(live.revision_id), live.course, module)
    return zip_response(files, f"{posixpath.basename(posixpath.dirname(module.path))}.zip")


@bp.route("/quizzes/<quiz_id>.gift")
@trainer_required
def gift_export(quiz_id: str):
    live, quiz = live_activity_or_404("quiz", quiz_id)
    text, skipped = gift.quiz_to_gift(drafts.file_text(live.revision_id, quiz.path) or "", quiz.path)
    notes = "".join(f"// {_('Not carried')}: {item.question}: {translated(item)}\n" for item in skipped)
    return Response(
        (notes + ("\n" if notes else "") + text).encode("utf-8"),
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{quiz.id}.gift"'},
    )


def _in_gift(errors: list[ContentError], quiz_path: str, before: str, after: str, read: gift.GiftFile, ids: list[str], name: str) -> list[ContentError]:
    """Name the GIFT file and line of each error found in the questions added to the quiz file."""
    lines = re.split(r"\r\n|\r|\n", after)
    added = len(lines) - len(re.split(r"\r\n|\r|\n", before))
    starts: dict[int, int] = {}  # quiz file line of each added question's "- id:" → its GIFT line
    for qid, gift_line in zip(ids, read.lines):
        item = re.compile(rf"^\s*- id: (['\"]?){re.escape(qid)}\1\s*$")
        found = [number for number, line in enumerate(lines, 1) if item.match(line)]
        if found:
            starts[found[-1]] = gift_line
    first = min(starts, default=0)

    def placed(error: ContentError) -> ContentError:
        if error.path != quiz_path or not first or not first <= error.line < first - 1 + added:
            return error
        return ContentError(name, starts[max(start for start in starts if start <= error.line)], error.message, error.context)

    return sorted({placed(error) for error in errors})


@bp.route("/gift", methods=["POST"])
@trainer_required
def gift_import():
    form = _gift_form()
    if not form.validate_on_submit():
        return _exchange_page(gift_form=form, status=400)
    text = form.text.data or ""
    if form.file.data:
        try:
            text = form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors.append(_("The file is not UTF-8 text. Save it as UTF-8 and upload it again."))
            return _exchange_page(gift_form=form, status=400)
    name = form.file.data.filename if form.file.data else _("pasted text")
    try:
        read = gift.read_gift(text, name)
    except CourseInvalid as invalid:
        return _exchange_page(gift_form=form, status=400, gift_errors=invalid.errors)
    questions, skipped = read.questions, read.skipped
    if not questions:
        form.text.errors.append(_("No question could be read from this GIFT text."))
        return _exchange_page(gift_form=form, status=400, gift_skipped=skipped)
    live = live_course()
    quiz = live.course.quiz(form.quiz.data)
    working = drafts.working_files()
    try:
        new_text, ids = quizfile.append_questions(working[quiz.path], questions)
    except Refused as refused:
        errors = [ContentError(quiz.path, 1, refused.message)]
    else:
        errors = _in_gift(drafts.new_errors({quiz.path: new_text}, working=working), quiz.path, working[quiz.path], new_text, read, ids, name)
    if errors:  # shown before confirming, so the preview never offers what cannot be added
        return _exchange_page(gift_form=form, status=400, gift_errors=errors, gift_skipped=skipped)
    if request.form.get("confirm") != "yes":
        form.text.data = text
        return _exchange_page(gift_form=form, gift_preview=questions, gift_skipped=skipped, gift_quiz=quiz)
    errors = drafts.add_files({quiz.path: new_text}, current_user)
    if errors:
        return _exchange_page(gift_form=form, status=400, gift_errors=_in_gift(errors, quiz.path, working[quiz.path], new_text, read, ids, name))
    audit.record("content.gift_import", detail={"quiz": quiz.id, "questions": ids, "skipped": len(skipped)})
    flash(_("%(n)s question(s) added to the draft of %(quiz)s.", n=len(ids), quiz=quiz.title), "success")
    left_out = [item for item in skipped if not item.kept]
    if left_out:
        listed = "; ".join(f"{_('line %(n)s', n=item.line)}: {translated(item)}" for item in left_out)
        flash(_("Not imported: %(items)s", items=listed), "warning")
    return redirect(url_for("studio.edit", path=quiz.path))
