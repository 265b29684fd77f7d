"""Quiz attempts and role-play runs through the web: saved as you go, recorded exactly once."""
from __future__ import annotations

import re

from conftest import answer_form, at_once, correct_form, pass_quiz, play_model_path, statements_of
from sqlalchemy import func, select

from courseware.extensions import db
from courseware.learning import records
from courseware.learning.roleplay import model_path
from courseware.models import LearningRecord, Progress, QuizAttempt, ScenarioStep, User
from courseware.publishing import live_course, publish

QUIZ_ID = "quiz-why-it-matters"
SCENARIO_ID = "scenario-rush-order"


def course_of(app):
    with app.test_request_context():
        return live_course().course


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def start(client, quiz_id=QUIZ_ID) -> str:
    response = client.post(f"/quizzes/{quiz_id}/start")
    assert response.status_code == 302 and "/attempts/" in response.location
    return response.location


def test_answers_are_kept_as_the_learner_goes(client, trainee, published, app):
    quiz = course_of(app).quiz(QUIZ_ID)
    attempt_url = start(client)
    first = quiz.questions[0]
    saved = client.post(f"{attempt_url}/save", data=answer_form(first, first.correct_answer()),
                        headers={"Accept": "application/json"})
    assert saved.get_json() == {"saved": True}
    page = client.get(attempt_url).get_data(as_text=True)  # a reload, or coming back tomorrow
    assert f'value="{first.correct_answer()}" checked' in page
    assert start(client) == attempt_url  # "start" again resumes the same attempt


def test_submitting_twice_records_one_attempt(client, trainee, published, app):
    quiz = course_of(app).quiz(QUIZ_ID)
    attempt_url = start(client)
    for _ in range(2):
        response = client.post(f"{attempt_url}/submit", data=correct_form(quiz))
        assert response.status_code == 302 and response.location.endswith("/result")
    assert count(app, QuizAttempt, QuizAttempt.user_id == trainee) == 1
    assert count(app, LearningRecord, LearningRecord.verb == "passed", LearningRecord.user_id == trainee) == 1
    assert len(statements_of(app, trainee, "answered")) == len(quiz.questions)
    result = client.get(f"{attempt_url}/result").get_data(as_text=True)
    assert "已通过 · 100%" in result and "解析：" in result


def test_concurrent_submits_from_two_tabs_record_one_result(app, make_user, published):
    user_id, _ = make_user()
    quiz = course_of(app).quiz(QUIZ_ID)
    with app.test_request_context():
        live = live_course()
        attempt_id = records.start_attempt(db.session.get(User, user_id), live, quiz).id
    answers = {q.id: q.correct_answer() for q in quiz.questions}

    def submit():
        user = db.session.get(User, user_id)
        records.submit_attempt(user, live_course(), db.session.get(QuizAttempt, attempt_id), quiz, answers)

    assert at_once(app, submit, 6) == []
    assert count(app, LearningRecord, LearningRecord.verb.in_(["passed", "failed"])) == 1
    with app.app_context():
        progress = db.session.scalar(select(Progress).where(Progress.activity_id == QUIZ_ID))
        assert progress.attempts == 1 and progress.status == "completed" and progress.score == 1.0


def test_attempts_run_out_and_the_best_score_counts(client, trainee, published, app):
    quiz = course_of(app).quiz(QUIZ_ID)
    assert quiz.attempts == 3 and quiz.keep == "best"
    pass_quiz(client, quiz)
    for _ in range(2):
        client.post(f"{start(client)}/submit", data={"submit_anyway": "1"})  # two empty attempts: 0%
    overview = client.post(f"/quizzes/{QUIZ_ID}/start", follow_redirects=True).get_data(as_text=True)
    assert "你已用完本测验的全部作答次数" in overview
    assert "你的得分：100%" in overview
    assert count(app, QuizAttempt) == 3


def test_a_quiz_edit_never_changes_a_past_result(client, trainee, published, app, course_sources):
    quiz = course_of(app).quiz(QUIZ_ID)
    attempt_url = start(client)
    client.post(f"{attempt_url}/submit", data=correct_form(quiz))
    before = client.get(f"{attempt_url}/result").get_data(as_text=True)

    key = f"quizzes/{QUIZ_ID}.yaml"
    text = course_sources[key].decode()
    edited = re.sub(r"answer: (true|false)", lambda m: "answer: " + ("false" if m.group(1) == "true" else "true"), text)
    assert edited != text
    with app.app_context():
        publish({**course_sources, key: edited.encode()})
    after = client.get(f"{attempt_url}/result").get_data(as_text=True)
    assert "已通过 · 100%" in before and "已通过 · 100%" in after
    answered = statements_of(app, trainee, "answered")
    assert answered and {s["context"]["extensions"]["urn:courseware:extension:revision"] for s in answered} == {published}


def test_nobody_sees_another_learners_attempt(client, make_user, login, published):
    _, first = make_user()
    _, second = make_user()
    login(first)
    attempt_url = start(client)
    client.post("/logout")
    login(second)
    assert client.get(attempt_url).status_code == 404
    assert client.post(f"{attempt_url}/submit", data={}).status_code == 404


def test_scenario_resumes_where_it_was_left_and_ignores_double_clicks(client, trainee, published, app):
    scenario = course_of(app).scenario(SCENARIO_ID)
    model = model_path(scenario)
    run_url = client.post(f"/scenarios/{SCENARIO_ID}/start").location
    first = model.steps[0].choice.id
    for _ in range(2):  # a double click sends the same step twice
        client.post(f"{run_url}/choose", data={"step": 0, "choice": first})
    assert count(app, ScenarioStep) == 1
    assert client.get(f"/scenarios/{SCENARIO_ID}").location == run_url  # coming back resumes
    page = client.get(run_url).get_data(as_text=True)
    assert model.steps[0].choice.feedback_html in page
    assert f'value="{model.steps[1].choice.id}"' in page

    bogus = client.post(f"{run_url}/choose", data={"step": 1, "choice": "not-a-choice"}, follow_redirects=True)
    assert "该选项在此处已不可用" in bogus.get_data(as_text=True)
    assert count(app, ScenarioStep) == 1


def test_finished_scenario_shows_ending_profile_path_and_peers(client, make_user, login, published, app):
    scenario = course_of(app).scenario(SCENARIO_ID)
    model = model_path(scenario)
    _, peer = make_user()
    login(peer)
    run_url = client.post(f"/scenarios/{SCENARIO_ID}/start").location
    first_node = scenario.node(scenario.start)
    other = next(c for c in first_node.choices if not c.best)
    client.post(f"{run_url}/choose", data={"step": 0, "choice": other.id})
    client.post("/logout")

    _, learner = make_user()
    login(learner)
    response = play_model_path(client, scenario)
    debrief = response.get_data(as_text=True)
    assert model.node.ending.title in debrief and "<svg" in debrief
    for element, value in model.profile.items():
        assert f"{element} {value}" in debrief  # in the chart's accessible title
    assert "50% 的学员" in debrief  # at the first node, one learner of two took the model choice
    assert count(app, LearningRecord, LearningRecord.verb == "completed", LearningRecord.object_id == SCENARIO_ID) == 1

    replay = client.post(f"/scenarios/{SCENARIO_ID}/start", data={"replay": "1"}).location
    assert replay.startswith(f"/scenarios/{SCENARIO_ID}/runs/") and replay not in debrief
    assert client.get(f"/scenarios/{SCENARIO_ID}").location == replay  # the new run is the one to resume
