"""The role-play state machine: a scenario and the choices made so far in, the state out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..content import ELEMENTS, Node, Scenario
from ..content.paths import add, arrive
from ..content.scenario import Choice


class InvalidChoice(ValueError):
    """A choice that the current node does not offer (stale page, tampered form, finished run)."""


@dataclass(frozen=True)
class Step:
    node: Node
    choice: Choice


@dataclass(frozen=True)
class Play:
    scenario: Scenario
    steps: tuple[Step, ...]
    node: Node

    @property
    def finished(self) -> bool:
        return self.node.ending is not None

    @property
    def profile(self) -> dict[str, int]:
        """Sum of the chosen effects on each of the four core elements."""
        totals = dict.fromkeys(ELEMENTS, 0)
        for step in self.steps:
            for element, value in step.choice.effects:
                totals[element] += value
        return totals


def play(scenario: Scenario, choice_ids: Sequence[str]) -> Play:
    """Replay `choice_ids` from the start; raise InvalidChoice at the first one not on offer.

    Route nodes are passed through: each leads on by the choices made and the totals so far.
    """
    chosen: set[str] = set()
    totals: dict[str, int] = {}
    node = arrive(scenario.node, scenario.start, chosen, totals)
    steps: list[Step] = []
    for choice_id in choice_ids:
        choice = node.choice(choice_id)
        if choice is None:
            raise InvalidChoice(f"'{choice_id}' is not a choice at node '{node.id}'")
        steps.append(Step(node, choice))
        chosen.add(f"{node.id}/{choice.id}")
        totals = add(totals, choice.effects)
        node = arrive(scenario.node, choice.next, chosen, totals)
    return Play(scenario, tuple(steps), node)


def model_path(scenario: Scenario) -> Play:
    """Follow the choices marked best from the start to an ending."""
    node, choices, seen = scenario.node(scenario.start), [], set()
    while node.choices and node.id not in seen:
        seen.add(node.id)
        best = next(c for c in node.choices if c.best)
        choices.append(best.id)
        node = scenario.node(best.next)
    return play(scenario, choices)
