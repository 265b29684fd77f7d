"""The parts of the trainee's pages that are the same for every learner, built once per revision and locale.

A lesson page and the course home are mostly the course itself: titles, links, the lesson's text
and labels in the reader's language. Those parts are rendered from `templates/learn/_pieces.html`
the first time a worker needs them for a revision and locale, and kept on the `LiveCourse` (a
publish brings a new one). Nothing personal is in them: each page puts the learner's progress,
name and CSRF token around them on every request.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import get_template_attribute, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

from ..content import Course, Lesson
from ..pieces import Stencil
from ..publishing import LiveCourse
from .progress import CourseProgress

PIECES = "learn/_pieces.html"
STATUSES = ("not_started", "in_progress", "completed")
def _macro(name: str):
    return get_template_attribute(PIECES, name)


def _stencil(name: str, *args) -> Stencil:
    return Stencil.of(_macro(name)(*args))


def _key(*parts) -> tuple:
    """A piece's key: what it shows, in which language, for an app mounted where."""
    return (*parts, str(get_locale()), request.script_root)


@dataclass(frozen=True)
class LessonPieces:
    top: Markup  # breadcrumbs, the lesson's header and its text
    done: Markup  # what replaces the completion form once the lesson is completed
    pagers: tuple[Markup, Markup]  # previous and next, for a lesson not completed and completed
    aside: Stencil  # the module's lessons; holes: `percent`, and `status:<lesson id>` for each
    complete_url: str
    clock_url: str


def lesson_pieces(live: LiveCourse, lesson: Lesson) -> LessonPieces:
    """The shared parts of `lesson`'s page in the current locale."""
    return live.piece(_key("lesson", lesson.id), lambda: _build_lesson(live, lesson))


def _build_lesson(live: LiveCourse, lesson: Lesson) -> LessonPieces:
    course = live.course
    module = course.module(lesson.module_id)
    before, after = course.beside(lesson.id)
    pager = _macro("lesson_pager")
    return LessonPieces(
        top=_macro("lesson_top")(course, module, lesson, module.lessons.index(lesson) + 1),
        done=_macro("lesson_done")(),
        pagers=(pager(before, after, False), pager(before, after, True)),
        aside=_stencil("lesson_aside", module, lesson),
        complete_url=url_for("learn.complete", lesson_id=lesson.id),
        clock_url=url_for("learn.lesson_time", lesson_id=lesson.id),
    )


@dataclass(frozen=True)
class HomePieces:
    head: Stencil  # the course's title and overall progress; holes: percent, done, total
    cards: dict[str, Stencil]  # by module id; holes: badge, percent, done, total
    final: Stencil | None  # the final assessment's card; holes: badge, score
    score: Stencil  # the learner's score on it; hole: score
    badges: dict[str, Markup]  # by status


def home_pieces(live: LiveCourse) -> HomePieces:
    """The shared parts of the course home in the current locale."""
    return live.piece(_key("home"), lambda: _build_home(live.course))


def _build_home(course: Course) -> HomePieces:
    badge = get_template_attribute("_macros.html", "status_badge")
    return HomePieces(
        head=_stencil("course_head", course),
        cards={module.id: _stencil("module_card", module, number) for number, module in enumerate(course.modules, 1)},
        final=_stencil("final_card", course.final_quiz) if course.final_quiz else None,
        score=_stencil("final_score"),
        badges={status: badge(status) for status in STATUSES},
    )


def course_head(pieces: HomePieces, progress: CourseProgress) -> Markup:
    return pieces.head.fill({"percent": progress.percent, "done": progress.done, "total": progress.total})


def final_card(pieces: HomePieces, progress: CourseProgress) -> Markup:
    """The final assessment's card with the learner's state and score (nothing when the course has none)."""
    if pieces.final is None:
        return Markup()
    state = progress.state(progress.course.final_quiz_id)
    score = Markup() if state.percent is None else pieces.score.fill({"score": state.percent})
    return pieces.final.fill({"badge": pieces.badges[state.status], "score": score})


def module_cards(pieces: HomePieces, progress: CourseProgress) -> Markup:
    """The course home's module cards with the learner's progress."""
    return Markup("\n").join(
        pieces.cards[item.module.id].fill(
            {"badge": pieces.badges[item.state.status], "percent": item.percent, "done": item.done, "total": item.total}
        )
        for item in progress.modules
    )


def lesson_aside(pieces: LessonPieces, progress: CourseProgress, module_id: str) -> Markup:
    """The lesson page's list of the module's lessons with the learner's progress."""
    values: dict[str, object] = {"percent": progress.module(module_id).percent}
    for name in pieces.aside.holes:
        if name.startswith("status:"):
            values[name] = progress.state(name.removeprefix("status:")).status
    return pieces.aside.fill(values)
