"""Submitting a quiz: answers saved earlier count, every answer is scored once, a repeated submit changes nothing."""
from __future__ import annotations

from conftest import answer_form, statements_of
from sqlalchemy import func, select

from courseware.extensions import db
from courseware.models import LearningRecord, Progress, QuizAnswer, QuizAttempt
from courseware.publishing import live_course

QUIZ_ID = "quiz-core-elements"


def records_of(user_id: int) -> list[tuple[str, str]]:
    return sorted(db.session.execute(
        select(LearningRecord.verb, LearningRecord.object_id).where(LearningRecord.user_id == user_id)
    ).all())


def test_answers_saved_earlier_are_graded_with_those_sent_at_submit(client, app, published, trainee):
    with app.test_request_context():
        quiz = live_course().course.quiz(QUIZ_ID)
    url = client.post(f"/quizzes/{QUIZ_ID}/start").location
    first, *rest = quiz.questions
    saved = client.post(f"{url}/save", data=answer_form(first, first.correct_answer()), headers={"Accept": "application/json"})
    assert saved.status_code == 200 and saved.get_json() == {"saved": True}

    sent = {}
    for question in rest:
        sent |= answer_form(question, question.correct_answer())
    done = client.post(f"{url}/submit", data=sent)
    assert done.status_code == 302 and done.location.endswith("/result")

    attempt_id = url.rsplit("/", 1)[1]
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert (attempt.status, attempt.score, attempt.passed) == ("submitted", 1.0, True)
        fractions = dict(db.session.execute(
            select(QuizAnswer.question_id, QuizAnswer.fraction).where(QuizAnswer.attempt_id == attempt_id)
        ).all())
        assert fractions == {question.id: 1.0 for question in quiz.questions}
        progress = db.session.scalar(select(Progress).where(Progress.user_id == trainee, Progress.activity_id == QUIZ_ID))
        assert (progress.status, progress.score, progress.attempts) == ("completed", 1.0, 1)
        written = records_of(trainee)
    assert written.count(("passed", QUIZ_ID)) == 1 and written.count(("completed", QUIZ_ID)) == 1
    answered = statements_of(app, trainee, "answered")  # what the exports and the LRS get of each question
    assert len(answered) == len(quiz.questions) and all(s["result"]["success"] for s in answered)

    again = client.post(f"{url}/submit", data={})  # a double click, or the browser sending the form again
    assert again.status_code == 302 and again.location.endswith("/result")
    with app.app_context():
        assert records_of(trainee) == written
        assert db.session.get(QuizAttempt, attempt_id).score == 1.0


def test_a_second_attempt_keeps_the_best_score_and_completes_the_quiz_once(client, app, published, trainee):
    with app.test_request_context():
        quiz = live_course().course.quiz(QUIZ_ID)
    right = {}
    for question in quiz.questions:
        right |= answer_form(question, question.correct_answer())
    for fields in (right, {"submit_anyway": "1"}):
        url = client.post(f"/quizzes/{QUIZ_ID}/start").location
        assert client.post(f"{url}/submit", data=fields).status_code == 302
    with app.app_context():
        scores = db.session.scalars(
            select(QuizAttempt.score).where(QuizAttempt.user_id == trainee).order_by(QuizAttempt.number)
        ).all()
        progress = db.session.scalar(select(Progress).where(Progress.user_id == trainee, Progress.activity_id == QUIZ_ID))
        completions = db.session.scalar(select(func.count()).select_from(LearningRecord).where(
            LearningRecord.user_id == trainee, LearningRecord.verb == "completed", LearningRecord.object_id == QUIZ_ID))
    assert scores == [1.0, 0.0]
    assert (progress.status, progress.score, progress.attempts) == ("completed", 1.0, 2) and completions == 1
