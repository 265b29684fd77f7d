"""Aggregates over learner records, computed in SQL."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from .extensions import db
from .models import ScenarioRun, ScenarioStep


def choice_shares(scenario_id: str) -> dict[str, dict[str, float]]:
    """Return, per node of a scenario, the share of all recorded choices that took each option."""
    rows = db.session.execute(
        select(ScenarioStep.node_id, ScenarioStep.choice_id, func.count())
        .join(ScenarioRun, ScenarioRun.id == ScenarioStep.run_id)
        .where(ScenarioRun.scenario_id == scenario_id)
        .group_by(ScenarioStep.node_id, ScenarioStep.choice_id)
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for node_id, choice_id, count in rows:
        counts[node_id][choice_id] = count
    return {
        node_id: {choice_id: n / sum(by_choice.values()) for choice_id, n in by_choice.items()}
        for node_id, by_choice in counts.items()
    }
