"""Load YAML keeping the line of every mapping key and list item, and read typed fields from it."""
from __future__ import annotations

import bisect
import re
from typing import Any, Callable

import yaml

from .errors import N_, ContentError, Message, verbatim

MAX_DEPTH = 50  # course files nest five or six levels; far deeper input would overflow the C parser's stack
MAX_REPEATED = 10_000  # values that aliases (*name) may repeat, so a short file cannot expand to billions
VALUE_NAMES = {"int": N_("whole number"), "float": N_("number"), "bool": N_("true or false"), "timestamp": N_("date")}


class LineDict(dict):
    """A mapping that remembers its own line and the line of each key."""

    line: int = 1
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A list that remembers its own line and the line of each item."""

    line: int = 1
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _Lines:
    """Turn a position in the text into a line number, counting only line ends an editor shows.

    YAML also ends lines at U+0085, U+2028 and U+2029; counting those would point a trainer at a
    line their editor does not have.
    """

    def __init__(self, text: str, first_line: int):
        self.starts = [match.end() for match in re.finditer("\n", text)]
        self.first_line = first_line

    def of(self, mark: yaml.Mark | None) -> int:
        return bisect.bisect_right(self.starts, mark.index) + self.first_line if mark else self.first_line


class _Refused(yaml.MarkedYAMLError):
    """YAML we refuse, said in our own words."""

    def __init__(self, message: Message, mark: yaml.Mark | None):
        super().__init__(problem=str(message), problem_mark=mark)
        self.message = message


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: ~10x faster


class _Loader(SAFE_LOADER):
    lines: _Lines

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Report a value YAML reads but cannot build (`2020-13-45`, a 5000-digit number) at its line."""
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as error:  # PyYAML's constructors raise ValueError, KeyError, AttributeError…
            tag = node.tag.rpartition(":")[2]
            kind = VALUE_NAMES.get(tag) or verbatim(tag)
            text = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
            if text:
                value = f"{text[:40]}{'…' if len(text) > 40 else ''}"
                problem = N_("'%(value)s' is not a valid %(kind)s: put it in quotes to use it as text", value=value, kind=kind)
            else:
                problem = N_("this value is not a valid %(kind)s: put it in quotes to use it as text", kind=kind)
            raise _Refused(problem, node.start_mark) from error


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = loader.lines.of(node.start_mark)
    result.key_lines, result.duplicates = {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key) if not isinstance(key, str) else key
        line = loader.lines.of(key_node.start_mark)
        if key in result:
            result.duplicates.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = loader.lines.of(node.start_mark)
    result.item_lines = [loader.lines.of(child.start_mark) for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def _check_size(text: str) -> None:
    """Refuse text nested too deeply or repeated too often by aliases, before building anything."""
    open_collections: list[tuple[str | None, int]] = []  # anchor, and the count of values when it opened
    anchored: dict[str, int] = {}  # anchor → how many values an alias to it repeats
    values = repeated = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            size = anchored.get(event.anchor, 1)
            values += size
            repeated += size
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            if event.anchor:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            values += 1
            open_collections.append((event.anchor, values))
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, opened_at = open_collections.pop()
            if anchor:
                anchored[anchor] = values - opened_at + 1
        if len(open_collections) > MAX_DEPTH:
            raise _Refused(
                N_("lists and fields are nested too deeply (more than %(depth)s levels)", depth=MAX_DEPTH), event.start_mark
            )
        if repeated > MAX_REPEATED:
            raise _Refused(
                N_("aliases (*name) repeat more than %(count)s values: write the values out instead", count=MAX_REPEATED),
                event.start_mark,
            )


def control_character(text: str) -> tuple[int, Message] | None:
    """Find the first character that is not text (NUL, ESC, …): return its line and what to do about it.

    YAML refuses them and PostgreSQL cannot store NUL; they come in unseen from copy and paste.
    """
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    return line, N_("the invisible control character %(code)s is not allowed: delete it", code=f"U+{ord(found[0]):04X}")


def load(
    path: str, text: str, errors: list[ContentError], first_line: int = 1, label: Message = N_("invalid YAML: ")
) -> Any:
    """Parse YAML `text` whose first line is `first_line`; on an error, append it, after `label`, to `errors` and return None."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = _Lines(text, first_line)
    try:
        _check_size(text)
        loader = _Loader(text)
        loader.lines = lines
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = getattr(error, "message", None) or verbatim(str(error.problem or error.context or error))
        errors.append(ContentError(path, lines.of(mark), problem, (label,)))
    except yaml.reader.ReaderError:
        line, reason = control_character(text) or (1, N_("a character that is not text"))
        errors.append(ContentError(path, line + first_line - 1, reason, (label,)))
    except yaml.YAMLError as error:
        errors.append(ContentError(path, first_line, verbatim(str(error)), (label,)))
    return None


Check = Callable[[Any], Message | None]


class Fields:
    """Read fields of one YAML mapping, reporting every problem with its file and line."""

    def __init__(self, path: str, data: LineDict, errors: list[ContentError], where: tuple[Message, ...] = ()):
        self.path, self.data, self.errors, self.where = path, data, errors, where
        for key, line in data.duplicates:
            self.error_at(line, N_("field '%(field)s' is given twice", field=key))

    def error(self, key: str | None, reason: Message) -> None:
        line = self.data.line_of(key) if key else self.data.line
        self.error_at(line, reason)

    def error_at(self, line: int, reason: Message) -> None:
        self.errors.append(ContentError(self.path, line, reason, self.where))

    def allow(self, *names: str) -> None:
        for key in self.data:
            if key not in names:
                self.error(key, N_("unknown field '%(field)s' (allowed: %(allowed)s)", field=key, allowed=", ".join(sorted(names))))

    def get(self, key: str, check: Check, default: Any = None, required: bool = True) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                self.error(None, N_("missing required field '%(field)s'", field=key))
            return default
        value = self.data[key]
        if problem := check(value):
            self.error(key, N_("'%(field)s' %(problem)s", field=key, problem=problem))
            return default
        return value

    def optional(self, key: str, check: Check, default: Any = None) -> Any:
        return self.get(key, check, default, required=False)


def is_mapping(value: Any) -> Message | None:
    return None if isinstance(value, dict) else N_("must be fields written as 'name: value'")


def is_list(value: Any) -> Message | None:
    return None if isinstance(value, list) and value else N_("must be a non-empty list")


def is_bool(value: Any) -> Message | None:
    return None if isinstance(value, bool) else N_("must be true or false")


def one_of(*choices: str) -> Check:
    def check(value: Any) -> Message | None:
        return None if value in choices else N_("must be one of: %(choices)s", choices=", ".join(choices))

    return check


def int_between(low: int, high: int) -> Check:
    def check(value: Any) -> Message | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else N_("must be a whole number from %(low)s to %(high)s", low=low, high=high)

    return check
