"""Role-play scenarios: a graph of nodes and choices, validated as a whole."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from . import frontmatter as fm
from .conditions import Branch, Condition, compile_route
from .errors import N_, ContentError, Message
from .paths import check_paths
from .render import render, render_inline
from .yamlfile import Fields, LineDict, LineList, is_bool, is_list, is_mapping, one_of

ELEMENTS = ("沟通", "理解", "协作", "反馈")
OUTCOMES = ("good", "mixed", "poor")
CUSTOMER_TYPES = ("层级客户", "职能客户", "工序客户")


@dataclass(frozen=True)
class Character:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class Choice:
    id: str
    html: str
    feedback_html: str
    effects: tuple[tuple[str, int], ...]
    next: str
    best: bool = False


@dataclass(frozen=True)
class Ending:
    title: str
    outcome: str
    debrief_html: str
    lessons: tuple[str, ...]


@dataclass(frozen=True)
class Node:
    id: str
    speaker: str | None
    html: str
    choices: tuple[Choice, ...]
    ending: Ending | None
    route: tuple[Branch, ...] = ()  # a route node shows nothing: it leads on by what the learner did

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    summary: str
    learner_html: str
    customer_type: str | None
    supplier: str | None
    receiver: str | None
    characters: tuple[Character, ...]
    start: str
    nodes: tuple[Node, ...]
    path: str
    module_id: str | None = None
    title_en: str = ""

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def character(self, character_id: str | None) -> Character | None:
        return next((c for c in self.characters if c.id == character_id), None)

    @property
    def endings(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.ending)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        nodes = []
        for n in data["nodes"]:
            choices = tuple(
                Choice(**{**c, "effects": tuple((e, v) for e, v in c["effects"])}) for c in n["choices"]
            )
            ending = n["ending"] and Ending(**{**n["ending"], "lessons": tuple(n["ending"]["lessons"])})
            route = tuple(_branch_from_dict(b) for b in n.get("route") or ())
            nodes.append(Node(n["id"], n["speaker"], n["html"], choices, ending or None, route))
        return cls(
            **{
                **data,
                "characters": tuple(Character(**c) for c in data["characters"]),
                "nodes": tuple(nodes),
            }
        )


def _branch_from_dict(data: Mapping[str, Any]) -> Branch:
    when = data["when"]
    if when is not None:
        when = Condition(
            tuple(when["chose"]), tuple(when["not_chose"]),
            tuple((e, v) for e, v in when["at_least"]), tuple((e, v) for e, v in when["at_most"]),
        )
    return Branch(data["next"], when)


SCENARIO_FIELDS = (
    "id", "kind", "title", "title_en", "summary", "learner", "customer_type", "supplier", "receiver",
    "characters", "start", "nodes",
)


def compile_scenario(
    path: str, data: LineDict, errors: list[ContentError], lesson_ids: frozenset[str] | None
) -> Scenario | None:
    """Build a scenario, reporting broken links, unreachable nodes, dead ends and dead loops."""
    before = len(errors)
    f = Fields(path, data, errors)
    f.allow(*SCENARIO_FIELDS)
    scenario_id = f.get("id", fm.slug)
    title = f.get("title", fm.text, "")
    title_en = f.optional("title_en", fm.one_line, "")
    summary = f.optional("summary", fm.text, "")
    learner = f.optional("learner", fm.text, "")
    customer_type = f.optional("customer_type", one_of(*CUSTOMER_TYPES))
    supplier = f.optional("supplier", fm.text)
    receiver = f.optional("receiver", fm.text)
    characters = _characters(f)
    start = f.get("start", fm.slug)
    raw_nodes = f.get("nodes", is_list, LineList())

    nodes: dict[str, Node] = {}
    node_lines: dict[str, int] = {}
    next_lines: list[tuple[str, str, int]] = []
    refs: list[tuple[str, int]] = []
    for index, raw in enumerate(raw_nodes):
        if not isinstance(raw, LineDict):
            errors.append(ContentError(path, raw_nodes.line_of(index), N_("each node must be fields written as 'name: value'")))
            continue
        node = _node(path, raw, errors, {c.id for c in characters}, lesson_ids, next_lines, refs)
        if node is None:
            continue
        if node.id in nodes:
            errors.append(ContentError(path, raw.line_of("id"), N_(
                "node id '%(node)s' is already used on line %(line)s", node=node.id, line=node_lines[node.id]
            )))
            continue
        nodes[node.id] = node
        node_lines[node.id] = raw.line_of("id")

    for node_id, target, line in next_lines:
        if target not in nodes:
            errors.append(ContentError(path, line, N_(
                "choice in node '%(node)s' leads to '%(target)s', which is not a node", node=node_id, target=target
            )))
    for ref, line in refs:
        node_id, _, choice_id = ref.partition("/")
        if node_id not in nodes:
            errors.append(ContentError(path, line, N_("'when' names '%(ref)s', but '%(node)s' is not a node", ref=ref, node=node_id)))
        elif nodes[node_id].choice(choice_id) is None:
            errors.append(ContentError(path, line, N_(
                "'when' names '%(ref)s', but node '%(node)s' has no choice '%(choice)s'", ref=ref, node=node_id, choice=choice_id
            )))
    if start is not None and nodes and start not in nodes:
        f.error("start", N_("start node '%(node)s' is not a node", node=start))
    if len(errors) == before and nodes:
        _check_graph(path, start, nodes, node_lines, errors)
    if len(errors) > before:
        return None
    return Scenario(
        scenario_id, title.strip(), str(summary).strip(), render(str(learner)), customer_type,
        supplier, receiver, tuple(characters), start, tuple(nodes.values()), path, title_en=title_en.strip(),
    )


def _characters(f: Fields) -> list[Character]:
    raw = f.get("characters", is_list, LineList())
    characters = []
    for index, item in enumerate(raw):
        if not isinstance(item, LineDict):
            f.error_at(raw.line_of(index), N_("each character must be written as {id: …, name: …, role: …}"))
            continue
        c = Fields(f.path, item, f.errors)
        c.allow("id", "name", "role")
        character_id, name, role = c.get("id", fm.slug), c.get("name", fm.text), c.optional("role", fm.text, "")
        if character_id and name:
            characters.append(Character(character_id, name, role))
    return characters


def _node(
    path: str,
    raw: LineDict,
    errors: list[ContentError],
    characters: set[str],
    lesson_ids: frozenset[str] | None,
    next_lines: list[tuple[str, str, int]],
    refs: list[tuple[str, int]],
) -> Node | None:
    before = len(errors)
    f = Fields(path, raw, errors)
    f.allow("id", "speaker", "text", "choices", "ending", "route")
    node_id = f.get("id", fm.slug)
    where = (N_("node '%(node)s': ", node=node_id),)
    f.where = where
    if "route" in raw:
        if shown := [key for key in ("speaker", "text", "choices", "ending") if key in raw]:
            f.error(shown[0], N_("a node with 'route' has only an 'id': the learner never sees it, so it has no text, choices or ending"))
        route = compile_route(f, ELEMENTS, refs, next_lines, node_id)
        return None if len(errors) > before else Node(node_id, None, "", (), None, route)
    speaker = f.optional("speaker", fm.slug)
    if speaker is not None and speaker not in characters:
        f.error("speaker", N_("speaker '%(speaker)s' is not one of the characters", speaker=speaker))
    text = f.optional("text", fm.text, "")
    ending = _ending(f, lesson_ids) if "ending" in raw else None
    choices: list[Choice] = []
    if "choices" in raw:
        raw_choices = f.get("choices", is_list, LineList())
        for index, item in enumerate(raw_choices):
            if not isinstance(item, LineDict):
                f.error_at(raw_choices.line_of(index), N_("each choice must be fields written as 'name: value'"))
                continue
            choice = _choice(path, item, errors, where, node_id, next_lines)
            if choice is not None:
                choices.append(choice)
        if choices and sum(c.best for c in choices) != 1:
            f.error("choices", N_("mark exactly one choice 'best: true' (the model path)"))
        if len({c.id for c in choices}) != len(choices):
            f.error("choices", N_("two choices have the same id"))
    if ending is not None and choices:
        f.error("ending", N_("an ending has no choices"))
    if ending is None and "ending" not in raw and not choices and "choices" not in raw:
        f.error(None, N_("the node has no choices and is not an ending: add choices or an 'ending:'"))
    if len(errors) > before:
        return None
    return Node(node_id, speaker, render(str(text)) if text else "", tuple(choices), ending)


def _choice(
    path: str, raw: LineDict, errors: list[ContentError], where: tuple[Message, ...], node_id: str,
    next_lines: list[tuple[str, str, int]],
) -> Choice | None:
    before = len(errors)
    c = Fields(path, raw, errors, where)
    c.allow("id", "text", "feedback", "effects", "next", "best")
    choice_id = c.get("id", fm.slug)
    text = c.get("text", fm.text, "")
    feedback = c.get("feedback", fm.text, "")
    target = c.get("next", fm.slug)
    best = c.optional("best", is_bool, False)
    effects: list[tuple[str, int]] = []
    raw_effects = c.optional("effects", is_mapping, LineDict())
    for element, value in raw_effects.items():
        line = raw_effects.line_of(element)
        if element not in ELEMENTS:
            c.error_at(line, N_("unknown element '%(name)s' (use %(elements)s)", name=element, elements=", ".join(ELEMENTS)))
        elif isinstance(value, bool) or not isinstance(value, int) or not -3 <= value <= 3:
            c.error_at(line, N_("effect on '%(name)s' must be a whole number from -3 to 3", name=element))
        else:
            effects.append((element, value))
    if target is not None:
        next_lines.append((node_id, target, raw.line_of("next")))
    if len(errors) > before:
        return None
    return Choice(choice_id, render_inline(text), render(feedback), tuple(effects), target, best)


def _ending(f: Fields, lesson_ids: frozenset[str] | None) -> Ending | None:
    raw = f.get("ending", is_mapping)
    if raw is None:
        return None
    e = Fields(f.path, raw, f.errors, f.where)
    e.allow("title", "outcome", "debrief", "lessons")
    title = e.get("title", fm.text, "")
    outcome = e.get("outcome", one_of(*OUTCOMES), "mixed")
    debrief = e.get("debrief", fm.text, "")
    lessons = e.optional("lessons", is_list, LineList())
    for index, lesson_id in enumerate(lessons):
        if fm.slug(lesson_id):
            e.error_at(lessons.line_of(index), N_("each of 'lessons' must be a lesson id"))
        elif lesson_ids is not None and lesson_id not in lesson_ids:
            e.error_at(lessons.line_of(index), N_("debrief points to lesson '%(lesson)s', which does not exist", lesson=lesson_id))
    return Ending(title, outcome, render(debrief), tuple(lessons))


def _check_graph(
    path: str, start: str, nodes: dict[str, Node], lines: dict[str, int], errors: list[ContentError]
) -> None:
    reachable, frontier = {start}, [start]
    while frontier:
        for target in _targets(nodes[frontier.pop()]):
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    for node_id in nodes:
        if node_id not in reachable:
            errors.append(ContentError(path, lines[node_id], N_("node '%(node)s' cannot be reached from the start node", node=node_id)))
    can_end = {node_id for node_id, node in nodes.items() if node.ending}
    changed = True
    while changed:
        changed = False
        for node_id, node in nodes.items():
            if node_id not in can_end and any(target in can_end for target in _targets(node)):
                can_end.add(node_id)
                changed = True
    if not any(node.ending for node in nodes.values()):
        errors.append(ContentError(path, 1, N_("the scenario has no ending")))
        return
    before = len(errors)
    for node_id in reachable - can_end:
        errors.append(ContentError(path, lines[node_id], N_("node '%(node)s' is in a loop with no way to an ending", node=node_id)))
    if len(errors) == before:
        check_paths(path, start, nodes, lines, errors)


def _targets(node: Node) -> list[str]:
    return [c.next for c in node.choices] + [b.next for b in node.route]
