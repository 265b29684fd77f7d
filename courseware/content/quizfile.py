"""Edit a quiz file's text in place: add questions without re-writing what the trainer wrote."""
from __future__ import annotations

import re
from itertools import count
from typing import Any

import yaml

from . import yamlfile
from .errors import N_, ContentError, Refused

SLUG_LENGTH = 64
_LIST_ITEM = re.compile(r"-(\s|$)")


class _Dumper(yaml.SafeDumper):
    """Indent lists under their key and write multi-line text as `|` blocks, as the quiz files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_text)


def unique_id(base: str, taken: set[str]) -> str:
    """Return `base`, or else the first of `base-2`, `base-3`, … not in `taken`."""
    if base not in taken:
        return base
    return next(
        candidate
        for n in count(2)
        if (candidate := f"{base[: SLUG_LENGTH - len(str(n)) - 1]}-{n}") not in taken
    )


def append_questions(yaml_text: str, questions: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """Add `questions` after the last item of the file's `questions:` list; return the text and their ids.

    Existing lines are kept byte for byte (a stray CR alone ends a line, as in YAML, and is written
    as the file's other line ends). An id already used in the file gets a suffix `-2`, `-3`, ….
    A quiz of pools alone gets a `questions:` list before its pools. Raise Refused (a ValueError) when
    the file is not valid YAML, or has neither a block list `questions:` nor pools.
    """
    errors: list[ContentError] = []
    data = yamlfile.load("", yaml_text, errors)
    if errors:
        raise Refused(N_("line %(line)s: %(reason)s: fix the quiz file first", line=errors[0].line, reason=errors[0].text))
    newline = "\r\n" if "\r\n" in yaml_text else "\n"
    lines = re.split(r"\r\n|\r|\n", yaml_text)
    taken = {str(q.get("id")) for q in _all_questions(data) if isinstance(q, dict)}
    ids = []
    for question in questions:
        ids.append(unique_id(str(question.get("id") or "question"), taken))
        taken.add(ids[-1])
    found = _questions_list(yaml_text)
    if found is None:  # a quiz of pools alone: the questions go in a list of their own, asked in every attempt
        at, indent = _top_level_key(lines, "pools"), 2
        added = ["questions:", *(line for question, qid in zip(questions, ids) for line in _item_lines({**question, "id": qid}, indent)), ""]
        if at is None:
            return newline.join([*lines, *added[:-1]]), ids
        return newline.join(lines[:at] + added + lines[at:]), ids
    key_line, indent = found
    end = _list_end(lines, key_line, indent)
    added = [line for question, qid in zip(questions, ids) for line in _item_lines({**question, "id": qid}, indent)]
    return newline.join(lines[: end + 1] + added + lines[end + 1 :]), ids


def _all_questions(data: Any) -> list[Any]:
    """The file's questions, its pools' variants included (ids are unique across both)."""
    data = data if isinstance(data, dict) else {}
    plain = data.get("questions") if isinstance(data.get("questions"), list) else []
    pools = data.get("pools") if isinstance(data.get("pools"), list) else []
    return plain + [q for pool in pools if isinstance(pool, dict) and isinstance(pool.get("questions"), list) for q in pool["questions"]]


def _top_level_key(lines: list[str], key: str) -> int | None:
    return next((index for index, line in enumerate(lines) if line.startswith(f"{key}:")), None)


def _questions_list(yaml_text: str) -> tuple[int, int] | None:
    """Return the line index of the top-level `questions:` key and the column of its items' dashes;
    None when the file has no `questions:` but pools.

    Lines are counted at LF, CR LF and CR only, as the caller splits them; YAML would also count
    U+0085, U+2028 and U+2029.
    """
    text = yaml_text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    root = yaml.compose(text, Loader=yamlfile.SAFE_LOADER)
    pairs = root.value if isinstance(root, yaml.MappingNode) else []
    named = [(key, value) for key, value in pairs if key.value == "questions"]
    key, value = named[-1] if named else (None, None)  # a field given twice counts as the last, as the loader reads it
    if key is None and any(k.value == "pools" for k, _ in pairs):
        return None
    if not (isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style):
        raise Refused(N_("the quiz file needs a list 'questions:' written one '- ' item per question"))
    return text.count("\n", 0, key.start_mark.index), value.start_mark.column


def _list_end(lines: list[str], key_line: int, indent: int) -> int:
    """Return the index of the list's last line, found by indentation so that later keys stay after it."""
    end = key_line
    for index in range(key_line + 1, len(lines)):
        content = lines[index].lstrip(" ")
        depth = len(lines[index]) - len(content)
        if not content.strip() or (content.startswith("#") and depth <= indent):
            continue
        if depth < indent or (depth == indent and not _LIST_ITEM.match(content)):
            break
        end = index
    return end


def _item_lines(question: dict[str, Any], indent: int) -> list[str]:
    text = yaml.dump([question], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return ["", *(" " * indent + line if line else line for line in text.rstrip("\n").split("\n"))]
