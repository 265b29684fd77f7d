"""Health check and interface language."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, session
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .forms import EmptyForm
from .inputs import safe_next
from .models import ContentRevision
from .publishing import live_course

bp = Blueprint("system", __name__)

LANGUAGES = {"zh": "中文", "en": "English"}


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        row = db.session.execute(
            ContentRevision.live(ContentRevision.id, ContentRevision.course_id, ContentRevision.published_at)
        ).first()
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unavailable")
        return jsonify(status="error", database="unavailable", revision=None), 503
    revision = (
        {"id": row.id, "course": row.course_id, "published_at": row.published_at.isoformat()}
        if row
        else None
    )
    live = live_course()
    return jsonify(status="ok", database="ok", revision=revision, serving=live.revision_id if live else None)


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language; remembered in the session and on the user's account."""
    if code in LANGUAGES and EmptyForm().validate_on_submit():
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next(request.form.get("next")))
