"""HR dashboard: completion by department, overdue learners, recent completions, quiz scores."""
from __future__ import annotations

from datetime import timedelta

from flask import render_template
from sqlalchemy import select

from .. import reports
from ..access import hr_required
from ..assignments import today
from ..departments import tree
from ..extensions import db
from ..models import Assignment, utcnow
from ..publishing import require_live_course
from . import bp
from .scope import visible_department_ids

EXPIRY_WARNING_DAYS = 60


@bp.route("/")
@hr_required
def dashboard():
    live = require_live_course()
    nodes = tree()
    visible = visible_department_ids(nodes)
    on = today()
    counts = reports.assignment_counts(on, visible)
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.id.in_(counts)).order_by(Assignment.due_on)
    ).all()
    rates = reports.completion_by_department(live.course.id, nodes, visible)
    titles = {a.id: a.title for a in live.course.activities} | {m.id: m.title for m in live.course.modules}
    return render_template(
        "hr/dashboard.html",
        course=live.course,
        rates=rates,
        chart=[(rate.node.path, rate.percent, rate) for rate in rates],
        total=reports.completion_total(live.course.id, visible),
        titles=titles | {live.course.id: live.course.title},
        overdue=reports.overdue_learners(on, visible),
        assignments=[(a, counts[a.id]) for a in assignments],
        recent=reports.recent_completions(visible, ("course", "module")),
        scores=reports.average_quiz_scores(visible),
        expiring=reports.expiring_certificates(utcnow() + timedelta(days=EXPIRY_WARNING_DAYS), visible),
        now=utcnow(),
    )
