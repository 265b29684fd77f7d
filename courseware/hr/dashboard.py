"""HR dashboard: completion by department, overdue learners, recent completions, quiz scores."""
from __future__ import annotations

from datetime import timedelta

from flask import render_template
from sqlalchemy import select

from ..access import hr_required
from ..extensions import db
from ..learning import action_plans
from ..models import Assignment, Status, utcnow
from ..people import audit
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from ..surveys import results as survey_results
from . import bp, gains, reports, tallies
from .assignments import today

EXPIRY_WARNING_DAYS = 60


def course_status_counts(course_id: str, department_ids: set[int] | None) -> dict[str, int]:
    """How many active learners in scope have not started, are partway through, or have completed the course."""
    found = tallies.read([course_id], department_ids)
    counts = {status.value: found.count(found.people, course_id, status.value) for status in Status}
    counts[Status.NOT_STARTED.value] += found.people_in(found.people) - sum(counts.values())
    return counts


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
    recent = reports.recent_completions(visible, ("course", "module"))
    department_gains = gains.by_department(live.course, visible)
    expiring = reports.expiring_certificates(utcnow() + timedelta(days=EXPIRY_WARNING_DAYS), visible)
    page = render_template(
        "hr/dashboard.html",
        course=live.course,
        rates=rates,
        chart=[(rate.node.path, rate.percent, rate) for rate in rates],
        total=reports.completion_total(live.course.id, visible),
        statuses=course_status_counts(live.course.id, visible),
        titles=live.course.titles,
        overdue=reports.overdue_learners(on, visible),
        assignments=[(a, counts[a.id]) for a in assignments],
        recent=recent,
        scores=reports.average_quiz_scores(visible),
        expiring=expiring,
        now=utcnow(),
        objectives=gains.objectives(live.course),
        gains=department_gains,
        impact=survey_results.training_impact(nodes, visible, survey_results.rounds_rating(visible, on), rates, department_gains),
        departments=nodes,
        plan_counts=action_plans.counts_by_department(nodes, visible),
    )
    # Recorded once the page exists (a commit before rendering would expire every row it shows).
    audit.record("view_dashboard", detail={"people": sorted({row.id for row in recent} | {row.Certificate.user_id for row in expiring})})
    return page
