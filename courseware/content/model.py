"""The compiled course: immutable objects keyed by stable id, built once per published revision."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .quiz import Quiz
from .scenario import Scenario


@dataclass(frozen=True)
class CompletionRule:
    """When a module counts as completed: its lessons (None = all), its quiz passed, its scenarios finished."""

    lessons: tuple[str, ...] | None = None
    quiz: bool = False
    scenarios: bool = False

    def required(self, module: Module) -> tuple[str, ...]:
        """Return the activity ids that must be completed for `module` to be complete."""
        ids = self.lessons if self.lessons is not None else tuple(lesson.id for lesson in module.lessons)
        if self.scenarios:
            ids += module.scenario_ids
        if self.quiz and module.quiz_id:
            ids += (module.quiz_id,)
        return ids

    def is_met(self, module: Module, completed: set[str] | frozenset[str]) -> bool:
        return all(activity_id in completed for activity_id in self.required(module))


@dataclass(frozen=True)
class Activity:
    """Anything a learner does, in course order: a lesson, a role-play scenario or a quiz."""

    kind: str
    id: str
    title: str
    module_id: str | None
    minutes: int = 0
    title_en: str = ""


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    minutes: int
    html: str
    module_id: str
    path: str
    min_minutes: float | None = None  # reading time required before completing; None: a share of `minutes`
    title_en: str = ""  # an English title, for the learning record store; "" when not given

    def minimum_seconds(self, share: float) -> float:
        """Seconds of reading required to complete: the lesson's own minimum, else `share` of its minutes."""
        return 60 * (self.min_minutes if self.min_minutes is not None else share * self.minutes)


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
    quiz_id: str | None = None
    scenario_ids: tuple[str, ...] = ()
    title_en: str = ""

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)

    @property
    def activity_ids(self) -> tuple[str, ...]:
        """Every activity of the module in the order a learner meets them."""
        quiz = (self.quiz_id,) if self.quiz_id else ()
        return tuple(lesson.id for lesson in self.lessons) + self.scenario_ids + quiz


@dataclass(frozen=True)
class Aid:
    """A job aid: a worksheet, card or template learners print or save as PDF; modules may link to it."""

    id: str
    title: str
    order: int
    summary: str
    html: str
    path: str
    module_ids: tuple[str, ...] = ()
    title_en: str = ""


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    intro_html: str
    modules: tuple[Module, ...]
    quizzes: tuple[Quiz, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    final_quiz_id: str | None = None
    valid_for_days: int | None = None
    pretest_quiz_id: str | None = None  # a diagnostic before the course, on the final's objectives (its pools)
    aids: tuple[Aid, ...] = ()  # job aids, in their order
    title_en: str = ""
    _lessons: Mapping[str, Lesson] = field(init=False, repr=False, compare=False)
    _modules: Mapping[str, Module] = field(init=False, repr=False, compare=False)
    _quizzes: Mapping[str, Quiz] = field(init=False, repr=False, compare=False)
    _scenarios: Mapping[str, Scenario] = field(init=False, repr=False, compare=False)
    _activities: tuple[Activity, ...] = field(init=False, repr=False, compare=False)
    _by_module: Mapping[str, tuple[Activity, ...]] = field(init=False, repr=False, compare=False)
    _titles: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _titles_en: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lessons = {lesson.id: lesson for m in self.modules for lesson in m.lessons}
        object.__setattr__(self, "_lessons", MappingProxyType(lessons))
        object.__setattr__(self, "_modules", MappingProxyType({m.id: m for m in self.modules}))
        object.__setattr__(self, "_quizzes", MappingProxyType({q.id: q for q in self.quizzes}))
        object.__setattr__(self, "_scenarios", MappingProxyType({s.id: s for s in self.scenarios}))
        object.__setattr__(self, "_activities", self._in_order())
        by_module = {m.id: tuple(a for a in self._activities if a.module_id == m.id) for m in self.modules}
        object.__setattr__(self, "_by_module", MappingProxyType(by_module))
        titled = [self, *self.modules, *self._activities]
        if self.pretest_quiz_id:
            titled.append(self._quizzes[self.pretest_quiz_id])
        object.__setattr__(self, "_titles", MappingProxyType({x.id: x.title for x in titled}))
        object.__setattr__(self, "_titles_en", MappingProxyType({x.id: x.title_en for x in titled if x.title_en}))

    def _in_order(self) -> tuple[Activity, ...]:
        activities = []
        for module in self.modules:
            activities += [Activity("lesson", x.id, x.title, module.id, x.minutes, x.title_en) for x in module.lessons]
            for scenario in (self._scenarios[scenario_id] for scenario_id in module.scenario_ids):
                activities.append(Activity("scenario", scenario.id, scenario.title, module.id, title_en=scenario.title_en))
            if module.quiz_id:
                quiz = self._quizzes[module.quiz_id]
                activities.append(Activity("quiz", quiz.id, quiz.title, module.id, title_en=quiz.title_en))
        if self.final_quiz_id:
            final = self._quizzes[self.final_quiz_id]
            activities.append(Activity("quiz", final.id, final.title, None, title_en=final.title_en))
        return tuple(activities)

    @property
    def activities(self) -> tuple[Activity, ...]:
        return self._activities

    @property
    def titles(self) -> Mapping[str, str]:
        """Title by id, for the course itself, its modules and every activity."""
        return self._titles

    @property
    def titles_en(self) -> Mapping[str, str]:
        """English title by id, for those of `titles` given one (`title_en`)."""
        return self._titles_en

    def activities_of(self, module: Module) -> tuple[Activity, ...]:
        return self._by_module[module.id]

    @property
    def lessons(self) -> tuple[Lesson, ...]:
        return tuple(self._lessons.values())

    @property
    def minutes(self) -> int:
        return sum(module.minutes for module in self.modules)

    @property
    def final_quiz(self) -> Quiz | None:
        return self.quiz(self.final_quiz_id) if self.final_quiz_id else None

    @property
    def pretest(self) -> Quiz | None:
        return self.quiz(self.pretest_quiz_id) if self.pretest_quiz_id else None

    def is_complete(self, completed: set[str] | frozenset[str]) -> bool:
        """The course is complete when every module is, and the final quiz (if any) is passed."""
        final = (self.final_quiz_id,) if self.final_quiz_id else ()
        return all(activity_id in completed for activity_id in (*(m.id for m in self.modules), *final))

    def aid(self, aid_id: str) -> Aid | None:
        return next((aid for aid in self.aids if aid.id == aid_id), None)

    def aids_for(self, module_id: str) -> tuple[Aid, ...]:
        """The job aids that name `module_id`, in their order."""
        return tuple(aid for aid in self.aids if module_id in aid.module_ids)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self._lessons.get(lesson_id)

    def module(self, module_id: str) -> Module | None:
        return self._modules.get(module_id)

    def quiz(self, quiz_id: str) -> Quiz | None:
        return self._quizzes.get(quiz_id)

    def scenario(self, scenario_id: str) -> Scenario | None:
        return self._scenarios.get(scenario_id)

    def by_path(self, path: str) -> tuple[str, Any] | None:
        """Return what the source file at `path` compiled into, as (kind, object)."""
        for kind, items in (
            ("lesson", self.lessons), ("module", self.modules), ("quiz", self.quizzes), ("scenario", self.scenarios),
            ("aid", self.aids),
        ):
            found = next((item for item in items if item.path == path), None)
            if found is not None:
                return kind, found
        return None

    def neighbours(self, lesson_id: str) -> tuple[Lesson | None, Lesson | None]:
        """Return the lessons before and after `lesson_id` in course order."""
        ids = list(self._lessons)
        index = ids.index(lesson_id)
        before = self._lessons[ids[index - 1]] if index > 0 else None
        after = self._lessons[ids[index + 1]] if index + 1 < len(ids) else None
        return before, after

    def beside(self, activity_id: str) -> tuple[Activity | None, Activity | None]:
        """Return the activities before and after `activity_id` in the order a learner meets them.

        A module's lessons lead to its role-plays, then its quiz, then the next module.
        """
        ids = [a.id for a in self._activities]
        index = ids.index(activity_id)
        before = self._activities[index - 1] if index > 0 else None
        after = self._activities[index + 1] if index + 1 < len(ids) else None
        return before, after

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "title_en": self.title_en,
            "intro_html": self.intro_html,
            "modules": [asdict(module) for module in self.modules],
            "quizzes": [quiz.to_dict() for quiz in self.quizzes],
            "scenarios": [scenario.to_dict() for scenario in self.scenarios],
            "final_quiz_id": self.final_quiz_id,
            "valid_for_days": self.valid_for_days,
            "pretest_quiz_id": self.pretest_quiz_id,
            "aids": [asdict(aid) for aid in self.aids],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Course:
        modules = []
        for m in data["modules"]:
            rule = m["completion"]
            modules.append(
                Module(
                    **{
                        **m,
                        "lessons": tuple(Lesson(**lesson) for lesson in m["lessons"]),
                        "completion": CompletionRule(
                            tuple(rule["lessons"]) if rule["lessons"] is not None else None,
                            rule.get("quiz", False),
                            rule.get("scenarios", False),
                        ),
                        "scenario_ids": tuple(m.get("scenario_ids", ())),
                    }
                )
            )
        return cls(
            id=data["id"],
            title=data["title"],
            title_en=data.get("title_en", ""),
            intro_html=data["intro_html"],
            modules=tuple(modules),
            quizzes=tuple(Quiz.from_dict(q) for q in data.get("quizzes", ())),
            scenarios=tuple(Scenario.from_dict(s) for s in data.get("scenarios", ())),
            final_quiz_id=data.get("final_quiz_id"),
            valid_for_days=data.get("valid_for_days"),
            pretest_quiz_id=data.get("pretest_quiz_id"),
            aids=tuple(Aid(**{**aid, "module_ids": tuple(aid["module_ids"])}) for aid in data.get("aids", ())),
        )
