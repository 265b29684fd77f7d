"""How learners chose in role-plays, counted over the recorded steps."""
from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select

from ..extensions import db
from ..models import ScenarioRun, ScenarioStep


def choice_counts(*where) -> dict[str, Counter]:
    """Per node, how many recorded choices took each option, over the runs matching `where`."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for node_id, choice_id, count in db.session.execute(
        select(ScenarioStep.node_id, ScenarioStep.choice_id, func.count())
        .join(ScenarioRun, ScenarioRun.id == ScenarioStep.run_id)
        .where(*where)
        .group_by(ScenarioStep.node_id, ScenarioStep.choice_id)
    ):
        counts[node_id][choice_id] = count
    return counts


def choice_shares(scenario_id: str) -> dict[str, dict[str, float]]:
    """Return, per node of a scenario, the share of all recorded choices that took each option."""
    return {
        node_id: {choice_id: n / sum(by_choice.values()) for choice_id, n in by_choice.items()}
        for node_id, by_choice in choice_counts(ScenarioRun.scenario_id == scenario_id).items()
    }
