"""Route nodes of a role-play: branches chosen by what the learner did, evaluated in order.

A branch's `when:` holds when every condition in it holds: choices made (`chose`), choices not
made (`not_chose`) and running totals (`at_least`, `at_most`) of an element or of their sum.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from . import frontmatter as fm
from .errors import N_, Message, verbatim
from .yamlfile import Fields, LineDict, LineList, is_list, is_mapping

TOTAL = "total"
CONDITION_FIELDS = ("chose", "not_chose", "at_least", "at_most")
MAX_SCORE = 1000


@dataclass(frozen=True)
class Condition:
    chose: tuple[str, ...] = ()  # "node-id/choice-id"
    not_chose: tuple[str, ...] = ()
    at_least: tuple[tuple[str, int], ...] = ()
    at_most: tuple[tuple[str, int], ...] = ()

    def holds(self, chosen: Collection[str], totals: Mapping[str, int]) -> bool:
        """`chosen` holds "node/choice" of every step so far; `totals` each element's sum and the total."""
        return (
            all(ref in chosen for ref in self.chose)
            and not any(ref in chosen for ref in self.not_chose)
            and all(totals.get(name, 0) >= value for name, value in self.at_least)
            and all(totals.get(name, 0) <= value for name, value in self.at_most)
        )

    @property
    def refs(self) -> tuple[str, ...]:
        return self.chose + self.not_chose

    def describe(self) -> Message:
        """The condition in words, e.g. "chose open/slam-table, 协作 ≥ 2" (translated where it is shown)."""
        parts = [N_("chose %(ref)s", ref=ref) for ref in self.chose] + [N_("did not choose %(ref)s", ref=ref) for ref in self.not_chose]
        parts += [verbatim(f"{name} ≥ {value}") for name, value in self.at_least]
        parts += [verbatim(f"{name} ≤ {value}") for name, value in self.at_most]
        return Message(", ".join(f"%(part{i})s" for i in range(len(parts))), tuple((f"part{i}", part) for i, part in enumerate(parts)))


@dataclass(frozen=True)
class Branch:
    next: str
    when: Condition | None = None


def follow(branches: tuple[Branch, ...], chosen: Collection[str], totals: Mapping[str, int]) -> str:
    """Return where the first branch whose condition holds leads; the last branch is the fallback."""
    return next(b.next for b in branches if b.when is None or b.when.holds(chosen, totals))


def compile_route(
    f: Fields, elements: tuple[str, ...], refs: list[tuple[str, int]], next_lines: list[tuple[str, str, int]], node_id: str
) -> tuple[Branch, ...]:
    """Read a node's `route:`; collect each choice it names (with its line) for checking once all nodes are read."""
    raw = f.get("route", is_list, LineList())
    branches: list[Branch] = []
    for index, item in enumerate(raw):
        line = raw.line_of(index)
        if not isinstance(item, LineDict):
            f.error_at(line, N_("each branch of 'route' must be fields 'when: …' and 'next: …'"))
            continue
        b = Fields(f.path, item, f.errors, f.where)
        b.allow("when", "next")
        target = b.get("next", fm.slug)
        when = _condition(b, elements, refs) if "when" in item else None
        last = index == len(raw) - 1
        if last and "when" in item:
            b.error("when", N_("the last branch of 'route' must have no 'when': it is taken when no condition holds"))
        elif not last and "when" not in item:
            b.error(None, N_("only the last branch of 'route' may leave out 'when': the branches after it could never be taken"))
        if target is not None:
            next_lines.append((node_id, target, item.line_of("next")))
            branches.append(Branch(target, when))
    return tuple(branches)


def _condition(b: Fields, elements: tuple[str, ...], refs: list[tuple[str, int]]) -> Condition | None:
    raw = b.get("when", is_mapping)
    if raw is None:
        return None
    w = Fields(b.path, raw, b.errors, b.where)
    w.allow(*CONDITION_FIELDS)
    if not raw:
        b.error("when", N_("'when' needs at least one of: %(fields)s", fields=", ".join(CONDITION_FIELDS)))
    chosen = {key: _refs(w, key, refs) for key in ("chose", "not_chose")}
    scores = {key: _scores(w, key, elements) for key in ("at_least", "at_most")}
    return Condition(chosen["chose"], chosen["not_chose"], scores["at_least"], scores["at_most"])


def _refs(w: Fields, key: str, refs: list[tuple[str, int]]) -> tuple[str, ...]:
    raw = w.optional(key, is_list, LineList())
    found = []
    for index, ref in enumerate(raw):
        line = raw.line_of(index)
        node_id, _, choice_id = ref.partition("/") if isinstance(ref, str) else ("", "", "")
        if fm.slug(node_id) or fm.slug(choice_id):
            w.error_at(line, N_("each of '%(field)s' must be 'node-id/choice-id', e.g. opening/ask", field=key))
            continue
        refs.append((ref, line))
        found.append(ref)
    return tuple(found)


def _scores(w: Fields, key: str, elements: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    raw = w.optional(key, is_mapping, LineDict())
    found = []
    for name, value in raw.items():
        line = raw.line_of(name)
        if name not in (*elements, TOTAL):
            w.error_at(line, N_(
                "unknown element '%(name)s' in '%(field)s' (use %(elements)s or %(total)s)", name=name, field=key, elements=", ".join(elements), total=TOTAL
            ))
        elif isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SCORE:
            w.error_at(line, N_("'%(field)s' of '%(name)s' must be a whole number from -%(most)s to %(most)s", field=key, name=name, most=MAX_SCORE))
        else:
            found.append((name, value))
    return tuple(found)
