"""Fifty learners clicking twice at once, and a server killed under load, against the app as deployed.

gunicorn runs the real app with four workers and CSRF on, one server per database backend. Every
learner is a signed session cookie with its CSRF token, sent over plain HTTP from threads.
"""
from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from conftest import ROOT, correct_form, make_app
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, text
from werkzeug.security import generate_password_hash

from courseware.cli import create_user
from courseware.extensions import db
from courseware.learning import grading, records
from courseware.learning.roleplay import model_path
from courseware.models import LearningRecord, Progress, QuizAttempt, Role, ScenarioRun, ScenarioStep, User
from courseware.people.departments import find_or_create
from courseware.publishing import live_course, publish
from courseware.statements import expand

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SECRET_KEY = "concurrency test secret"
LEARNERS = 50
LESSON_ID = "ic-definition"
QUIZ_ID = "quiz-what-is-internal-customer"
MODULE_ID = "management-and-hr"
REPLAYED_ID = "scenario-urgent-task"
ACKNOWLEDGED_BEFORE_KILL = 100


@dataclass
class Learner:
    user_id: int
    cookie: str
    csrf_token: str


@dataclass
class Reply:
    path: str
    status: int
    location: str | None


class Server:
    """gunicorn serving app.py on `database_url` in its own process group, as in production."""

    def __init__(self, database_url: str, instance_path: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "INSTANCE_PATH": str(instance_path),
            "RATELIMIT_ENABLED": "false",
            "LESSON_MIN_SHARE": "0",  # as in conftest: these learners click at once, they do not read
        }
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [GUNICORN, "-w", "4", "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "app:app"],
            cwd=ROOT, env=self.env, start_new_session=True,
        )
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=30) as response:
                    if response.status == 200:
                        return
            except (URLError, ConnectionError):
                pass
            try:
                self.process.wait(timeout=0.05)  # poll again in 50 ms, unless gunicorn has died
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
        raise RuntimeError("gunicorn did not answer /healthz within two minutes")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)  # gunicorn's quick shutdown
            self.process.wait(timeout=30)

    def post(self, learner: Learner, path: str, fields: dict | None = None) -> Reply:
        body = urlencode({"csrf_token": learner.csrf_token, **(fields or {})}, doseq=True)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", path, body=body, headers={
                "Cookie": learner.cookie, "Content-Type": "application/x-www-form-urlencoded",
            })
            response = connection.getresponse()
            response.read()
            return Reply(path, response.status, response.getheader("Location"))
        finally:
            connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sign_in(app, user_id: int) -> Learner:
    """A session cookie and CSRF token for `user_id`, signed as the app signs its own."""
    from courseware.people.sessions import open_session

    raw_token = secrets.token_hex(20)
    with app.app_context():
        login_token = open_session(user_id)
        db.session.commit()
    session = {"_user_id": login_token, "_fresh": True, "csrf_token": raw_token}
    cookie = app.session_interface.get_signing_serializer(app).dumps(session)
    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw_token)
    return Learner(user_id, f"{app.config['SESSION_COOKIE_NAME']}={cookie}", token)


@dataclass
class Site:
    app: Flask
    server: Server
    database_url: str
    clicking_twice: list[Learner]
    mid_course: list[Learner]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory, course_sources):
    """The published course and two cohorts of fifty trainees, served by gunicorn; one server per backend."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        database_url = f"sqlite:///{folder / 'courseware.db'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
    app = make_app(database_url, folder / "instance", SECRET_KEY=SECRET_KEY)
    with app.app_context():
        publish(course_sources)
        department = find_or_create("客服部")
        password_hash = generate_password_hash("not used: sessions are signed", method="scrypt")
        users = []
        for n in range(2 * LEARNERS):
            user = User(email=f"learner{n}@example.com", name=f"学员{n}", department=department,
                        password_hash=password_hash)
            user.roles = {Role.TRAINEE}
            users.append(user)
        db.session.add_all(users)
        db.session.commit()
        learners = [_sign_in(app, user.id) for user in users]
    server = Server(database_url, folder / "instance")
    server.start()
    yield Site(app, server, database_url, learners[:LEARNERS], learners[LEARNERS:])
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _in_threads(work, arguments: list[tuple]) -> list[BaseException]:
    """Run `work(*args)` for each tuple in its own thread; return what they raised."""
    errors: list[BaseException] = []

    def run(*args):
        try:
            work(*args)
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


# --- double submits ------------------------------------------------------------------------


def _course(app):
    with app.test_request_context():
        return live_course().course


def _midway(app, learners: list[Learner]) -> dict[tuple[int, str], str]:
    """Leave every learner two things short of finishing MODULE_ID and one choice into REPLAYED_ID.

    Returns the ids of the runs and attempt this opened, by (user id, activity id).
    """
    opened = {}
    with app.test_request_context():
        live = live_course()
        module = live.course.module(MODULE_ID)
        scenario, replayed = live.course.scenario(module.scenario_ids[0]), live.course.scenario(REPLAYED_ID)
        module_quiz = live.course.quiz(module.quiz_id)
        plays = ((scenario, model_path(scenario).steps[:-1]), (replayed, model_path(replayed).steps[:1]))
        for learner in learners:
            user = db.session.get(User, learner.user_id)
            for lesson in module.lessons[:-1]:
                records.complete_lesson(user, live, lesson)
            for played, choices in plays:
                run = records.start_run(user, live, played)
                opened[learner.user_id, played.id] = run.id
                for step, taken in enumerate(choices):
                    records.choose(user, live, run, played, step, taken.choice.id)
            opened[learner.user_id, module_quiz.id] = records.start_attempt(user, live, module_quiz).id
    return opened


def _records_of(course, *activity_ids: str) -> list[tuple[str, str]]:
    """(verb, object id) of each statement a learner leaves by finishing `activity_ids` along the model path."""
    found = []
    for activity_id in activity_ids:
        if lesson := course.lesson(activity_id):
            found += [("experienced", lesson.id), ("completed", lesson.id)]
        elif quiz := course.quiz(activity_id):
            found += [("attempted", quiz.id), ("passed", quiz.id), ("completed", quiz.id)]
            found += [("answered", f"{quiz.id}/{question.id}") for question in quiz.questions]
        elif scenario := course.scenario(activity_id):
            found += [("attempted", scenario.id), ("completed", scenario.id)]
            found += [("responded", f"{scenario.id}/{taken.node.id}") for taken in model_path(scenario).steps]
        else:
            found += [("completed", course.module(activity_id).id)]
    return found


def test_fifty_learners_clicking_everything_twice_at_once_record_each_thing_once(site):
    """Two tabs per learner send each click together; the duplicate must get the same reply and write nothing."""
    app, server, learners = site.app, site.server, site.clicking_twice
    course = _course(app)
    module = course.module(MODULE_ID)
    quiz, module_quiz = course.quiz(QUIZ_ID), course.quiz(module.quiz_id)
    scenario, replayed = course.scenario(module.scenario_ids[0]), course.scenario(REPLAYED_ID)
    last_choice, last_lesson = len(model_path(scenario).steps) - 1, module.lessons[-1]
    opened = _midway(app, learners)

    def tab(learner: Learner, twin: int, together: threading.Barrier, replies: list[Reply]) -> None:
        """Click along with the other tab; last, pass the module's quiz while the other tab finishes its last lesson."""
        def click(url: str, fields: dict | None = None) -> Reply:
            together.wait()
            reply = server.post(learner, url, fields)
            replies.append(reply)
            return reply

        run = f"/scenarios/{scenario.id}/runs/{opened[learner.user_id, scenario.id]}"
        module_attempt = f"/quizzes/{module_quiz.id}/attempts/{opened[learner.user_id, module_quiz.id]}"
        try:
            click(f"/lessons/{LESSON_ID}/complete")
            attempt = click(f"/quizzes/{QUIZ_ID}/start").location
            click(f"{attempt}/save", correct_form(quiz))
            click(f"{attempt}/submit", correct_form(quiz))
            click(f"{run}/choose", {"step": last_choice, "choice": model_path(scenario).steps[-1].choice.id})
            click(f"/scenarios/{REPLAYED_ID}/start", {"replay": "1"})
            if twin == 0:
                click(f"{module_attempt}/submit", correct_form(module_quiz))
            else:
                click(f"/lessons/{last_lesson.id}/complete")
        except BaseException:
            together.abort()
            raise

    tabs = {learner.user_id: ([], []) for learner in learners}
    pairs = {learner.user_id: threading.Barrier(2, timeout=60) for learner in learners}
    work = [(learner, twin, pairs[learner.user_id], tabs[learner.user_id][twin])
            for learner in learners for twin in (0, 1)]
    assert _in_threads(tab, work) == []

    for user_id, (first, second) in tabs.items():
        assert first[:-1] == second[:-1]  # the duplicate gets the very same answer, not an error
        attempt, again = first[1].location, first[5].location
        run = f"/scenarios/{scenario.id}/runs/{opened[user_id, scenario.id]}"
        assert [(r.status, r.location) for r in first[:-1]] == [
            (302, f"/lessons/{LESSON_ID}"),
            (302, attempt),
            (302, attempt),
            (302, f"{attempt}/result"),
            (302, f"{run}#current"),
            (302, again),
        ]
        assert attempt.startswith(f"/quizzes/{QUIZ_ID}/attempts/")
        assert again.startswith(f"/scenarios/{REPLAYED_ID}/runs/") and opened[user_id, REPLAYED_ID] not in again
        module_attempt = f"/quizzes/{module_quiz.id}/attempts/{opened[user_id, module_quiz.id]}"
        assert (first[-1].status, first[-1].location) == (302, f"{module_attempt}/result")
        assert (second[-1].status, second[-1].location) == (302, f"/lessons/{last_lesson.id}")

    once_each = Counter([
        *_records_of(course, LESSON_ID, QUIZ_ID, *[lesson.id for lesson in module.lessons], module_quiz.id,
                     scenario.id, MODULE_ID),
        ("attempted", REPLAYED_ID), ("attempted", REPLAYED_ID),
        ("responded", f"{REPLAYED_ID}/{model_path(replayed).steps[0].node.id}"),
    ])
    done = [LESSON_ID, QUIZ_ID, scenario.id, *[lesson.id for lesson in module.lessons], module_quiz.id, MODULE_ID]
    states = {course.id: "in_progress", course.lesson(LESSON_ID).module_id: "in_progress", REPLAYED_ID: "in_progress",
              **dict.fromkeys(done, "completed")}
    with app.app_context():
        records_of = _statements_by_learner()
        progress = _group(select(Progress.user_id, Progress.activity_id, Progress.status))
        attempts = _group(select(QuizAttempt.user_id, QuizAttempt.quiz_id, QuizAttempt.status, QuizAttempt.score))
        runs = _group(
            select(ScenarioRun.user_id, ScenarioRun.scenario_id, ScenarioRun.status, func.count(ScenarioStep.id))
            .join(ScenarioStep, ScenarioStep.run_id == ScenarioRun.id, isouter=True).group_by(ScenarioRun.id)
        )
        quiz_progress = set(db.session.execute(
            select(Progress.status, Progress.attempts, Progress.score)
            .where(Progress.kind == "quiz", Progress.user_id.in_([learner.user_id for learner in learners]))
        ))
    for learner in learners:
        assert records_of[learner.user_id] == once_each
        assert progress[learner.user_id] == Counter(states.items())
        assert attempts[learner.user_id] == Counter([(QUIZ_ID, "submitted", 1.0), (module_quiz.id, "submitted", 1.0)])
        assert runs[learner.user_id] == Counter([
            (scenario.id, "finished", last_choice + 1), (REPLAYED_ID, "abandoned", 1), (REPLAYED_ID, "in_progress", 0),
        ])
    assert quiz_progress == {("completed", 1, 1.0)}


def _statements_by_learner() -> dict[int, Counter]:
    """Count each learner's statements (verb, object id): their records and the answers their quiz results stand for."""
    grouped: dict[int, Counter] = {}
    for entry, user_id, _position in expand(db.session.execute(select(LearningRecord, LearningRecord.user_id))):
        grouped.setdefault(user_id, Counter())[entry.verb, entry.object_id] += 1
    return grouped


def _group(statement) -> dict[int, Counter]:
    """Count the rows of `statement` (user id first) per user."""
    grouped: dict[int, Counter] = {}
    for user_id, *rest in db.session.execute(statement):
        grouped.setdefault(user_id, Counter())[tuple(rest)] += 1
    return grouped


# --- a crash under load --------------------------------------------------------------------


@dataclass
class Journey:
    """What one learner sent and which of it the server acknowledged (a 2xx or 3xx reply)."""

    learner: Learner
    lessons: list[str] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    unanswered: tuple[str, dict] | None = None


def test_a_server_killed_mid_load_keeps_every_acknowledged_record(site):
    """SIGKILL gunicorn while fifty learners work; after a restart every acknowledged write is there, whole.

    SQLite runs WAL with synchronous=NORMAL: a commit is in the WAL file (the kernel's page cache)
    before the reply goes out, so a killed process loses nothing acknowledged; only a power cut
    could lose the last commits.
    """
    app, server, learners = site.app, site.server, site.mid_course
    course = _course(app)
    forms = {quiz.id: correct_form(quiz) for quiz in course.quizzes}
    acknowledged, lock, enough = [0], threading.Lock(), threading.Event()

    def acknowledge() -> None:
        with lock:
            acknowledged[0] += 1
            if acknowledged[0] == ACKNOWLEDGED_BEFORE_KILL:
                enough.set()

    def study(journey: Journey, quiz_first: bool) -> None:
        """Work through the course, module by module, until the server goes away."""
        def send(url: str, fields: dict | None = None) -> Reply:
            journey.unanswered = (url, fields)
            reply = server.post(journey.learner, url, fields)
            assert reply.status in (200, 302), reply
            journey.unanswered = None
            acknowledge()
            return reply

        def take_quiz(module) -> None:
            if module.quiz_id:
                attempt = send(f"/quizzes/{module.quiz_id}/start").location
                send(f"{attempt}/submit", forms[module.quiz_id])
                journey.attempts.append(attempt.rsplit("/", 1)[1])

        def read_lessons(module) -> None:
            for lesson in module.lessons:
                send(f"/lessons/{lesson.id}/complete")
                journey.lessons.append(lesson.id)

        try:
            for module in course.modules:
                for part in (take_quiz, read_lessons) if quiz_first else (read_lessons, take_quiz):
                    part(module)
        except (ConnectionError, http.client.HTTPException):
            return  # the server died under this learner

    journeys = [Journey(learner) for learner in learners]
    errors: list[BaseException] = []
    work = [(journey, n % 2 == 0) for n, journey in enumerate(journeys)]
    load = threading.Thread(target=lambda: errors.extend(_in_threads(study, work)))
    load.start()
    reached = enough.wait(timeout=120)
    server.kill()
    load.join()
    assert reached and errors == []
    assert any(j.lessons for j in journeys) and any(j.attempts for j in journeys)

    server.start()
    retried = [(j.learner, *j.unanswered) for j in journeys if j.unanswered]
    replies = []
    assert _in_threads(lambda learner, url, fields: replies.append(server.post(learner, url, fields)), retried) == []
    assert {r.status for r in replies} <= {302}  # a retry of what the crash interrupted just works

    with app.app_context():
        completed = set(db.session.execute(
            select(LearningRecord.user_id, LearningRecord.object_id)
            .where(LearningRecord.verb == "completed", LearningRecord.object_kind == "lesson")
        ))
        completed_progress = set(db.session.execute(
            select(Progress.user_id, Progress.activity_id)
            .where(Progress.kind == "lesson", Progress.status == "completed")
        ))
        graded = dict(db.session.execute(
            select(QuizAttempt.id, func.count(LearningRecord.id))
            .join(LearningRecord, (LearningRecord.attempt_id == QuizAttempt.id)
                  & LearningRecord.verb.in_(["passed", "failed"]), isouter=True)
            .where(QuizAttempt.status == "submitted").group_by(QuizAttempt.id)
        ).all())
        results_without_submit = db.session.scalar(
            select(func.count()).select_from(LearningRecord)
            .join(QuizAttempt, QuizAttempt.id == LearningRecord.attempt_id)
            .where(LearningRecord.verb.in_(["passed", "failed"]), QuizAttempt.status != "submitted")
        )
        duplicates = db.session.scalar(select(func.count()).select_from(
            select(LearningRecord.user_id, LearningRecord.verb, LearningRecord.object_id)
            .where(LearningRecord.verb == "completed")
            .group_by(LearningRecord.user_id, LearningRecord.verb, LearningRecord.object_id)
            .having(func.count() > 1).subquery()
        ))
        if site.database_url.startswith("sqlite"):
            assert db.session.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []

    for journey in journeys:
        user_id = journey.learner.user_id
        assert {(user_id, lesson_id) for lesson_id in journey.lessons} <= completed
        assert all(graded.get(attempt_id) == 1 for attempt_id in journey.attempts)
    assert completed == completed_progress  # a record and its progress row are written together
    assert set(graded.values()) <= {1} and results_without_submit == 0 and duplicates == 0


# --- an autosave racing the submit ---------------------------------------------------------


def test_an_autosave_landing_after_the_submit_leaves_the_graded_answers_alone(site):
    """The quiz page autosaves as the learner answers; one still under way when they submit arrives late."""
    app = site.app
    with app.test_request_context():
        live = live_course()
        quiz = live.course.quiz(QUIZ_ID)
        user = create_user("autosave@example.com", "自动保存", {Role.TRAINEE}, "客服部", "unused password")
        attempt = records.start_attempt(user, live, quiz)  # the autosave request has loaded the open attempt
        with app.app_context():  # meanwhile another worker grades the submit
            submitted = db.session.get(QuizAttempt, attempt.id)
            records.submit_attempt(db.session.get(User, user.id), live_course(), submitted, quiz,
                                   {q.id: q.correct_answer() for q in quiz.questions})
        earlier_answers = {q.id: not q.correct_answer() for q in quiz.questions if q.kind == "true_false"}
        assert records.save_answers(attempt, earlier_answers) is False
        attempt_id = attempt.id
    with app.app_context():
        graded = db.session.get(QuizAttempt, attempt_id)
        assert graded.answer_map() == {q.id: q.correct_answer() for q in quiz.questions}
        assert grading.grade(quiz, graded.answer_map()).scaled == graded.score == 1.0
