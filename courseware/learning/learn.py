"""The trainee's journey: course home, modules, lessons and their progress."""
from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select, update

from ..content import Activity, Lesson, Module
from ..extensions import db
from ..forms import EmptyForm
from ..hr import assignments, notifications
from ..models import Notice, QuizAttempt, Status, utcnow
from ..publishing import LiveCourse, live_course, require_live_course
from ..surveys import announcements, answering
from . import action_plans, certification, learning_time, outline, records
from .learning_time import NO_TIME, learning_minutes
from .progress import CourseProgress, is_completed, learner_progress

bp = Blueprint("learn", __name__)
bp.add_app_template_global(outline.hole)

MAX_NOTICES = 5

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


# Built once, as the home page runs them on every view: putting a statement together costs more than running it.
_NOTICES = (
    select(Notice).where(Notice.user_id == bindparam("user_id"), Notice.dismissed_at.is_(None))
    .order_by(Notice.id.desc()).limit(MAX_NOTICES)
)
_ATTEMPT_AT = (
    select(QuizAttempt.id)
    .where(QuizAttempt.user_id == bindparam("user_id"), QuizAttempt.quiz_id.in_(bindparam("quiz_ids", expanding=True)))
    .limit(1)
)


@bp.route("/")
@login_required
def home():
    live = require_live_course()
    progress = learner_progress(current_user.id, live.course)
    pieces = outline.home_pieces(live)
    return render_template(
        "learn/home.html", course=live.course, progress=progress, pieces=pieces,
        course_head=outline.course_head(pieces, progress), module_cards=outline.module_cards(pieces, progress),
        final_card=outline.final_card(pieces, progress), assigned=_my_assignments(live, progress),
        notices=db.session.scalars(_NOTICES, {"user_id": current_user.id}).all(),
        notice_text=_notice_text,
        pretest=_pretest_to_offer(live),
        surveys=answering.unanswered_rounds(current_user, assignments.today()),
        action_plan=action_plans.standing(current_user.id, progress.completed_at is not None, assignments.today()),
    )


def _notice_text(kind: str, title: str, due_on):
    """A notice's words: a survey's (announced, reminded) or an assignment's."""
    if kind in set(announcements.SurveyNotice):
        return announcements.text(kind, title, due_on)
    return notifications.text(kind, title, due_on)


def _pretest_to_offer(live: LiveCourse):
    """The course's diagnostic pre-test, while the learner has neither taken it nor the final assessment."""
    course = live.course
    if course.pretest is None:
        return None
    taken = db.session.scalar(
        _ATTEMPT_AT, {"user_id": current_user.id, "quiz_ids": [course.pretest_quiz_id, course.final_quiz_id]}
    )
    return None if taken else course.pretest


@bp.post("/notices/<int:notice_id>/dismiss")
@login_required
def dismiss_notice(notice_id: int):
    if EmptyForm().validate_on_submit():
        db.session.execute(
            update(Notice).where(Notice.id == notice_id, Notice.user_id == current_user.id).values(dismissed_at=utcnow())
        )
        db.session.commit()
    return redirect(url_for("learn.home"))


def _my_assignments(live: LiveCourse, progress: CourseProgress) -> list[tuple[str, str, object, assignments.AssignmentStatus]]:
    """(title, link, due date, status) for each of the learner's assignments still in the course."""
    on = assignments.today()
    found = []
    for assignment, due_on in assignments.for_learner(current_user):
        if assignment.activity_id == live.course.id:
            title, link = live.course.title, url_for("learn.home")
        elif module := live.course.module(assignment.activity_id):
            title, link = module.title, url_for("learn.module", module_id=module.id)
        else:
            continue
        state = progress.state(assignment.activity_id).status
        found.append((title, link, due_on, assignments.status(state, due_on, on)))
    return found


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
    progress = learner_progress(current_user.id, live.course)
    state = progress.state(lesson.id)
    if state.status is Status.NOT_STARTED:
        records.open_lesson(current_user, live, lesson)
    credited = records.time_lesson(current_user, live, lesson, "open")
    completed = state.status is Status.COMPLETED
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
