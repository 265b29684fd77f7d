"""Reading time that counts: a lesson waits for its minimum, heartbeats credit only visible time,
two tabs share one clock, and the credited time (学时) shows where learners and HR look."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from conftest import pass_quiz
from sqlalchemy import event, func, select

from courseware.content import CourseInvalid, compile_sources
from courseware.extensions import db
from courseware.learning import records
from courseware.learning.learning_time import NO_TIME, learning_minutes
from courseware.models import Certificate, LearningRecord, Progress, Role, User, utcnow
from courseware.publishing import live_course, publish
from courseware.studio.analytics.filters import Filter
from courseware.studio.analytics.lessons import lesson_funnel

LESSON = "ic-definition"  # minutes: 9, so half of it is 4:30
NEEDED = 270


@pytest.fixture
def app_config():
    return {"LESSON_MIN_SHARE": 0.5, "LESSON_HEARTBEAT_SECONDS": 30}


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    """The time records sees, moved by the test instead of waited for."""
    fake = Clock()
    monkeypatch.setattr(records, "utcnow", fake)
    return fake


def beat(client, event_name="beat", lesson_id=LESSON):
    response = client.post(f"/lessons/{lesson_id}/time", data={"event": event_name})
    assert response.status_code == 200
    return response.get_json()


def completed(app, user_id, lesson_id=LESSON) -> bool:
    with app.app_context():
        return db.session.scalar(
            select(Progress.status).where(Progress.user_id == user_id, Progress.activity_id == lesson_id)
        ) == "completed"


def test_completing_before_the_minimum_is_refused_with_the_time_left_then_allowed(app, client, trainee, published, clock):
    page = client.get(f"/lessons/{LESSON}").get_data(as_text=True)
    assert "4:30" in page and 'id="lesson-clock"' in page

    clock.advance(60)  # no JavaScript: the server counts from opening to the click
    client.post("/language/en")
    refused = client.post(f"/lessons/{LESSON}/complete", follow_redirects=True).get_data(as_text=True)
    assert "Keep reading: you can mark this lesson complete in about 4 minutes." in refused
    assert "3:30" in refused and not completed(app, trainee)

    for _ in range(7):  # a visible page's heartbeats: 60 + 7 × 30 = 270 seconds
        clock.advance(30)
        answer = beat(client)
    assert answer == {"credited": NEEDED, "remaining": 0}
    assert "4:30" not in client.get(f"/lessons/{LESSON}").get_data(as_text=True)
    assert client.post(f"/lessons/{LESSON}/complete").status_code == 302
    assert completed(app, trainee)

    # a double click or a retry is still fine, and nothing is written twice
    assert client.post(f"/lessons/{LESSON}/complete").status_code == 302
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).select_from(LearningRecord)
            .where(LearningRecord.user_id == trainee, LearningRecord.object_id == LESSON, LearningRecord.verb == "completed")
        ) == 1


def test_without_javascript_opening_to_completing_counts_and_a_reload_keeps_the_clock(app, client, trainee, published, clock):
    client.get(f"/lessons/{LESSON}")
    clock.advance(200)
    client.get(f"/lessons/{LESSON}")  # a reload does not start the clock again
    clock.advance(80)
    assert client.post(f"/lessons/{LESSON}/complete").status_code == 302
    assert completed(app, trainee)


def test_a_long_absence_without_javascript_counts_at_most_the_reading_time(app, client, trainee, published, clock):
    client.get(f"/lessons/{LESSON}")
    clock.advance(6 * 3600)
    client.post(f"/lessons/{LESSON}/complete")
    with app.app_context():
        assert learning_minutes([trainee], live_course().course)[trainee].total == 9


def test_hidden_pages_and_late_heartbeats_do_not_over_credit(client, trainee, published, clock):
    client.get(f"/lessons/{LESSON}")
    clock.advance(30)
    assert beat(client)["credited"] == 30
    clock.advance(10)
    assert beat(client, "hide")["credited"] == 40  # the last visible seconds count
    clock.advance(600)
    assert beat(client)["credited"] == 40  # a beat from a hidden page credits nothing
    clock.advance(600)
    assert beat(client, "show")["credited"] == 40  # showing again starts the clock, crediting nothing
    clock.advance(30)
    assert beat(client)["credited"] == 70
    clock.advance(3600)  # a heartbeat far too late credits at most twice the interval
    assert beat(client)["credited"] == 130


def test_a_tab_left_open_all_day_credits_at_most_three_times_the_reading_time(client, trainee, published, clock):
    client.get(f"/lessons/{LESSON}")
    for _ in range(8 * 60 * 2):  # eight hours of heartbeats from a visible tab nobody reads
        clock.advance(30)
        credited = beat(client)["credited"]
    assert credited == 3 * 9 * 60  # the lesson's reading time is 9 minutes


def test_two_tabs_on_one_lesson_count_wall_clock_time_once(client, trainee, published, clock):
    client.get(f"/lessons/{LESSON}")
    client.get(f"/lessons/{LESSON}")  # the second tab
    for _ in range(10):  # each tab beats every 30 seconds, 15 seconds apart
        clock.advance(15)
        beat(client)
    assert beat(client, "show")["credited"] == 150  # a tab shown while another runs changes nothing
    assert beat(client)["credited"] == 150


def test_the_heartbeat_refuses_odd_input(client, trainee, published):
    assert client.post(f"/lessons/{LESSON}/time", data={"event": "teleport"}).status_code == 400
    assert client.post(f"/lessons/{LESSON}/time").status_code == 400
    assert client.post("/lessons/no-such-lesson/time", data={"event": "beat"}).status_code == 404
    assert client.post(f"/lessons/{LESSON}/time", data={"event": "x" * 10_000}).status_code == 400


def test_a_lesson_sets_its_own_minimum_in_minutes(app, client, trainee, course_sources, clock):
    path = next(p for p in course_sources if p.endswith("01-definition.md"))
    text = course_sources[path].decode().replace("minutes: 9\n", "minutes: 9\nmin_minutes: 0.5\n", 1)
    with app.app_context():
        publish({**course_sources, path: text.encode()})
    client.get(f"/lessons/{LESSON}")
    clock.advance(20)
    client.post(f"/lessons/{LESSON}/complete")
    assert not completed(app, trainee)
    clock.advance(10)
    client.post(f"/lessons/{LESSON}/complete")
    assert completed(app, trainee)


@pytest.mark.parametrize(("value", "expected"), [(-1, "'min_minutes' must be a number of minutes"), ("soon", "'min_minutes' must")])
def test_a_wrong_minimum_is_named_with_its_line(course_sources, value, expected):
    path = next(p for p in course_sources if p.endswith("01-definition.md"))
    text = course_sources[path].decode().replace("minutes: 9\n", f"minutes: 9\nmin_minutes: {value}\n", 1)
    with pytest.raises(CourseInvalid) as caught:
        compile_sources({**course_sources, path: text.encode()})
    assert any(str(error).startswith(f"{path}:6: {expected}") for error in caught.value.errors)


def test_learning_time_shows_on_progress_transcript_and_certificate(app, client, make_user, login, published, clock):
    user_id, email = make_user(Role.TRAINEE)
    login(email)
    client.get(f"/lessons/{LESSON}")
    for _ in range(10):
        clock.advance(30)
        beat(client)
    clock.advance(30)
    client.post(f"/lessons/{LESSON}/complete")  # 5 minutes 30 seconds in all
    with app.test_request_context():
        records.issue_certificate(db.session.get(User, user_id), live_course(), utcnow())
        db.session.commit()
        code = db.session.scalar(select(Certificate.code).where(Certificate.user_id == user_id))
    progress = client.get("/progress").get_data(as_text=True)
    assert '<span class="learning-time">5 分钟</span>' in progress
    assert client.get(f"/verify/{code}").get_data(as_text=True).count("5 分钟") == 1
    assert client.get(f"/certificates/{code}.pdf").status_code == 200

    client.post("/logout")
    hr_id, hr_email = make_user(Role.HR)
    login(hr_email)
    transcript = client.get(f"/hr/learners/{user_id}").get_data(as_text=True)
    assert '<span class="learning-time">5 分钟</span>' in transcript
    exported = list(csv.DictReader(io.StringIO(client.get("/hr/learners.csv").get_data().decode("utf-8-sig"))))
    assert [row["学时（分钟）"] for row in exported if row["邮箱"] == email] == ["5"]


def test_learning_minutes_for_many_learners_in_one_query(app, make_user, published, clock):
    ids = [make_user(Role.TRAINEE)[0] for _ in range(3)]
    with app.test_request_context():
        live = live_course()
        course = live.course
        second = course.lesson("element-communication")
        for k, user_id in enumerate(ids[:2]):
            user = db.session.get(User, user_id)
            for lesson in (course.lesson(LESSON), second):
                records.time_lesson(user, live, lesson, "open")
                for _ in range(4 + 4 * k):
                    clock.advance(30)
                    records.time_lesson(user, live, lesson, "beat")
        statements = []
        engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - a one-line counter
        event.listen(engine, "before_cursor_execute", listener)
        try:
            found = learning_minutes(ids, course)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert found[ids[0]].total == 4 and found[ids[0]].of("what-is-internal-customer") == 2
    assert found[ids[1]].total == 8 and found[ids[1]].of("core-elements") == 4
    assert found.get(ids[2], NO_TIME).total == 0


def test_next_after_a_modules_last_lesson_is_its_role_play_then_its_quiz(app, client, trainee, published):
    with app.test_request_context():
        course = live_course().course
    module = course.modules[0]
    last = module.lessons[-1]
    page = client.get(f"/lessons/{last.id}").get_data(as_text=True)
    assert f'rel="next" href="/scenarios/{module.scenario_ids[0]}"' in page
    assert [a.id for a in course.beside(module.scenario_ids[0])] == [last.id, module.quiz_id]
    assert course.beside(module.quiz_id)[1].id == course.modules[1].lessons[0].id
    first_of_next = client.get(f"/lessons/{course.modules[1].lessons[0].id}").get_data(as_text=True)
    assert f'rel="prev" href="/quizzes/{module.quiz_id}"' in first_of_next


def test_progress_shows_quiz_scores_attempts_the_final_assessment_and_the_certificate(app, client, trainee, published):
    with app.test_request_context():
        course = live_course().course
    quiz = course.quiz("quiz-why-it-matters")
    pass_quiz(client, quiz)
    page = client.get("/progress").get_data(as_text=True)
    table = page[page.index('id="quiz-scores"'):]
    row = table[table.index(quiz.title):]
    row = row[:row.index("</tr>")]
    assert "100%" in row and f"1 / {quiz.attempts}" in row
    assert "结业测评" in table and course.final_quiz.title in table
    with app.test_request_context():
        records.issue_certificate(db.session.get(User, trainee), live_course(), utcnow())
        db.session.commit()
        code = db.session.scalar(select(Certificate.code).where(Certificate.user_id == trainee))
    page = client.get("/progress").get_data(as_text=True)
    assert f"/certificates/{code}.pdf" in page and code in page


def test_trainer_analytics_median_minutes_are_credited_reading_time(app, make_user, published, clock):
    ids = [make_user(Role.TRAINEE)[0] for _ in range(2)]
    with app.test_request_context():
        live = live_course()
        lesson = live.course.lesson(LESSON)
        for user_id, beats in zip(ids, (10, 20)):  # 5 and 10 minutes read, however long the lesson stayed open
            user = db.session.get(User, user_id)
            records.open_lesson(user, live, lesson)
            records.time_lesson(user, live, lesson, "open")
            for _ in range(beats):
                clock.advance(30)
                records.time_lesson(user, live, lesson, "beat")
            records.time_lesson(user, live, lesson, "hide")
            clock.advance(3600)
            records.complete_lesson(user, live, lesson)
        row = next(r for r in lesson_funnel(live.course, Filter()) if r.lesson.id == LESSON)
    assert row.median_minutes == 7.5
