"""Paths through a role-play: where route nodes lead, and whether the model path scores the most.

The score of a path is the sum of every effect of its choices. The model path (the choices marked
`best`) must score at least as much as any path from the start to an ending; a loop counts once,
since going round a loop must not raise the score (a loop that does is refused).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

from .conditions import TOTAL, follow
from .errors import N_, ContentError

if TYPE_CHECKING:
    from .scenario import Node

SEARCH_BUDGET = 200_000  # choices tried while looking for a path better than the model; hand-written graphs need far fewer


def arrive(lookup: Callable[[str], Node], node_id: str, chosen: Collection[str], totals: Mapping[str, int]) -> Node:
    """Return the node a learner lands on at `node_id`, following route nodes (the compiler refuses loops of routes)."""
    node = lookup(node_id)
    while node.route:
        node = lookup(follow(node.route, chosen, totals))
    return node


def add(totals: Mapping[str, int], effects: tuple[tuple[str, int], ...]) -> dict[str, int]:
    """Return `totals` moved by a choice's effects, each element and the total."""
    moved = dict(totals)
    for element, value in effects:
        moved[element] = moved.get(element, 0) + value
        moved[TOTAL] = moved.get(TOTAL, 0) + value
    return moved


def check_paths(path: str, start: str, nodes: Mapping[str, Node], lines: Mapping[str, int], errors: list[ContentError]) -> None:
    """Refuse loops of routes, loops that raise the score, and a model path that scores less than another path."""
    before = len(errors)
    _check_route_loops(path, nodes, lines, errors)
    if len(errors) > before:
        return
    bound = _upper_bounds(path, nodes, lines, errors)
    if bound is None:
        return
    model = _model_path(path, start, nodes, lines, errors)
    if model is None:
        return
    score = sum(add({}, nodes[n].choice(c).effects).get(TOTAL, 0) for n, c in model)
    better = _better_path(start, nodes, bound, score)
    if better is not None:
        steps, total = better
        fork = next((n for (n, c), m in zip(steps, model) if (n, c) != m), steps[-1][0])
        errors.append(ContentError(path, lines[fork], N_(
            "the model path (the choices marked best) scores %(score)s in total, but "
            "%(path)s scores %(total)s: mark 'best: true' along the highest-scoring path",
            score=f"{score:+d}", path=" → ".join(f"{n}/{c}" for n, c in steps), total=f"{total:+d}",
        )))


def _check_route_loops(path: str, nodes: Mapping[str, Node], lines: Mapping[str, int], errors: list[ContentError]) -> None:
    """Peel off route nodes that no other route leads to; those left are in (or after) a loop of routes."""
    left = {n for n, node in nodes.items() if node.route}
    while True:
        led_to = {b.next for n in left for b in nodes[n].route}
        free = {n for n in left if n not in led_to}
        if not free:
            break
        left -= free
    if left:
        node_id = min(left, key=lines.__getitem__)
        errors.append(ContentError(path, lines[node_id], N_(
            "routes lead round in a loop through '%(node)s' with no choice for the learner", node=node_id
        )))


def _upper_bounds(path: str, nodes: Mapping[str, Node], lines: Mapping[str, int], errors: list[ContentError]) -> dict[str, int] | None:
    """The most each node can still add to the score, taking any branch of a route (Bellman-Ford on the longest path)."""
    bound: dict[str, int | None] = {n: 0 if node.ending else None for n, node in nodes.items()}
    for _ in range(len(nodes) + 1):
        changed = []
        for node_id, node in nodes.items():
            options = [add({}, c.effects).get(TOTAL, 0) + bound[c.next] for c in node.choices if bound[c.next] is not None]
            options += [bound[b.next] for b in node.route if bound[b.next] is not None]
            if options and (bound[node_id] is None or max(options) > bound[node_id]):
                bound[node_id] = max(options)
                changed.append(node_id)
        if not changed:
            return {n: b for n, b in bound.items() if b is not None}
    errors.append(ContentError(path, lines[changed[0]], N_(
        "going round the loop through '%(node)s' adds to the score every time: "
        "the effects of the choices around a loop must add up to zero or less", node=changed[0]
    )))
    return None


def _model_path(path: str, start: str, nodes: Mapping[str, Node], lines: Mapping[str, int], errors: list[ContentError]) -> list[tuple[str, str]] | None:
    steps: list[tuple[str, str]] = []
    totals: dict[str, int] = {}
    node = arrive(nodes.__getitem__, start, set(), totals)
    while not node.ending:
        if any(n == node.id for n, _ in steps):
            errors.append(ContentError(path, lines[node.id], N_(
                "the choices marked best lead round in a loop at node '%(node)s' and never reach an ending", node=node.id
            )))
            return None
        best = next(c for c in node.choices if c.best)
        steps.append((node.id, best.id))
        totals = add(totals, best.effects)
        node = arrive(nodes.__getitem__, best.next, {f"{n}/{c}" for n, c in steps}, totals)
    return steps


def _better_path(
    start: str, nodes: Mapping[str, Node], bound: Mapping[str, int], score: int
) -> tuple[list[tuple[str, str]], int] | None:
    """Search, depth first and pruned by `bound`, for a path to an ending scoring more than `score`."""
    first = arrive(nodes.__getitem__, start, set(), {})
    stack: list[tuple[Node, tuple[tuple[str, str], ...], dict[str, int]]] = [(first, (), {})]
    budget = SEARCH_BUDGET
    while stack and budget > 0:
        node, steps, totals = stack.pop()
        visited = {n for n, _ in steps}
        for choice in reversed(node.choices):  # the first choice is tried first
            budget -= 1
            moved = add(totals, choice.effects)
            if moved.get(TOTAL, 0) + bound.get(choice.next, 0) <= score:
                continue
            taken = (*steps, (node.id, choice.id))
            landed = arrive(nodes.__getitem__, choice.next, {f"{n}/{c}" for n, c in taken}, moved)
            if landed.ending:
                if moved.get(TOTAL, 0) > score:
                    return list(taken), moved[TOTAL]
            elif landed.id not in visited and landed.id != node.id:
                stack.append((landed, taken, moved))
    return None
