"""What changed between two sets of course files, line by line."""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

ADDED, DELETED, MODIFIED = "added", "deleted", "modified"


@dataclass(frozen=True)
class DiffLine:
    kind: str  # " " same, "+" added, "-" removed, "@" a gap between hunks
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: str
    lines: tuple[DiffLine, ...]

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "+")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind == "-")


def diff_files(old: Mapping[str, str], new: Mapping[str, str], context: int = 3) -> list[FileDiff]:
    """Compare two path → text mappings; return one `FileDiff` per changed file, by path."""
    diffs = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = ADDED if before is None else DELETED if after is None else MODIFIED
        diffs.append(FileDiff(path, status, _lines((before or "").splitlines(), (after or "").splitlines(), context)))
    return diffs


def _lines(before: list[str], after: list[str], context: int) -> tuple[DiffLine, ...]:
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for index, group in enumerate(matcher.get_grouped_opcodes(context)):
        if index:
            lines.append(DiffLine("@", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine(" ", i + 1, j + 1, before[i]) for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            lines += [DiffLine("-", i + 1, None, before[i]) for i in range(i1, i2)]
            lines += [DiffLine("+", None, j + 1, after[j]) for j in range(j1, j2)]
    return tuple(lines)


def unified(old: Mapping[str, str], new: Mapping[str, str], old_label: str, new_label: str) -> str:
    """Return a `diff -u` style text of every changed file, for the command line."""
    chunks = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        chunks += difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            fromfile=f"{old_label}/{path}" if before is not None else "/dev/null",
            tofile=f"{new_label}/{path}" if after is not None else "/dev/null",
        )
        if chunks and not chunks[-1].endswith("\n"):
            chunks[-1] += "\n\\ No newline at end of file\n"
    return "".join(chunks)


@dataclass(frozen=True)
class MediaChange:
    name: str
    status: str  # ADDED, DELETED or MODIFIED


def diff_media(old: Mapping[str, str], new: Mapping[str, str]) -> list[MediaChange]:
    """Compare two name → SHA-256 mappings of pictures and files; return what changed, by name."""
    return [
        MediaChange(name, ADDED if name not in old else DELETED if name not in new else MODIFIED)
        for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)
    ]
