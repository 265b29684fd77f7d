"""Split a Markdown file into YAML front matter and body, keeping line numbers for errors."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from . import yamlfile
from .errors import N_, ContentError, Message
from .render import unrenderable

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class Document:
    path: str
    meta: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int
    errors: list[ContentError] = field(default_factory=list)
    parsed: bool = False

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)

    def error(self, key: str | None, reason: Message) -> None:
        self.errors.append(ContentError(self.path, self.line_of(key) if key else 1, reason))


def parse(path: str, text: str) -> Document:
    """Parse `text`; problems are collected in `Document.errors`, never raised."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    doc = Document(path=path, meta={}, lines={}, body="", body_line=1)
    if not lines or lines[0].strip() != "---":
        doc.error(None, N_("missing front matter: the file must start with a line '---'"))
        return doc
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in {"---", "..."}), None)
    if end is None:
        doc.error(None, N_("front matter is not closed: add a line '---' after the fields"))
        return doc
    doc.body = "\n".join(lines[end + 1 :])
    doc.body_line = end + 2
    if found := yamlfile.control_character(doc.body):
        line, reason = found
        doc.errors.append(ContentError(path, doc.body_line + line - 1, reason))
    before = len(doc.errors)
    meta = yamlfile.load(path, "\n".join(lines[1:end]), doc.errors, first_line=2, label=N_("invalid YAML in front matter: "))
    if len(doc.errors) > before:
        return doc
    if meta is None:
        doc.parsed = True
        return doc
    if not isinstance(meta, yamlfile.LineDict):
        line = meta.line if isinstance(meta, yamlfile.LineList) else 2
        doc.errors.append(ContentError(path, line, N_("front matter must be fields written as 'name: value'")))
        return doc
    doc.errors += [ContentError(path, line, N_("field '%(field)s' is given twice", field=key)) for key, line in meta.duplicates]
    doc.meta, doc.lines = dict(meta), dict(meta.key_lines)
    doc.parsed = True
    return doc


Check = Callable[[Any], Message | None]


def slug(value: Any) -> Message | None:
    if not isinstance(value, str) or not SLUG.match(value):
        return N_("must be lowercase letters, digits and hyphens (e.g. 'core-elements')")
    return None


def text(value: Any) -> Message | None:
    if not isinstance(value, str) or not value.strip():
        return N_("must be non-empty text")
    found = unrenderable(value)
    return found[1] if found else None


def one_line(value: Any) -> Message | None:
    """Non-empty text on a single line, e.g. a title."""
    if problem := text(value):
        return problem
    return N_("must be on one line") if "\n" in value.strip() else None


def positive_int(value: Any) -> Message | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return N_("must be a whole number of at least 1")
    return None


def minutes(value: Any) -> Message | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 600:
        return N_("must be a number of minutes from 0 to 600 (e.g. 4 or 2.5)")
    return None


def mapping(value: Any) -> Message | None:
    return None if isinstance(value, dict) else N_("must be fields written as 'name: value'")


def check_fields(doc: Document, required: dict[str, Check], optional: dict[str, Check]) -> bool:
    """Check the front matter against the allowed fields; return True when all are valid."""
    if not doc.parsed:
        return False
    before = len(doc.errors)
    allowed = {**required, **optional}
    for key in doc.meta:
        if key not in allowed:
            names = ", ".join(sorted(allowed))
            doc.error(key, N_("unknown field '%(field)s' (allowed: %(allowed)s)", field=key, allowed=names))
    for key, check in allowed.items():
        if key not in doc.meta:
            if key in required:
                doc.error(None, N_("missing required field '%(field)s'", field=key))
            continue
        if problem := check(doc.meta[key]):
            doc.error(key, N_("'%(field)s' %(problem)s", field=key, problem=problem))
    return len(doc.errors) == before
