"""The course's pictures and files, served to signed-in users from the live revision by their hash."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import login_required

from .. import media as stored
from ..publishing import live_course

bp = Blueprint("media", __name__)


@bp.route("/media/<sha256>/<name>")
@login_required
def file(sha256: str, name: str):
    """A picture or file of the live course; its address holds its hash, so browsers keep it."""
    stored.checked_address(sha256, name)
    live = live_course()
    blob = stored.in_revision(live.revision_id if live else None, sha256, name)
    if blob is None:
        abort(404)
    return stored.response(blob, name)
