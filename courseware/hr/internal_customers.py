"""The report this curriculum exists to improve: how departments serve each other.

Role-play results aggregated as each department's profile on the four core elements, and, for
scenarios tagged with a supplying and a receiving department, which interfaces score worst.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from ..access import hr_required
from ..content import Scenario
from ..learning import roleplay
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from . import bp, reports


@dataclass(frozen=True)
class Interface:
    scenario: Scenario
    runs: int
    percent: int  # the learners' average total, as a share of the model path's total


@bp.route("/internal-customers")
@hr_required
def internal_customers():
    live = require_live_course()
    visible = visible_department_ids()
    results = reports.scenario_results(visible)
    interfaces = []
    for scenario in live.course.scenarios:
        runs, average = results.get(scenario.id, (0, 0.0))
        best = sum(roleplay.model_path(scenario).profile.values())
        if runs and best > 0:
            interfaces.append(Interface(scenario, runs, round(100 * average / best)))
    return render_template(
        "hr/internal_customers.html",
        profiles=reports.element_profiles(visible),
        interfaces=sorted(interfaces, key=lambda i: i.percent),
    )
