"""Quizzes for learners: start or resume an attempt, save answers as they go, submit, review."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import live_activity_or_404, own_try_or_404
from ..content import Question, Quiz
from ..forms import EmptyForm
from ..models import QuizAttempt
from ..publishing import live_course
from . import grading, records, review
from .progress import learner_progress

bp = Blueprint("quizzes", __name__, url_prefix="/quizzes")


def _attempt_or_404(quiz_id: str, attempt_id: str) -> tuple[QuizAttempt, Quiz]:
    return own_try_or_404(QuizAttempt, attempt_id, "quiz", quiz_id)


def _answers_from(questions: tuple[Question, ...]) -> dict:
    form = request.form.to_dict(flat=False)
    answers = {}
    for question in questions:
        answer = question.answer_from_form(form)
        if answer is not None:
            answers[question.id] = answer
    return answers


@bp.route("/<quiz_id>")
@login_required
def overview(quiz_id: str):
    live, quiz = live_activity_or_404("quiz", quiz_id)
    attempts = records.attempts_of(current_user, quiz.id)
    used = len(records.attempts_this_round(current_user, live, quiz.id))
    return render_template(
        "quizzes/overview.html",
        course=live.course,
        quiz=quiz,
        module=live.course.module(quiz.module_id) if quiz.module_id else None,
        attempts=attempts,
        open_attempt=next((a for a in attempts if not a.submitted), None),
        attempts_left=None if not quiz.attempts else max(0, quiz.attempts - used),
        state=learner_progress(current_user.id, live.course).state(quiz.id),
        form=EmptyForm(),
    )


@bp.route("/<quiz_id>/start", methods=["POST"])
@login_required
def start(quiz_id: str):
    live, quiz = live_activity_or_404("quiz", quiz_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        attempt = records.start_attempt(current_user, live, quiz)
    except records.NoAttemptsLeft:
        flash(_("You have used every attempt this quiz allows."), "warning")
        return redirect(url_for(".overview", quiz_id=quiz.id))
    return redirect(url_for(".attempt", quiz_id=quiz.id, attempt_id=attempt.id))


@bp.route("/<quiz_id>/attempts/<attempt_id>")
@login_required
def attempt(quiz_id: str, attempt_id: str):
    attempt, quiz = _attempt_or_404(quiz_id, attempt_id)
    if attempt.submitted:
        return redirect(url_for(".result", quiz_id=quiz_id, attempt_id=attempt_id))
    questions = quiz.drawn(attempt.question_ids)
    return render_template(
        "quizzes/attempt.html",
        quiz=quiz,
        attempt=attempt,
        questions=questions,
        answers=attempt.answer_map(),
        layouts={q.id: q.layout(f"{attempt.id}:{q.id}", quiz.shuffle) for q in questions},
        form=EmptyForm(),
    )


@bp.route("/<quiz_id>/attempts/<attempt_id>/save", methods=["POST"])
@login_required
def save(quiz_id: str, attempt_id: str):
    attempt, quiz = _attempt_or_404(quiz_id, attempt_id)
    as_json = request.accept_mimetypes.best == "application/json"
    # in the learner's language, read before the commit expires the learner
    notice = None if as_json else _("Your answers are saved. You can come back and finish later.")
    saved = records.save_answers(attempt, _answers_from(quiz.drawn(attempt.question_ids)))
    if as_json:
        return jsonify(saved=saved), (200 if saved else 409)
    if saved:
        flash(notice, "success")
    return redirect(url_for(".attempt", quiz_id=quiz_id, attempt_id=attempt_id))


@bp.route("/<quiz_id>/attempts/<attempt_id>/submit", methods=["POST"])
@login_required
def submit(quiz_id: str, attempt_id: str):
    """Grade the attempt; with questions left blank, first save the answers and list the blanks.

    The list offers to go back or to submit anyway (the field `submit_anyway`), with or without JavaScript.
    """
    attempt, quiz = _attempt_or_404(quiz_id, attempt_id)
    if attempt.submitted:  # a double click or a retry: the first submit's result stands
        return redirect(url_for(".result", quiz_id=quiz_id, attempt_id=attempt_id))
    questions = quiz.drawn(attempt.question_ids)
    answers = _answers_from(questions)
    if len(answers) < len(questions) and "submit_anyway" not in request.form:
        answered = attempt.answer_map() | answers
        blanks = [(n, q) for n, q in enumerate(questions, 1) if q.id not in answered]
        if blanks and records.save_answers(attempt, answers):
            return render_template(
                "quizzes/unanswered.html", quiz=quiz, attempt=attempt, blanks=blanks, total=len(questions), form=EmptyForm()
            )
    records.submit_attempt(current_user, live_course(), attempt, quiz, answers)
    return redirect(url_for(".result", quiz_id=quiz_id, attempt_id=attempt_id))


@bp.route("/<quiz_id>/attempts/<attempt_id>/result")
@login_required
def result(quiz_id: str, attempt_id: str):
    attempt, quiz = _attempt_or_404(quiz_id, attempt_id)
    if not attempt.submitted:
        return redirect(url_for(".attempt", quiz_id=quiz_id, attempt_id=attempt_id))
    live = live_course()
    used = records.attempts_this_round(current_user, live, quiz.id)
    can_retake = (not quiz.attempts or len(used) < quiz.attempts) and live.course.quiz(quiz.id) is not None
    policy = live.course.quiz(quiz.id) or quiz  # a trainer's stricter policy applies to past attempts too
    return render_template(
        "quizzes/result.html",
        quiz=quiz,
        attempt=attempt,
        result=grading.grade(quiz, attempt.answer_map(), attempt.question_ids),
        policy=policy.review,
        answers_shown=review.answers_shown(policy, used),
        can_retake=can_retake,
        module=live.course.module(quiz.module_id) if quiz.module_id else None,
        form=EmptyForm(),
    )
