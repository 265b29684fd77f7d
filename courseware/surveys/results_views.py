"""Survey results, the interface heatmap, trends and improvement plans: routes on `bp`.

Who sees what comes from `audience` (HR in its scope, a head for the departments they head); every
figure and comment has passed the threshold in `results`. A round or department the viewer may not
see is "not found".
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..forms import FlaskForm, options
from ..hr import spreadsheets
from ..hr.assignments import today
from ..inputs import within_window
from ..models import SCORES, PlanStatus, SurveyRound
from ..people import audit
from ..people.departments import tree
from . import bp, heatmap, plans, results
from .audience import may_see_results, result_department_ids


def _labels() -> dict[str, str]:
    return {
        "communication": _("Communication"), "understanding": _("Understanding"), "collaboration": _("Collaboration"),
        "feedback": _("Feedback"), "overall": _("Overall"),
    }


def _statuses() -> dict[str, str]:
    return {PlanStatus.PLANNED: _("Planned"), PlanStatus.IN_PROGRESS: _("In progress"), PlanStatus.DONE: _("Done")}


class PlanForm(FlaskForm):
    actions = TextAreaField(_l("What your department will do"), validators=[DataRequired(), Length(max=4000)])
    owner = StringField(_l("Who owns it"), validators=[DataRequired(), Length(max=120)])
    due_on = DateField(_l("To be done by"), validators=[DataRequired(), within_window])
    status = SelectField(_l("Status"), validators=[DataRequired()])


def _round_or_404(round_id: int) -> tuple[SurveyRound, set[int] | None]:
    """The round, if it rates a department whose results the viewer may see, and those departments (None: all)."""
    survey = db.session.get(SurveyRound, round_id)
    allowed = result_department_ids(current_user)
    if survey is None or not results.rated_department_ids(survey, allowed) or not results.closed(survey, today()):
        abort(404)
    return survey, allowed


def _rated_or_404(survey: SurveyRound, department_id: int) -> None:
    if department_id not in survey.department_ids or not may_see_results(current_user, department_id):
        abort(404)


@bp.get("/results")
@login_required
def results_index():
    allowed = result_department_ids(current_user)
    rounds = results.rounds_rating(allowed, today()) if allowed is None or allowed else []
    return render_template("surveys/results_index.html", rounds=list(reversed(rounds)))


@bp.get("/results/<int:round_id>")
@login_required
def round_results(round_id: int):
    survey, allowed = _round_or_404(round_id)
    names = {node.id: node.path for node in tree()}
    matrix = results.interface_matrix(survey, allowed)
    caption = heatmap.caption(survey.title)
    return render_template(
        "surveys/results_round.html", survey=survey, names=names, labels=_labels(), scores=SCORES,
        cards=results.scorecards(survey, allowed), matrix=matrix, caption=caption,
        svg=heatmap.render(matrix, names, survey.threshold, caption), low=plans.low_interfaces(matrix), low_rating=plans.LOW_RATING,
        plans=plans.plans_of(survey.id, matrix.suppliers), statuses=_statuses(),
    )


@bp.get("/results/<int:round_id>/departments/<int:department_id>")
@login_required
def department_results(round_id: int, department_id: int):
    survey, _allowed = _round_or_404(round_id)
    _rated_or_404(survey, department_id)
    only = {department_id}
    matrix = results.interface_matrix(survey, only)
    before = results.previous_round(survey, department_id)
    outcomes = []
    if before is not None:
        outcomes = plans.outcomes(results.interface_matrix(before, only), plans.plans_of(before.id, [department_id]), matrix)
    return render_template(
        "surveys/results_department.html", survey=survey, department_id=department_id, labels=_labels(), scores=SCORES,
        names={node.id: node.path for node in tree()}, card=results.scorecards(survey, only)[department_id],
        trend=results.trends(results.rounds_rating(only, today()), only).get(department_id, []),
        comments=results.comments(survey, department_id, matrix), matrix=matrix,
        low=plans.low_interfaces(matrix, department_id), low_rating=plans.LOW_RATING, plans=plans.plans_of(survey.id, [department_id]),
        may_write=plans.may_write(current_user, department_id), before=before, outcomes=outcomes, statuses=_statuses(),
    )


@bp.route("/results/<int:round_id>/plans/<int:supplier_id>/<int:customer_id>", methods=["GET", "POST"])
@login_required
def improvement_plan(round_id: int, supplier_id: int, customer_id: int):
    """The supplier's head writes or updates the plan for a low-rated interface; HR may read it."""
    survey, _allowed = _round_or_404(round_id)
    _rated_or_404(survey, supplier_id)
    plan = plans.find(survey.id, supplier_id, customer_id)
    writer = plans.may_write(current_user, supplier_id)
    if plan is None and not (writer and plans.is_low(results.interface_matrix(survey, {supplier_id}), supplier_id, customer_id)):
        abort(404)
    form = PlanForm(obj=plan)
    form.status.choices = options(_statuses().items())
    if form.is_submitted() and not writer:
        abort(403)
    if form.validate_on_submit():
        plans.save(survey, supplier_id, customer_id, current_user, actions=form.actions.data, owner=form.owner.data,
                   due_on=form.due_on.data, status=PlanStatus(form.status.data))
        flash(_("Plan saved. The customer department sees it and its status."), "success")
        return redirect(url_for(".department_results", round_id=survey.id, department_id=supplier_id))
    names = {node.id: node.path for node in tree()}
    return render_template("surveys/plans_edit.html", survey=survey, form=form, plan=plan, writer=writer,
                           supplier=names.get(supplier_id), customer=names.get(customer_id), supplier_id=supplier_id,
                           statuses=_statuses())


@bp.get("/improvement-plans")
@login_required
def plans_for_my_department():
    """What other departments promised the viewer's department (and the ones above it)."""
    names = {node.id: node.path for node in tree()}
    return render_template("surveys/plans_mine.html", plans=plans.addressed_to(current_user.department), names=names,
                           statuses=_statuses())


@bp.get("/results/<int:round_id>/results.<fmt>")
@login_required
def export_results(round_id: int, fmt: str):
    """The round's aggregates the viewer may see, the threshold applied: one row per department, then per interface."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    survey, allowed = _round_or_404(round_id)
    names = {node.id: node.path for node in tree()}
    rows = _export_rows(survey, allowed, names)
    audit.record("export_survey_results", detail={"round": survey.id, "format": fmt})
    stamp = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y%m%d-%H%M")
    return spreadsheets.download(rows, fmt, f"survey-{survey.id}-results-{stamp}", _("Survey results"))


def _export_rows(survey: SurveyRound, allowed: set[int] | None, names: dict[int, str]) -> list[list[spreadsheets.Value]]:
    """Built in full before streaming starts (the stream outlives the request): a few hundred rows at most.

    A hidden interface is listed like one nobody answered for, so the file never tells 0 from 1–4.
    """
    labels = _labels()
    too_few = _("fewer than %(n)s answers", n=survey.threshold)
    everyone = _("All customer departments")
    header = [_("Rated department"), _("Customer department"), _("Answers")] + [labels[name] for name in SCORES] + [_("Note")]

    def row(supplier: int, customer: str, scores: results.Scores) -> list[spreadsheets.Value]:
        means = [round(scores.scores[name].mean, 2) if scores.scores[name].shown else None for name in SCORES]
        return [names.get(supplier, "?"), customer, scores.answers.count, *means, "" if scores.answers.shown else too_few]

    matrix = results.interface_matrix(survey, allowed)
    lines: list[list[spreadsheets.Value]] = [header]
    for supplier, scores in results.scorecards(survey, allowed).items():
        lines.append(row(supplier, everyone, scores))
        lines += [row(supplier, names.get(customer, "?"), matrix.cell(supplier, customer))
                  for customer in matrix.customers if customer != supplier]
    return lines
