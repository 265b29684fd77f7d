"""Errors that name the file and line a trainer must fix, in words translated where they are shown."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True, order=True)
class Message:
    """An English `%(name)s` template and its values; a value may itself be a Message."""

    template: str
    params: tuple[tuple[str, Any], ...] = ()

    def render(self, translate: Callable[[str], str] = str) -> str:
        """Fill the template, each template (this one and those of nested messages) passed through `translate`."""
        values = {name: v.render(translate) if isinstance(v, Message) else v for name, v in self.params}
        try:
            return translate(self.template) % values
        except (KeyError, ValueError, TypeError):  # a translation whose placeholders do not match: show the English
            return self.template % values

    def __str__(self) -> str:
        return self.render()


def N_(template: str, **params: Any) -> Message:
    """Mark `template` for `pybabel extract` (N_ is one of its default keywords) and bind its values."""
    return Message(template, tuple(params.items()))


def verbatim(text: str) -> Message:
    """Text that is not ours to translate: a parser's own words, a value from the trainer's files."""
    return Message("%(text)s", (("text", text),))


@dataclass(frozen=True, order=True)
class ContentError:
    """What is wrong at `path`:`line`; `context` says where in the file (e.g. "pool 'x': question 3: ").

    Errors compare, sort and deduplicate by file, line and English reason, as when the reason was a string.
    """

    path: str
    line: int
    message: Message = field(compare=False)
    context: tuple[Message, ...] = field(default=(), compare=False)
    reason: str = field(init=False)  # the English text

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", self.render())

    def render(self, translate: Callable[[str], str] = str) -> str:
        """The reason, each part passed through `translate`."""
        return "".join(part.render(translate) for part in (*self.context, self.message))

    @property
    def text(self) -> Message:
        """The reason as one message, to use inside another."""
        parts = (*self.context, self.message)
        return Message("".join(f"%(part{i})s" for i in range(len(parts))), tuple((f"part{i}", p) for i, p in enumerate(parts)))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class Refused(ValueError):
    """A ValueError whose reason is a Message, to translate where it is shown."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


class CourseInvalid(Exception):
    """Raised when a course has errors; it carries every one of them, sorted by file and line."""

    def __init__(self, errors: list[ContentError]):
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(error) for error in self.errors))
