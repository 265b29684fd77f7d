"""The learner × module matrix with filters, exports, and a learner's transcript with drill-down."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, SearchField, SelectField
from wtforms.validators import Optional

from ..access import hr_required
from ..extensions import db
from ..forms import FlaskForm, options
from ..inputs import int_arg, within_window
from ..learning import certificates, grading, roleplay
from ..learning.progress import learner_progress
from ..models import Assignment, Progress, QuizAttempt, ScenarioRun, User
from ..people import audit
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import course_at, live_course, require_live_course
from . import bp, reports
from .assignments import COMPLETED, IN_PROGRESS, NOT_STARTED, OVERDUE, today

PER_PAGE = 50


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    department = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])
    assignment = SelectField(_l("Assignment"), coerce=int, validators=[Optional()])
    completed_from = DateField(_l("Completed from"), validators=[Optional(), within_window], name="from")
    completed_to = DateField(_l("Completed to"), validators=[Optional(), within_window], name="to")
    q = SearchField(_l("Name or email"), validators=[Optional()])


def filter_form(course, nodes, visible) -> tuple[FilterForm, reports.MatrixFilter]:
    form = FilterForm(formdata=request.args)
    form.department.choices = options([(0, _l("All departments"))] + [
        (n.id, n.path) for n in nodes if visible is None or n.id in visible
    ])
    form.status.choices = options([
        ("", _l("Any status")), (NOT_STARTED, _l("Not started")), (IN_PROGRESS, _l("In progress")),
        (COMPLETED, _l("Completed")), (OVERDUE, _l("Overdue")),
    ])
    titles = {course.id: course.title} | {m.id: m.title for m in course.modules}
    form.assignment.choices = options([(0, _l("Any assignment"))] + [
        (a.id, f"{titles.get(a.activity_id, a.activity_id)} · {a.due_on.isoformat()}")
        for a in db.session.scalars(select(Assignment).order_by(Assignment.due_on.desc()))
    ])
    if request.args:
        form.validate()  # a hand-edited link: show what is wrong, where it was typed, and ignore those filters
    flt = reports.MatrixFilter(
        department_id=_usable(form.department) or None,
        status=_usable(form.status) or None,
        assignment_id=_usable(form.assignment) or None,
        completed_from=_usable(form.completed_from),
        completed_to=_usable(form.completed_to),
        search=(_usable(form.q) or "").strip()[:100],
    )
    return form, flt


def _usable(field):
    """A filter's value, or None when it was refused."""
    return None if field.errors else field.data


def matrix_columns(course):
    columns = [(m.id, m.title) for m in course.modules]
    if course.final_quiz:
        columns.append((course.final_quiz.id, course.final_quiz.title))
    return columns


def learner_query(course, flt, visible):
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return reports.learners(course.id, today(), flt, visible, tz)


@bp.route("/learners")
@hr_required
def learners():
    live = require_live_course()
    nodes = tree()
    visible = visible_department_ids(nodes)
    form, flt = filter_form(live.course, nodes, visible)
    statement = learner_query(live.course, flt, visible)
    total = reports.count_of(statement)
    pages = max(1, -(-total // PER_PAGE))
    page = min(int_arg("page", 1, lo=1), pages)
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
        states=states, attempts=attempts, runs=runs, certificates=certificates.of(learner.id),
        progress=learner_progress(learner.id, live.course) if live else None,
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
        result=grading.grade(quiz, found.answer_map()),
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
