"""The compiled course: immutable objects keyed by stable id, built once per published revision."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class CompletionRule:
    """When a module counts as completed. `lessons=None` means every lesson in the module."""

    lessons: tuple[str, ...] | None = None

    def required_lessons(self, module: Module) -> tuple[str, ...]:
        return self.lessons if self.lessons is not None else tuple(lesson.id for lesson in module.lessons)

    def is_met(self, module: Module, completed: set[str] | frozenset[str]) -> bool:
        return all(lesson_id in completed for lesson_id in self.required_lessons(module))


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    minutes: int
    html: str
    module_id: str
    path: str


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    order: int
    summary: str
    intro_html: str
    lessons: tuple[Lesson, ...]
    completion: CompletionRule
    path: str

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    intro_html: str
    modules: tuple[Module, ...]
    _lessons: Mapping[str, Lesson] = field(init=False, repr=False, compare=False)
    _modules: Mapping[str, Module] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_lessons", MappingProxyType({lesson.id: lesson for m in self.modules for lesson in m.lessons})
        )
        object.__setattr__(self, "_modules", MappingProxyType({m.id: m for m in self.modules}))

    @property
    def lessons(self) -> tuple[Lesson, ...]:
        return tuple(self._lessons.values())

    @property
    def minutes(self) -> int:
        return sum(module.minutes for module in self.modules)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self._lessons.get(lesson_id)

    def module(self, module_id: str) -> Module | None:
        return self._modules.get(module_id)

    def neighbours(self, lesson_id: str) -> tuple[Lesson | None, Lesson | None]:
        """Return the lessons before and after `lesson_id` in course order."""
        ids = list(self._lessons)
        index = ids.index(lesson_id)
        before = self._lessons[ids[index - 1]] if index > 0 else None
        after = self._lessons[ids[index + 1]] if index + 1 < len(ids) else None
        return before, after

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "intro_html": self.intro_html,
            "modules": [asdict(module) for module in self.modules],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Course:
        modules = []
        for m in data["modules"]:
            rule = m["completion"]["lessons"]
            modules.append(
                Module(
                    id=m["id"],
                    title=m["title"],
                    order=m["order"],
                    summary=m["summary"],
                    intro_html=m["intro_html"],
                    lessons=tuple(Lesson(**lesson) for lesson in m["lessons"]),
                    completion=CompletionRule(tuple(rule) if rule is not None else None),
                    path=m["path"],
                )
            )
        return cls(
            id=data["id"], title=data["title"], intro_html=data["intro_html"], modules=tuple(modules)
        )
