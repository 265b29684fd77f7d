"""Load YAML keeping the line of every mapping key and list item, and read typed fields from it."""
from __future__ import annotations

from typing import Any, Callable

import yaml

from .errors import ContentError


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


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when installed: ~10x faster
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines, result.duplicates = {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key) if not isinstance(key, str) else key
        line = key_node.start_mark.line + 1
        if key in result:
            result.duplicates.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load(path: str, text: str, errors: list[ContentError], first_line: int = 1) -> Any:
    """Parse YAML `text`; on a syntax error, append it to `errors` and return None."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line if mark else 0) + first_line
        errors.append(ContentError(path, line, f"invalid YAML: {exc.problem}"))
        return None
    except yaml.YAMLError as exc:
        errors.append(ContentError(path, first_line, f"invalid YAML: {exc}"))
        return None
    if first_line != 1:
        _shift(data, first_line - 1)
    return data


def _shift(data: Any, offset: int) -> None:
    if isinstance(data, LineDict):
        data.line += offset
        data.key_lines = {k: v + offset for k, v in data.key_lines.items()}
        data.duplicates = [(k, v + offset) for k, v in data.duplicates]
        for value in data.values():
            _shift(value, offset)
    elif isinstance(data, LineList):
        data.line += offset
        data.item_lines = [v + offset for v in data.item_lines]
        for value in data:
            _shift(value, offset)


Check = Callable[[Any], str | None]


class Fields:
    """Read fields of one YAML mapping, reporting every problem with its file and line."""

    def __init__(self, path: str, data: LineDict, errors: list[ContentError], where: str = ""):
        self.path, self.data, self.errors, self.where = path, data, errors, where
        for key, line in data.duplicates:
            self.error_at(line, f"field '{key}' is given twice")

    def error(self, key: str | None, reason: str) -> None:
        line = self.data.line_of(key) if key else self.data.line
        self.error_at(line, reason)

    def error_at(self, line: int, reason: str) -> None:
        self.errors.append(ContentError(self.path, line, f"{self.where}{reason}"))

    def allow(self, *names: str) -> None:
        for key in self.data:
            if key not in names:
                self.error(key, f"unknown field '{key}' (allowed: {', '.join(sorted(names))})")

    def get(self, key: str, check: Check, default: Any = None, required: bool = True) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                self.error(None, f"missing required field '{key}'")
            return default
        value = self.data[key]
        if problem := check(value):
            self.error(key, f"'{key}' {problem}")
            return default
        return value

    def optional(self, key: str, check: Check, default: Any = None) -> Any:
        return self.get(key, check, default, required=False)


def is_mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be fields written as 'name: value'"


def is_list(value: Any) -> str | None:
    return None if isinstance(value, list) and value else "must be a non-empty list"


def is_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of: {', '.join(choices)}"

    return check


def int_between(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"must be a whole number from {low} to {high}"

    return check
