"""Which role-play choices learners make: per scenario, endings reached and choices taken at each node."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from ...content import Course, Scenario
from ...content.scenario import Choice, Node
from ...extensions import db
from ...learning.choices import choice_counts
from ...models import ScenarioRun
from .filters import Filter, share


def _runs(flt: Filter, *where) -> list:
    return [*where, *flt.during(ScenarioRun.started_at), *flt.by(ScenarioRun.user_id)]


@dataclass(frozen=True)
class ScenarioHeadline:
    scenario: Scenario
    started: int
    finished: int
    top_ending: Node | None
    top_ending_id: str | None
    top_ending_count: int


def scenario_headlines(course: Course, flt: Filter) -> list[ScenarioHeadline]:
    """Per scenario of the course: runs started and finished, and the ending reached most often."""
    scenario_ids = [s.id for s in course.scenarios]
    started: Counter = Counter()
    finished: Counter = Counter()
    for scenario_id, status, n in db.session.execute(
        select(ScenarioRun.scenario_id, ScenarioRun.status, func.count())
        .where(*_runs(flt, ScenarioRun.scenario_id.in_(scenario_ids)))
        .group_by(ScenarioRun.scenario_id, ScenarioRun.status)
    ):
        started[scenario_id] += n
        finished[scenario_id] += n if status == "finished" else 0
    endings: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for scenario_id, ending_id, n in db.session.execute(
        select(ScenarioRun.scenario_id, ScenarioRun.ending_id, func.count())
        .where(*_runs(flt, ScenarioRun.scenario_id.in_(scenario_ids), ScenarioRun.status == "finished"))
        .group_by(ScenarioRun.scenario_id, ScenarioRun.ending_id)
    ):
        endings[scenario_id].append((n, ending_id or ""))
    headlines = []
    for scenario in course.scenarios:
        count, ending_id = min(endings[scenario.id], key=lambda pair: (-pair[0], pair[1]), default=(0, None))
        node = _node(scenario, ending_id)
        headlines.append(ScenarioHeadline(
            scenario, started[scenario.id], finished[scenario.id], node, ending_id, count
        ))
    return headlines


def _node(scenario: Scenario, node_id: str | None) -> Node | None:
    return next((n for n in scenario.nodes if n.id == node_id), None)


@dataclass(frozen=True)
class ChoiceStats:
    choice_id: str
    choice: Choice | None
    count: int
    share: float | None


@dataclass(frozen=True)
class NodeStats:
    node_id: str
    node: Node | None
    choices_made: int
    choices: tuple[ChoiceStats, ...]


@dataclass(frozen=True)
class EndingStats:
    node_id: str
    node: Node | None
    count: int
    share: float | None


@dataclass(frozen=True)
class ScenarioReport:
    scenario: Scenario
    started: int
    finished: int
    nodes: tuple[NodeStats, ...]
    endings: tuple[EndingStats, ...]

    @property
    def choice_counts(self) -> dict[tuple[str, str], int]:
        """(node id, choice id) → how many times that choice was taken."""
        return {(n.node_id, c.choice_id): c.count for n in self.nodes for c in n.choices}


def scenario_report(scenario: Scenario, flt: Filter) -> ScenarioReport:
    """Which choices learners take at each node, and which endings they reach, over runs in the filter.

    A run is in the filter when it started in the date range and its learner is in the departments.
    Per node: how often each choice was taken and its share of the choices made at that node.
    Per ending: how many finished runs reached it and their share of the finished runs. Nodes and
    choices no longer in the scenario but present in the records are listed after the others.
    """
    in_filter = _runs(flt, ScenarioRun.scenario_id == scenario.id)
    started = finished = 0
    for status, n in db.session.execute(
        select(ScenarioRun.status, func.count()).where(*in_filter).group_by(ScenarioRun.status)
    ):
        started += n
        finished += n if status == "finished" else 0
    taken = choice_counts(*in_filter)
    reached = Counter({
        ending_id: n
        for ending_id, n in db.session.execute(
            select(ScenarioRun.ending_id, func.count())
            .where(*in_filter, ScenarioRun.status == "finished")
            .group_by(ScenarioRun.ending_id)
        )
        if ending_id is not None
    })
    nodes = [_node_stats(node.id, node, taken[node.id]) for node in scenario.nodes if node.choices]
    known = {node.id for node in scenario.nodes}
    nodes += [_node_stats(node_id, None, taken[node_id]) for node_id in sorted(taken) if node_id not in known]
    endings = [EndingStats(n.id, n, reached[n.id], share(reached[n.id], finished)) for n in scenario.endings]
    endings += [
        EndingStats(ending_id, None, count, share(count, finished))
        for ending_id, count in sorted(reached.items()) if ending_id not in {e.node_id for e in endings}
    ]
    return ScenarioReport(scenario, started, finished, tuple(nodes), tuple(endings))


def _node_stats(node_id: str, node: Node | None, counts: Counter) -> NodeStats:
    made = sum(counts.values())
    choices = [ChoiceStats(c.id, c, counts[c.id], share(counts[c.id], made)) for c in (node.choices if node else ())]
    offered = {c.choice_id for c in choices}
    choices += [
        ChoiceStats(choice_id, None, n, share(n, made))
        for choice_id, n in sorted(counts.items()) if choice_id not in offered
    ]
    return NodeStats(node_id, node, made, tuple(choices))
