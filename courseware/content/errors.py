"""Errors that name the file and line a trainer must fix."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ContentError:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class CourseInvalid(Exception):
    """Raised when a course has errors; it carries every one of them, sorted by file and line."""

    def __init__(self, errors: list[ContentError]):
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(error) for error in self.errors))
