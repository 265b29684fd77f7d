"""Studio: the course's pictures and files (media/): upload, replace and delete them as draft changes."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from .. import media as stored
from ..content.media import NAME, extension, is_image, problem, snippet
from ..inputs import integer
from ..models import DraftMedia
from ..people import audit
from . import bp, drafts, trainer_required
from .forms import MediaChangeForm, MediaUploadForm


@dataclass(frozen=True)
class MediaRow:
    name: str
    sha256: str | None  # None: deleted in the draft
    size: int
    content_type: str
    draft: DraftMedia | None
    new: bool

    @property
    def image(self) -> bool:
        return is_image(self.name)

    @property
    def snippet(self) -> str:
        return snippet(self.name)

    @property
    def url(self) -> str | None:
        return stored.DRAFT_URL.format(sha256=self.sha256, name=self.name) if self.sha256 else None


def media_rows() -> list[MediaRow]:
    """Every picture and file of the working copy, and those the draft deletes."""
    live = stored.revision_media(drafts.live_revision_id())
    rows = drafts.media_drafts()
    working = drafts.working_media(live, rows)
    by_name = {row.name: row for row in rows}
    info = stored.sizes(set(working.values()))
    return [
        MediaRow(name, working.get(name), *info.get(working.get(name) or "", (0, "")), by_name.get(name), name not in live)
        for name in sorted(set(working) | set(by_name))
    ]


def _page(form: MediaUploadForm | None = None, status: int = 200):
    return render_template(
        "studio/media.html", rows=media_rows(), form=form or MediaUploadForm(), change_form=MediaChangeForm(),
        max_mb=current_app.config["MEDIA_MAX_BYTES"] / 1024 / 1024,
    ), status


@bp.route("/media")
@trainer_required
def media_page():
    return _page()


def default_name(filename: str, data: bytes) -> str:
    """The uploaded file's own name when it is a valid one, else one made from its hash (e.g. for 地图.png)."""
    base = posixpath.basename(filename.replace("\\", "/"))
    if NAME.fullmatch(base):
        return base
    safe = secure_filename(base)
    if NAME.fullmatch(safe) and extension(safe) == extension(base):
        return safe
    return f"file-{stored.digest(data)[:10]}.{extension(base) or 'bin'}"


@bp.route("/media", methods=["POST"])
@trainer_required
def upload_media():
    form = MediaUploadForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    version = integer(form.version.data or "0")
    if version is None:
        abort(400)
    max_bytes = current_app.config["MEDIA_MAX_BYTES"]
    data = form.file.data.read(max_bytes + 1)
    replacing = (form.replace.data or "").strip()
    name = replacing or (form.name.data or "").strip() or default_name(form.file.data.filename or "", data)
    if found := problem(name, data, max_bytes):
        form.file.errors.append(found.render(_))
        return _page(form, 400)
    if not replacing and name in drafts.working_media():
        form.name.errors.append(_("A picture or file named %(name)s is in the course already: replace it from its row below, or choose another name.", name=name))
        return _page(form, 400)
    sha256 = stored.store(name, data)
    try:
        drafts.save_media(name, sha256, current_user, version)
    except drafts.DraftConflict:
        flash(_("Someone else changed %(name)s after you opened this page. Look at it again, then upload once more.", name=name), "error")
        return _page(form, 409)
    audit.record("content.media_upload", detail={"name": name, "sha256": sha256, "size": len(data), "replaced": bool(replacing)})
    flash(_("%(name)s is in the draft. Show it in a lesson with: %(snippet)s", name=name, snippet=snippet(name)), "success")
    return redirect(url_for("studio.media_page"))


def _change_form() -> tuple[str, int]:
    form = MediaChangeForm()
    version = integer(form.version.data or "0")
    if not form.validate_on_submit() or version is None or not NAME.fullmatch(form.name.data or ""):
        abort(400)
    return form.name.data, version


@bp.route("/media/delete", methods=["POST"])
@trainer_required
def delete_media():
    name, version = _change_form()
    if name not in drafts.working_media():
        abort(404)
    try:
        drafts.save_media(name, None, current_user, version)
    except drafts.DraftConflict:
        flash(_("Someone else changed %(name)s after you opened this page. Look at it again, then upload once more.", name=name), "error")
        return redirect(url_for("studio.media_page"))
    audit.record("content.media_delete", detail={"name": name})
    flash(_("%(name)s will be deleted when the draft is published. A lesson that still shows it cannot be published.", name=name), "success")
    return redirect(url_for("studio.media_page"))


@bp.route("/media/discard", methods=["POST"])
@trainer_required
def discard_media():
    name, _version = _change_form()
    if drafts.discard_media(name):
        flash(_("Your draft of %(path)s was discarded; the live version is back.", path=name), "success")
    return redirect(url_for("studio.media_page"))


@bp.route("/media/<sha256>/<name>")
@trainer_required
def media_file(sha256: str, name: str):
    """Any stored picture or file, for the studio's previews of drafts and older revisions."""
    stored.checked_address(sha256, name)
    blob = stored.blob(sha256)
    if blob is None:
        abort(404)
    return stored.response(blob, name)
