"""The trainee's journey: course home, modules, lessons and their progress."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, exists, select, update

from ..content import Activity, Lesson, Module
from ..extensions import db
from ..forms import EmptyForm
from ..hr import assignments, notifications
from ..models import ActionPlan, Notice, QuizAttempt, Status, SurveyRound, User, utcnow
from ..publishing import LiveCourse, live_course, require_live_course
from ..surveys import announcements, answering, rounds
from . import action_plans, certification, learning_time, outline, records
from .learning_time import NO_TIME, learning_minutes
from .progress import CourseProgress, is_completed, learner_progress

bp = Blueprint("learn", __name__)

ACTIVITY_VIEWS = {
    "lesson": ("learn.lesson", "lesson_id"),
    "quiz": ("quizzes.overview", "quiz_id"),
    "scenario": ("scenarios.overview", "scenario_id"),
}


@bp.app_template_global()
def activity_url(activity: Activity) -> str:
    endpoint, argument = ACTIVITY_VIEWS[activity.kind]
    return url_for(endpoint, **{argument: activity.id})


@bp.app_template_global()
def activity_kind_label(kind: str) -> str:
    return {"lesson": _("Lesson"), "quiz": _("Quiz"), "scenario": _("Role-play")}[kind]


@bp.app_template_global()
def completion_text(module: Module) -> str:
    """Say in words what completes `module`."""
    rule = module.completion
    parts = [_("read every lesson") if rule.lessons is None else _("read the required lessons")]
    if rule.scenarios:
        parts.append(_("play every role-play to an ending"))
    if rule.quiz and module.quiz_id:
        parts.append(_("pass the quiz"))
    return _("To complete this module: %(steps)s.", steps=_(", ").join(parts))



def _module_or_404(live: LiveCourse | None, module_id: str) -> Module:
    module = live.course.module(module_id) if live else None
    if module is None:
        abort(404)
    return module


def _lesson_or_404(live: LiveCourse | None, lesson_id: str) -> Lesson:
    lesson = live.course.lesson(lesson_id) if live else None
    if lesson is None:
        abort(404)
    return lesson


@bp.route("/")
@login_required
def home():
    live = require_live_course()
    progress = learner_progress(current_user.id, live.course)
    pieces = outline.home_pieces(live)
    return render_template(
        "learn/home.html", course=live.course, progress=progress, pieces=pieces,
        course_head=outline.course_head(pieces, progress), module_cards=outline.module_cards(pieces, progress),
        final_card=outline.final_card(pieces, progress), cards=home_cards(current_user, live, progress), notice_text=_notice_text,
    )


def _notice_text(kind: str, title: str, due_on):
    """A notice's words: a survey's (announced, reminded) or an assignment's."""
    if kind in set(announcements.SurveyNotice):
        return announcements.text(kind, title, due_on)
    return notifications.text(kind, title, due_on)


# --- the home's cards beside the course: news, assignments, surveys, the action plan, the pre-test ---
# Most learners have none of them on most days, yet the home is the page everyone opens first: one statement asks
# which of them could show anything, and only the cards it names read their rows.

MAX_NOTICES = 5

_NOTICES = (
    select(Notice).where(Notice.user_id == bindparam("user_id"), Notice.dismissed_at.is_(None))
    .order_by(Notice.id.desc()).limit(MAX_NOTICES)
)
_ATTEMPTED = select(QuizAttempt.id).where(
    QuizAttempt.user_id == bindparam("user_id"), QuizAttempt.quiz_id.in_(bindparam("quiz_ids", expanding=True))
)
# Built once: every view of the home runs it.
_ANYTHING = select(
    exists(_NOTICES.with_only_columns(Notice.id).order_by(None).limit(None)).label("notices"),
    assignments.any_for_learner().label("assignments"),
    exists(rounds.open_on(bindparam("on")).with_only_columns(SurveyRound.id).order_by(None)).label("surveys"),
    exists(select(ActionPlan.id).where(ActionPlan.user_id == bindparam("user_id"))).label("plans"),
    exists(_ATTEMPTED).label("pretest_or_final_taken"),
)


@dataclass(frozen=True)
class HomeCards:
    """What the home shows beside the course, each empty (or None) when there is nothing to show."""

    notices: list[Notice]
    assigned: list[tuple[str, str, date, assignments.AssignmentStatus]]  # title, link, due date, status
    surveys: list
    action_plan: action_plans.Standing | None
    pretest: object | None  # the course's pre-test quiz, while the learner has taken neither it nor the final


def home_cards(user: User, live: LiveCourse, progress: CourseProgress) -> HomeCards:
    course, on = live.course, assignments.today()
    found = db.session.connection().execute(_ANYTHING, {
        "user_id": user.id, "department_id": user.department_id, "on": on,
        "quiz_ids": [course.pretest_quiz_id, course.final_quiz_id],
    }).one()
    return HomeCards(
        notices=db.session.scalars(_NOTICES, {"user_id": user.id}).all() if found.notices else [],
        assigned=_assigned(user, live, progress, on) if found.assignments else [],
        surveys=answering.unanswered_rounds(user, on) if found.surveys else [],
        action_plan=action_plans.standing(user.id, progress.completed_at is not None, on, any_plan=found.plans),
        pretest=course.pretest if course.pretest is not None and not found.pretest_or_final_taken else None,
    )


def _assigned(user: User, live: LiveCourse, progress: CourseProgress, on: date) -> list:
    """(title, link, due date, status) for each of the learner's assignments still in the course."""
    course = live.course
    found = []
    for activity_id, due_on in assignments.for_learner(user):
        if activity_id == course.id:
            title, link = course.title, url_for("learn.home")
        elif module := course.module(activity_id):
            title, link = module.title, url_for("learn.module", module_id=module.id)
        else:
            continue
        state = progress.state(activity_id).status
        found.append((title, link, due_on, assignments.status(state, due_on, on)))
    return found


@bp.post("/notices/<int:notice_id>/dismiss")
@login_required
def dismiss_notice(notice_id: int):
    if EmptyForm().validate_on_submit():
        db.session.execute(
            update(Notice).where(Notice.id == notice_id, Notice.user_id == current_user.id).values(dismissed_at=utcnow())
        )
        db.session.commit()
    return redirect(url_for("learn.home"))


@bp.route("/modules/<module_id>")
@login_required
def module(module_id: str):
    live = live_course()
    module = _module_or_404(live, module_id)
    progress = learner_progress(current_user.id, live.course)
    return render_template(
        "learn/module.html", course=live.course, module=module, progress=progress
    )


@bp.app_template_filter()
def clock(seconds: float) -> str:
    """Show a countdown as m:ss."""
    whole = math.ceil(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _remaining(lesson: Lesson, credited: float, completed: bool) -> float:
    return 0.0 if completed else max(0.0, learning_time.required_seconds(lesson) - credited)


@bp.route("/lessons/<lesson_id>")
@login_required
def lesson(lesson_id: str):
    live = live_course()
    lesson = _lesson_or_404(live, lesson_id)
    progress, credited = records.visit_lesson(current_user, live, lesson)
    completed = progress.state(lesson.id).status is Status.COMPLETED
    pieces = outline.lesson_pieces(live, lesson)
    return render_template(
        "learn/lesson.html",
        lesson=lesson,
        pieces=pieces,
        aside=outline.lesson_aside(pieces, progress, lesson.module_id),
        completed=completed,
        remaining=_remaining(lesson, credited, completed),
        heartbeat=learning_time.heartbeat_seconds(),
    )


@bp.route("/lessons/<lesson_id>/complete", methods=["POST"])
@login_required
def complete(lesson_id: str):
    live = live_course()
    lesson = _lesson_or_404(live, lesson_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if records.complete_lesson(current_user, live, lesson):
            flash(_("Lesson completed."), "success")
    except records.TooEarly as early:
        wait = format_timedelta(timedelta(seconds=math.ceil(early.remaining)), threshold=1.5)
        flash(_("Keep reading: you can mark this lesson complete in about %(time)s.", time=wait), "warning")
    return redirect(url_for("learn.lesson", lesson_id=lesson.id))


@bp.post("/lessons/<lesson_id>/time")
@login_required
def lesson_time(lesson_id: str):
    """Heartbeat of an open lesson page: credit reading time while the page is visible."""
    live = live_course()
    lesson = _lesson_or_404(live, lesson_id)
    event = request.form.get("event")
    if not EmptyForm().validate_on_submit() or event not in learning_time.PAGE_EVENTS:
        abort(400)
    credited = records.time_lesson(current_user, live, lesson, event)
    completed = is_completed(current_user.id, lesson.id)
    return jsonify(credited=math.floor(credited), remaining=math.ceil(_remaining(lesson, credited, completed)))


@bp.route("/progress")
@login_required
def my_progress():
    live = require_live_course()
    progress = learner_progress(current_user.id, live.course)
    return render_template(
        "learn/progress.html", course=live.course, progress=progress,
        certificates=certification.of(current_user.id),
        minutes=learning_minutes([current_user.id], live.course).get(current_user.id, NO_TIME),
        action_plan=action_plans.standing(current_user.id, progress.completed_at is not None, assignments.today()),
    )
