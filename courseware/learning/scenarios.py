"""Role-play scenarios for learners: play, resume, see the debrief, replay."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import live_activity_or_404, own_try_or_404
from ..content import Scenario
from ..forms import EmptyForm
from ..models import ScenarioRun
from ..publishing import live_course
from . import choices, records, roleplay

bp = Blueprint("scenarios", __name__, url_prefix="/scenarios")


def _run_or_404(scenario_id: str, run_id: str) -> tuple[ScenarioRun, Scenario]:
    return own_try_or_404(ScenarioRun, run_id, "scenario", scenario_id)


@bp.route("/<scenario_id>")
@login_required
def overview(scenario_id: str):
    live, scenario = live_activity_or_404("scenario", scenario_id)
    runs = records.runs_of(current_user, scenario.id)
    open_run = next((r for r in runs if r.status == "in_progress"), None)
    if open_run is not None:
        return redirect(url_for(".run", scenario_id=scenario.id, run_id=open_run.id))
    return render_template(
        "scenarios/overview.html",
        course=live.course,
        scenario=scenario,
        module=live.course.module(scenario.module_id) if scenario.module_id else None,
        runs=[r for r in runs if r.status == "finished"],
        form=EmptyForm(),
    )


@bp.route("/<scenario_id>/start", methods=["POST"])
@login_required
def start(scenario_id: str):
    live, scenario = live_activity_or_404("scenario", scenario_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    run = records.start_run(current_user, live, scenario, fresh=request.form.get("replay") == "1")
    return redirect(url_for(".run", scenario_id=scenario.id, run_id=run.id))


@bp.route("/<scenario_id>/runs/<run_id>")
@login_required
def run(scenario_id: str, run_id: str):
    run, scenario = _run_or_404(scenario_id, run_id)
    state = roleplay.play(scenario, run.choice_ids)
    live = live_course()
    if state.finished:
        return render_template(
            "scenarios/debrief.html",
            scenario=scenario,
            course=live.course,
            run=run,
            state=state,
            model=roleplay.model_path(scenario),
            shares=choices.choice_shares(scenario.id),
            module=live.course.module(scenario.module_id) if scenario.module_id else None,
            form=EmptyForm(),
        )
    return render_template("scenarios/run.html", scenario=scenario, run=run, state=state, form=EmptyForm())


@bp.route("/<scenario_id>/runs/<run_id>/choose", methods=["POST"])
@login_required
def choose(scenario_id: str, run_id: str):
    run, scenario = _run_or_404(scenario_id, run_id)
    try:
        step = int(request.form.get("step", ""))
    except ValueError:
        abort(400)
    try:
        records.choose(current_user, live_course(), run, scenario, step, request.form.get("choice", ""))
    except roleplay.InvalidChoice:
        flash(_("That choice is not available here any more; pick one of the choices shown."), "warning")
    return redirect(url_for(".run", scenario_id=scenario_id, run_id=run_id, _anchor="current"))
