"""Job aids: worksheets, cards and templates of the course, each a page to print or save as PDF."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

from ..publishing import live_course, require_live_course
from .action_plans import MAP_AID_ID

bp = Blueprint("aids", __name__)


@bp.route("/aids")
@login_required
def index():
    live = require_live_course()
    return render_template("aids/index.html", course=live.course)


@bp.route("/aids/<aid_id>")
@login_required
def aid(aid_id: str):
    live = live_course()
    found = live.course.aid(aid_id) if live else None
    if found is None:
        abort(404)
    modules = [module for module in map(live.course.module, found.module_ids) if module is not None]
    return render_template(
        "aids/aid.html", course=live.course, aid=found, modules=modules, offers_plan=found.id == MAP_AID_ID
    )
