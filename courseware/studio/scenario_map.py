"""Lay out a scenario's node graph for an SVG map: columns by distance from the start, edges per choice.

Pure: a scenario and choice counts in, coordinates out. The template draws them; no JavaScript.
"""
from __future__ import annotations

import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup

from ..content import Node, Scenario
from .messages import translated

NODE_WIDTH = 150
NODE_HEIGHT = 60
COLUMN_GAP = 96
ROW_GAP = 40
MARGIN = 24
SIDE = 48  # room left of the first column for edges between nodes of one column
LANE = 9  # vertical distance between the lanes above the map that edges going back follow
LABEL_OFFSET = 20  # a forward edge's share is written this far right of the node the choice is made at
LABEL_UNITS = 22
MIN_STROKE, MAX_STROKE = 1.5, 10.0


@dataclass(frozen=True)
class MapNode:
    id: str
    x: float
    y: float
    depth: int
    label: str
    title: str
    outcome: str | None
    start: bool

    @property
    def centre_x(self) -> float:
        return self.x + NODE_WIDTH / 2


@dataclass(frozen=True)
class MapEdge:
    node_id: str
    choice_id: str
    target_id: str
    path: str
    label_x: float
    label_y: float
    count: int
    share: float | None
    width: float
    back: bool
    title: str


@dataclass(frozen=True)
class Link:
    """A way on from a node: one of its choices, or a branch of its route (id `route-1`, `route-2`, …)."""

    id: str
    next: str
    title: str


def links(node: Node) -> list[Link]:
    if node.route:
        return [
            Link(f"route-{index}", branch.next, translated(branch.when.describe()) if branch.when else "")
            for index, branch in enumerate(node.route, 1)
        ]
    return [Link(choice.id, choice.next, Markup(choice.html).striptags()) for choice in node.choices]


@dataclass(frozen=True)
class ScenarioMap:
    width: float
    height: float
    node_width: int
    node_height: int
    nodes: tuple[MapNode, ...]
    edges: tuple[MapEdge, ...]


def depths(scenario: Scenario) -> dict[str, int]:
    """Return each node's breadth-first distance from the start node, in discovery order.

    Nodes the start cannot reach (a valid scenario has none) come last, one column further.
    """
    found = {scenario.start: 0}
    queue = [scenario.start]
    for node_id in queue:
        for link in links(scenario.node(node_id)):
            if link.next not in found:
                found[link.next] = found[node_id] + 1
                queue.append(link.next)
    last = max(found.values(), default=0) + 1
    for node in scenario.nodes:
        found.setdefault(node.id, last)
    return found


def layout(scenario: Scenario, counts: Mapping[tuple[str, str], int]) -> ScenarioMap:
    """Place nodes in columns by depth and draw one edge per choice.

    `counts` maps (node id, choice id) to how many times that choice was taken. An edge's label is
    the share of the choices made at its node; its stroke width grows with its count. A choice
    leading one column on is a curve between the columns; one leading to a node of the same column
    runs through the gap on the column's left; one leading back runs along a lane above the map.
    """
    depth = depths(scenario)
    columns = _columns(scenario, depth)
    going_back = sum(depth[link.next] < depth[n.id] for n in scenario.nodes for link in links(n))
    top = MARGIN + going_back * LANE + (LANE if going_back else 0)
    rows = max(len(ids) for ids in columns.values())
    pitch = NODE_HEIGHT + ROW_GAP
    places: dict[str, tuple[float, float]] = {}
    for d, ids in columns.items():
        first = top + (rows - len(ids)) * pitch / 2
        for row, node_id in enumerate(ids):
            places[node_id] = (SIDE + d * (NODE_WIDTH + COLUMN_GAP), first + row * pitch)
    nodes = tuple(_map_node(scenario, node, depth[node.id], places[node.id]) for node in scenario.nodes)
    width = SIDE + MARGIN + (max(columns) + 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = top + rows * pitch - ROW_GAP + MARGIN
    return ScenarioMap(width, height, NODE_WIDTH, NODE_HEIGHT, nodes, _edges(scenario, counts, depth, places))


def _columns(scenario: Scenario, depth: dict[str, int]) -> dict[int, list[str]]:
    """Nodes per column, each column ordered by the mean row of the nodes leading to it (fewer crossings)."""
    columns: dict[int, list[str]] = defaultdict(list)
    for node_id, d in depth.items():
        columns[d].append(node_id)
    parents: dict[str, list[str]] = defaultdict(list)
    for node in scenario.nodes:
        for link in links(node):
            if depth[link.next] == depth[node.id] + 1:
                parents[link.next].append(node.id)
    for d in sorted(columns)[1:]:
        row = {node_id: index for index, node_id in enumerate(columns[d - 1])}
        columns[d].sort(key=lambda node_id: statistics.fmean(
            [row[p] for p in parents[node_id] if p in row] or [len(row)]
        ))
    return columns


def _map_node(scenario: Scenario, node: Node, depth: int, place: tuple[float, float]) -> MapNode:
    text = Markup(node.html).striptags()
    if node.ending:
        label = node.ending.title or node.id
        title = f"{node.ending.title}: {text}" if text else label
    else:
        speaker = scenario.character(node.speaker)
        label = node.id
        title = f"{speaker.name}: {text}" if speaker and text else text or node.id
    return MapNode(
        node.id, place[0], place[1], depth, shorten(label), title,
        node.ending.outcome if node.ending else None, node.id == scenario.start,
    )


def _edges(
    scenario: Scenario, counts: Mapping[tuple[str, str], int], depth: dict[str, int],
    places: dict[str, tuple[float, float]],
) -> tuple[MapEdge, ...]:
    most = max((counts.get((n.id, c.id), 0) for n in scenario.nodes for c in n.choices), default=0)
    incoming: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for node in scenario.nodes:
        for choice in links(node):
            if depth[choice.next] > depth[node.id]:
                incoming[choice.next].append((places[node.id][1], node.id, choice.id))
    slot = {
        (node_id, choice_id): (index + 1) / (len(entries) + 1)
        for entries in incoming.values()
        for index, (_y, node_id, choice_id) in enumerate(sorted(entries))
    }
    edges, sideways, back = [], 0, 0
    for node in scenario.nodes:
        made = sum(counts.get((node.id, c.id), 0) for c in node.choices)
        ways = links(node)
        for index, choice in enumerate(ways):
            count = counts.get((node.id, choice.id), 0)
            (sx, sy), (tx, ty) = places[node.id], places[choice.next]
            spread = (index + 1) / (len(ways) + 1)
            step = depth[choice.next] - depth[node.id]
            if step > 0:  # one column on: a curve from the right side to the left side
                start = (sx + NODE_WIDTH, sy + NODE_HEIGHT * spread)
                end = (tx - 2, ty + NODE_HEIGHT * slot[node.id, choice.id])
                half = (end[0] - start[0]) / 2
                c1, c2 = (start[0] + half, start[1]), (end[0] - half, end[1])
                path = "M {:.1f} {:.1f} C {:.1f} {:.1f}, {:.1f} {:.1f}, {:.1f} {:.1f}".format(*start, *c1, *c2, *end)
                label = (start[0] + LABEL_OFFSET, start[1])  # on the edge as it leaves, in choice order
            elif step == 0:  # same column: out of the left side, along the gap, into the left side
                x = sx - 12 - 7 * (sideways % 5)
                y1, y2 = sy + NODE_HEIGHT * 0.3, ty + NODE_HEIGHT * 0.7
                path = f"M {sx:.1f} {y1:.1f} H {x:.1f} V {y2:.1f} H {tx - 2:.1f}"
                label = (x - 14, (y1 + y2) / 2)
                sideways += 1
            else:  # back: up the gap on the left, along a lane above the map, down the gap on the right
                lane = MARGIN + back * LANE
                x1, x2 = sx - 10 - 6 * (back % 6), tx + NODE_WIDTH + 10 + 6 * (back % 6)
                y1, y2 = sy + NODE_HEIGHT * 0.5, ty + NODE_HEIGHT * 0.5
                path = f"M {sx:.1f} {y1:.1f} H {x1:.1f} V {lane:.1f} H {x2:.1f} V {y2:.1f} H {tx + NODE_WIDTH + 2:.1f}"
                label = ((x1 + x2) / 2, lane - 3)
                back += 1
            width = MIN_STROKE + (MAX_STROKE - MIN_STROKE) * count / most if most else MIN_STROKE
            edges.append(MapEdge(
                node.id, choice.id, choice.next, path, round(label[0], 1), round(label[1], 1),
                count, count / made if made else None, round(width, 1), step <= 0, choice.title,
            ))
    return tuple(edges)


def shorten(text: str, units: int = LABEL_UNITS) -> str:
    """Cut `text` to fit a node box, counting wide (CJK) characters as two units."""
    used, kept = 0, []
    for ch in text:
        used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used > units:
            return "".join(kept).rstrip() + "…"
        kept.append(ch)
    return text
