"""Edit a quiz file's text in place: add questions without re-writing what the trainer wrote."""
from __future__ import annotations

import re
from itertools import count
from typing import Any

import yaml

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

    Existing lines are kept byte for byte. An id already used in the file gets a suffix `-2`, `-3`, ….
    Raise ValueError when the file has no block list `questions:`.
    """
    newline = "\r\n" if "\r\n" in yaml_text else "\n"
    lines = yaml_text.split(newline)
    key_line, indent = _questions_list(yaml_text)
    end = _list_end(lines, key_line, indent)
    taken = {str(q.get("id")) for q in yaml.safe_load(yaml_text)["questions"] if isinstance(q, dict)}
    ids = []
    for question in questions:
        ids.append(unique_id(str(question.get("id") or "question"), taken))
        taken.add(ids[-1])
    added = [line for question, qid in zip(questions, ids) for line in _item_lines({**question, "id": qid}, indent)]
    return newline.join(lines[: end + 1] + added + lines[end + 1 :]), ids


def _questions_list(yaml_text: str) -> tuple[int, int]:
    """Return the line index of the top-level `questions:` key and the column of its items' dashes."""
    root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    pairs = root.value if isinstance(root, yaml.MappingNode) else []
    for key, value in pairs:
        if key.value == "questions" and isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
            return key.start_mark.line, value.start_mark.column
    raise ValueError("the quiz file needs a list 'questions:' written one '- ' item per question")


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
