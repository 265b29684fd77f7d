"""Studio: review the draft and publish it; the revision history, differences and rollback."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..content import CourseInvalid
from ..content.diff import diff_files, diff_media
from ..extensions import db
from ..forms import EmptyForm
from ..inputs import integer
from ..media import revision_media
from ..models import ContentRevision, RevisionFile
from ..people import audit
from ..publishing import course_at, live_course
from . import bp, drafts, trainer_required
from .downloads import zip_response
from .forms import PublishForm


@bp.route("/changes")
@trainer_required
def changes():
    rows, media_rows = drafts.drafts(), drafts.media_drafts()
    live_id = drafts.live_revision_id()
    live, live_media = drafts.revision_files(live_id), revision_media(live_id)
    working = drafts.working_files(live, rows)
    working_media = drafts.working_media(live_media, media_rows)
    check = drafts.check(working, working_media) if rows or media_rows else None
    current = live_course()
    removed = drafts.removed_activities(current.course if current else None, check.course) if check and check.course else []
    return render_template(
        "studio/changes.html",
        drafts=rows,
        diffs=diff_files(live, working),
        media_changes=diff_media(live_media, working_media),
        check=check,
        removed=removed,
        stale=drafts.stale_paths(rows, live_id, live) + drafts.stale_media(media_rows, live_id, live_media),
        form=PublishForm(),
        discard_form=EmptyForm(),
    )


@bp.route("/publish", methods=["POST"])
@trainer_required
def publish():
    form = PublishForm()
    if not form.validate_on_submit():
        flash(_("The note is too long (at most 255 characters)."), "error")
        return redirect(url_for("studio.changes"))
    paths = [row.path for row in drafts.drafts()] + [f"media/{row.name}" for row in drafts.media_drafts()]
    try:
        result = drafts.publish_drafts(current_user, form.note.data or "")
    except drafts.NothingToPublish:
        flash(_("There is nothing to publish: the draft is empty."), "warning")
        return redirect(url_for("studio.index"))
    except drafts.StaleDrafts as stale:
        flash(_("These files were changed in the live course after your draft began: %(paths)s. Open each, compare, and save again.", paths=", ".join(stale.paths)), "error")
        return redirect(url_for("studio.changes"))
    except CourseInvalid as invalid:
        flash(_not_published(len(invalid.errors)), "error")
        return redirect(url_for("studio.changes"))
    audit.record("content.publish", detail={"revision": result.revision.id, "files": paths})
    flash(_("Published revision %(id)s. Learners see it now; their progress is kept.", id=result.revision.id), "success")
    return redirect(url_for("studio.revisions"))


def _not_published(count: int) -> str:
    return _("Nothing was published: the course has %(n)s error(s). Fix them and publish again.", n=count)


@bp.route("/discard", methods=["POST"])
@trainer_required
def discard_all():
    if not EmptyForm().validate_on_submit():
        abort(400)
    count = drafts.discard()
    flash(_("Discarded %(n)s draft file(s); the course is as learners see it.", n=count), "success")
    return redirect(url_for("studio.index"))


def _published(revision_id: int) -> ContentRevision:
    revision = db.session.get(ContentRevision, revision_id)
    if revision is None or revision.published_at is None:
        abort(404)
    return revision


@bp.route("/revisions")
@trainer_required
def revisions():
    counts = (
        select(RevisionFile.revision_id, func.count().label("files"))
        .group_by(RevisionFile.revision_id)
        .subquery()
    )
    rows = db.session.execute(
        select(ContentRevision, counts.c.files)
        .join(counts, counts.c.revision_id == ContentRevision.id)
        .where(ContentRevision.published_at.is_not(None))
        .order_by(ContentRevision.published_at.desc(), ContentRevision.id.desc())
        .limit(200)
    ).all()
    return render_template("studio/revisions.html", rows=rows, live_id=drafts.live_revision_id())


def _files_of(token: str | None) -> tuple[dict[str, str], dict[str, str], str]:
    """Files and media for a `compare` side: a revision id, 'live' or 'draft'; and a label for it."""
    if token == "draft":
        return drafts.working_files(), drafts.working_media(), _("draft")
    if token in (None, "", "live"):
        revision_id = drafts.live_revision_id()
    elif (number := integer(token)) is not None:
        revision_id = _published(number).id
    else:
        abort(404)
    return drafts.revision_files(revision_id), revision_media(revision_id), _("revision %(id)s", id=revision_id)


@bp.route("/revisions/compare")
@trainer_required
def compare():
    old_token, new_token = request.args.get("from"), request.args.get("to", "live")
    old, old_media, old_label = _files_of(old_token)
    new, new_media, new_label = _files_of(new_token)
    return render_template(
        "studio/compare.html", diffs=diff_files(old, new), media_changes=diff_media(old_media, new_media),
        old_label=old_label, new_label=new_label,
    )


@bp.route("/revisions/<int:revision_id>/rollback", methods=["GET", "POST"])
@trainer_required
def rollback(revision_id: int):
    revision = _published(revision_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            result = drafts.roll_back(revision.id, current_user)
        except CourseInvalid as invalid:
            flash(_not_published(len(invalid.errors)), "error")
            return redirect(url_for("studio.revisions"))
        audit.record("content.rollback", detail={"to": revision.id, "revision": result.revision.id})
        flash(_("Revision %(old)s is live again as revision %(new)s. Learners' records are kept.", old=revision.id, new=result.revision.id), "success")
        return redirect(url_for("studio.revisions"))
    live_id = drafts.live_revision_id()
    current = live_course()
    removed = drafts.removed_activities(current.course if current else None, course_at(revision.id))
    return render_template(
        "studio/rollback.html",
        revision=revision,
        diffs=diff_files(drafts.revision_files(live_id), drafts.revision_files(revision.id)),
        media_changes=diff_media(revision_media(live_id), revision_media(revision.id)),
        removed=removed,
        form=form,
        live_id=live_id,
    )


@bp.route("/revisions/<int:revision_id>.zip")
@trainer_required
def revision_zip(revision_id: int):
    revision = _published(revision_id)
    return zip_response(drafts.revision_files(revision.id), f"course-r{revision.id}.zip", revision_media(revision.id))
