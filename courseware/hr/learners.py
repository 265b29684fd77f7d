"""The learner × module matrix with filters, and a learner's transcript with drill-down."""
from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select

from ..access import hr_required
from ..extensions import db
from ..inputs import int_arg
from ..learning import certification, grading, roleplay
from ..learning.learning_time import NO_TIME, learning_minutes
from ..learning.progress import learner_progress
from ..models import Progress, QuizAttempt, ScenarioRun, User
from ..people import audit
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import course_at, live_course, require_live_course
from . import bp, gains, reports
from .learner_filter import filter_form, learner_query, matrix_columns

PER_PAGE = 50


@bp.route("/learners")
@hr_required
def learners():
    live = require_live_course()
    nodes = tree()
    visible = visible_department_ids(nodes)
    form, flt = filter_form(live.course, nodes, visible)
    statement = learner_query(live.course, flt, visible)
    departments = reports.departments_listed(flt, visible) if flt.by_department_only else None
    total = sum(people for _id, people in departments) if departments is not None else reports.count_of(statement)
    pages = max(1, -(-total // PER_PAGE))
    page = min(int_arg("page", 1, lo=1), pages)
    if departments is not None:
        rows = reports.page_by_department(statement, departments, (page - 1) * PER_PAGE, PER_PAGE)
    else:
        rows = db.session.execute(statement.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    columns = matrix_columns(live.course)
    cells = reports.progress_cells([row.User.id for row in rows], [c for c, _ in columns])
    page_html = render_template(
        "hr/learners.html",
        form=form, flt=flt, rows=rows, columns=columns, cells=cells,
        page=page, pages=pages, total=total, course=live.course,
    )
    # Recorded once the page exists (a commit before rendering would expire every row it shows).
    audit.record("view_learners", detail={"filter": flt.as_dict(), "page": page, "people": [row.User.id for row in rows]})
    return page_html


def _learner_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    visible = visible_department_ids()
    if user is None or (visible is not None and user.department_id not in visible):
        abort(404)
    return user


@bp.route("/learners/<int:user_id>")
@hr_required
def transcript(user_id: int):
    live = live_course()
    learner = _learner_or_404(user_id)
    audit.record("view_transcript", learner.id)
    states = {p.activity_id: p for p in db.session.scalars(select(Progress).where(Progress.user_id == learner.id))}
    attempts = db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == learner.id).order_by(QuizAttempt.started_at)
    ).all()
    runs = db.session.scalars(
        select(ScenarioRun).where(ScenarioRun.user_id == learner.id).order_by(ScenarioRun.started_at)
    ).all()
    return render_template(
        "hr/transcript.html", learner=learner, course=live.course if live else None,
        states=states, attempts=attempts, runs=runs, certificates=certification.of(learner.id),
        progress=learner_progress(learner.id, live.course) if live else None,
        minutes=learning_minutes([learner.id], live.course).get(learner.id, NO_TIME) if live else NO_TIME,
        gains=gains.of_learners(live.course, [learner.id]).get(learner.id, []) if live else [],
    )


@bp.route("/learners/<int:user_id>/attempts/<attempt_id>")
@hr_required
def attempt(user_id: int, attempt_id: str):
    learner = _learner_or_404(user_id)
    found = db.session.get(QuizAttempt, attempt_id)
    if found is None or found.user_id != learner.id or not found.submitted:
        abort(404)
    quiz = course_at(found.revision_id).quiz(found.quiz_id)
    audit.record("view_attempt", learner.id, {"attempt": found.id})
    return render_template(
        "hr/attempt.html", learner=learner, attempt=found, quiz=quiz,
        result=grading.grade(quiz, found.answer_map(), found.question_ids),
    )


@bp.route("/learners/<int:user_id>/runs/<run_id>")
@hr_required
def run(user_id: int, run_id: str):
    learner = _learner_or_404(user_id)
    found = db.session.get(ScenarioRun, run_id)
    if found is None or found.user_id != learner.id:
        abort(404)
    scenario = course_at(found.revision_id).scenario(found.scenario_id)
    audit.record("view_run", learner.id, {"run": found.id})
    return render_template(
        "hr/run.html", learner=learner, run=found, scenario=scenario,
        state=roleplay.play(scenario, found.choice_ids), model=roleplay.model_path(scenario),
    )
