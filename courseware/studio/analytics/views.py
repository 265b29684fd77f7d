"""What learners did: lessons where they stop, quiz questions and scenario choices that trip them up."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from ...access import live_activity_or_404
from ...cache import remember
from ...forms import FlaskForm, options
from ...inputs import within_window
from ...people.departments import tree
from ...people.scope import visible_department_ids
from ...publishing import require_live_course
from .. import bp, trainer_required
from ..scenario_map import layout
from . import lessons, quizzes, scenarios
from .filters import Filter, departments_for


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    department = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional(), within_window], name="from")
    date_to = DateField(_l("To (inclusive)"), validators=[Optional(), within_window], name="to")

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


def _filter() -> tuple[FilterForm, Filter, dict[str, str]]:
    """Read the filter from the query string; a wrong value gets a message and is ignored."""
    nodes = tree()
    visible = visible_department_ids(nodes)
    form = FilterForm(formdata=request.args)
    form.department.choices = options([(0, _l("All departments"))] + [
        (n.id, n.path) for n in nodes if visible is None or n.id in visible
    ])
    if request.args and not form.validate():
        for name in form.errors:
            getattr(form, name).data = None
    flt = Filter(
        start=form.date_from.data,
        end=form.date_to.data,
        department_ids=departments_for(form.department.data or None, visible, nodes),
        tz=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]),
    )
    values = {"from": form.date_from.data, "to": form.date_to.data, "department": form.department.data or None}
    return form, flt, {key: str(value) for key, value in values.items() if value is not None}


def _figures(name: str, revision_id: int, flt: Filter, compute):
    """Compute a report, or reuse this worker's copy from the last few minutes (`?fresh=1`: recompute)."""
    key = (name, revision_id, flt.start, flt.end, flt.department_ids)
    return remember(key, compute, fresh=bool(request.args.get("fresh")))


@bp.route("/analytics")
@trainer_required
def analytics():
    live = require_live_course()
    course = live.course
    form, flt, args = _filter()
    (funnel, quiz_lines, scenario_lines), computed_at = _figures(
        "overview", live.revision_id, flt,
        lambda: (lessons.lesson_funnel(course, flt), quizzes.quiz_headlines(course, flt), scenarios.scenario_headlines(course, flt)),
    )
    return render_template(
        "studio/analytics.html", form=form, args=args, course=course, computed_at=computed_at,
        lessons=funnel, quizzes=quiz_lines, scenarios=scenario_lines,
    )


@bp.route("/analytics/quizzes/<quiz_id>")
@trainer_required
def analytics_quiz(quiz_id: str):
    live, quiz = live_activity_or_404("quiz", quiz_id)
    form, flt, args = _filter()
    report, computed_at = _figures(f"quiz:{quiz.id}", live.revision_id, flt, lambda: quizzes.quiz_report(quiz, flt))
    return render_template("studio/analytics_quiz.html", form=form, args=args, report=report, computed_at=computed_at)


@bp.route("/analytics/scenarios/<scenario_id>")
@trainer_required
def analytics_scenario(scenario_id: str):
    live, scenario = live_activity_or_404("scenario", scenario_id)
    form, flt, args = _filter()
    report, computed_at = _figures(f"scenario:{scenario.id}", live.revision_id, flt, lambda: scenarios.scenario_report(scenario, flt))
    return render_template(
        "studio/analytics_scenario.html", form=form, args=args, report=report, computed_at=computed_at,
        graph=layout(scenario, report.choice_counts),
    )
