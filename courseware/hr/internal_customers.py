"""The report this curriculum exists to improve: how departments serve each other.

First what internal customers said in the latest survey round (its interface heatmap) and how
each department's rating moved beside its training. Then the role-play results, aggregated as each
department's profile on the four core elements, and, for scenarios tagged with a supplying and a receiving department, which interfaces score worst.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from ..access import hr_required
from ..content import Course, Scenario
from ..learning import roleplay
from ..people.departments import DepartmentNode, tree
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from ..surveys import heatmap
from ..surveys import results as survey_results
from . import bp, gains, reports
from .assignments import today


@dataclass(frozen=True)
class Interface:
    scenario: Scenario
    runs: int
    percent: int  # the learners' average total, as a share of the model path's total


@bp.route("/internal-customers")
@hr_required
def internal_customers():
    live = require_live_course()
    nodes = tree()
    visible = visible_department_ids(nodes)
    results = reports.scenario_results(visible)
    interfaces = []
    for scenario in live.course.scenarios:
        runs, average = results.get(scenario.id, (0, 0.0))
        best = sum(roleplay.model_path(scenario).profile.values())
        if runs and best > 0:
            interfaces.append(Interface(scenario, runs, round(100 * average / best)))
    return render_template(
        "hr/internal_customers.html",
        **_survey_results(live.course, nodes, visible),
        profiles=reports.element_profiles(visible),
        interfaces=sorted(interfaces, key=lambda i: i.percent),
    )


def _survey_results(course: Course, nodes: list[DepartmentNode], visible: set[int] | None) -> dict:
    """The latest round's heatmap and the training impact, for the departments HR sees."""
    names = {node.id: node.path for node in nodes}
    rounds = survey_results.rounds_rating(visible, today())
    if not rounds:
        return {"survey": None, "names": names, "impact": []}
    latest = rounds[-1]
    matrix = survey_results.interface_matrix(latest, visible)
    caption = heatmap.caption(latest.title)
    impact = survey_results.training_impact(
        nodes, visible, rounds, reports.completion_by_department(course.id, nodes, visible), gains.by_department(course, visible),
    ) if len(rounds) >= 2 else []
    return {
        "survey": {"round": latest, "matrix": matrix, "caption": caption, "svg": heatmap.render(matrix, names, latest.threshold, caption)},
        "names": names, "impact": impact,
    }
