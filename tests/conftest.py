"""Shared fixtures: an app on each database backend, clients, users and the published course."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from courseware import create_app
from courseware.cli import create_user
from courseware.content import read_sources
from courseware.extensions import db
from courseware.models import HRScope, LearningRecord, OutboxMessage, Role, User
from courseware.people.departments import find_or_create
from courseware.publishing import course_at, publish
from courseware.statements import expand, statement

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"  # the shipped course, which trainers edit: only tests about it read it
TEST_COURSE = Path(__file__).resolve().parent / "fixtures" / "course" / "lessons"  # a small, stable course
PASSWORD = "correct horse battery"
TEST_SCHEMA = f"courseware_test_{os.getpid()}"  # two test runs at once never share tables
DEFAULT_PG_URL = "postgresql+psycopg://127.0.0.1:5432/test"


def _postgres_url() -> tuple[str | None, str]:
    """Return a URL for an isolated schema on the test PostgreSQL server, or why there is none."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    try:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {TEST_SCHEMA}"))
        engine.dispose()
    except OperationalError as error:
        reason = str(error).splitlines()[0]
        return None, f"PostgreSQL not reachable at {url} ({reason}); set TEST_DATABASE_URL to run these"
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{TEST_SCHEMA}", ""


@pytest.fixture(scope="session")
def postgres_url():
    url, reason = _postgres_url()
    if url is None:
        pytest.skip(reason)
    yield url
    engine = create_engine(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


def make_app(database_url: str, instance_path: Path, **overrides):
    config = {
        "INSTANCE_PATH": str(instance_path),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "COURSE_DIR": str(TEST_COURSE),
        "CONTENT_CHECK_SECONDS": 0,
        "REPORT_CACHE_SECONDS": 0,
        # Lessons need no reading time unless they set `min_minutes` or a test sets a share: tests
        # that are not about the minimum complete lessons at once (see test_learning_time.py).
        "LESSON_MIN_SHARE": 0,
    }
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    app = make_app(database_url, tmp_path / "instance", **app_config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def course_sources() -> dict[str, bytes]:
    """The test course (tests/fixtures/course): the ids and texts tests name stay put whatever trainers do."""
    return read_sources(TEST_COURSE)


@pytest.fixture(scope="session")
def shipped_course_sources() -> dict[str, bytes]:
    """The shipped curriculum in lessons/ and quizzes/, for tests about it alone: trainers edit it."""
    return read_sources(LESSONS)


@pytest.fixture
def published(app, course_sources):
    """Publish the test course; return the live revision id."""
    with app.app_context():
        return publish(course_sources).revision.id


@pytest.fixture
def make_user(app):
    """Create a user with the given roles (default: trainee); return its id and email."""
    counter = iter(range(1, 10_000))

    def factory(*roles: Role, department: str = "销售部", email: str | None = None):
        n = next(counter)
        email = email or f"user{n}@example.com"
        with app.app_context():
            user = create_user(email, f"用户{n}", set(roles) or {Role.TRAINEE}, department, PASSWORD)
            return user.id, email

    return factory


@pytest.fixture
def login(client):
    def do_login(email: str, password: str = PASSWORD, **extra):
        return client.post("/login", data={"email": email, "password": password, **extra})

    return do_login


@pytest.fixture
def trainee(make_user, login):
    """A logged-in trainee; returns the user id."""
    user_id, email = make_user(Role.TRAINEE)
    login(email)
    return user_id


@pytest.fixture
def department(app):
    with app.app_context():
        department = find_or_create("生产部")
        db.session.commit()
        return department.id


class Inbox:
    """What the local SMTP server received. While `refusing` is true it turns every message away
    (a mail server that is down for a while); addresses in `refused` are always turned away for now
    (451), those in `unknown` for good (550: no such mailbox)."""

    def __init__(self):
        self.messages = []
        self.refusing = False
        self.refused: set[str] = set()
        self.unknown: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.unknown:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes, policy

        if self.refusing or self.refused & set(envelope.rcpt_tos):
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    """A local SMTP server on a free port; its port and its Inbox."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def at_once(app, action, times: int) -> list[Exception]:
    """Run `action()` in `times` threads at once, each in its own request context; return what failed."""
    import threading

    errors: list[Exception] = []

    def run():
        try:
            with app.test_request_context():
                action()
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def mailed_link(app, email: str) -> str:
    """The path of the sign-up link queued in the outbox for `email`, as the worker would mail it."""
    import re

    from courseware.models import OutboxMessage

    with app.app_context():
        mails = db.session.scalars(db.select(OutboxMessage.payload)).all()
    return next(re.search(r"/signup/confirm/[\w-]+", m["body"]).group() for m in mails if m["to"] == email)


def answer_form(question, answer) -> dict[str, list[str]]:
    """Return the form fields a learner fills in to give `answer` to `question`."""
    kind = question.kind
    if kind in ("single", "short_answer", "numerical"):
        return {question.field(): [answer]}
    if kind == "multiple":
        return {question.field(): list(answer)}
    if kind == "true_false":
        return {question.field(): ["true" if answer else "false"]}
    if kind == "ordering":
        return {question.field(item_id): [str(position)] for position, item_id in enumerate(answer, 1)}
    if kind == "matching":
        return {question.field(left_id): [right_id] for left_id, right_id in answer.items()}
    raise AssertionError(f"no form for {kind}")


def statements_of(app, user_id: int, verb: str | None = None) -> list[dict]:
    """The learner's xAPI statements as the exports and the LRS get them, oldest first (only `verb`'s, when given)."""
    with app.test_request_context():
        rows = db.session.execute(select(LearningRecord, User).join(User).where(LearningRecord.user_id == user_id)
                                  .order_by(LearningRecord.id)).all()
        built = [statement(entry, person, course_at(entry.revision_id).id) for entry, person, _position in expand(rows)]
    return [one for one in built if verb is None or one["verb"]["id"].endswith("/" + verb)]


def correct_form(quiz) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for question in quiz.questions:
        form.update(answer_form(question, question.correct_answer()))
    return form


def pass_quiz(client, quiz):
    """Start an attempt and submit the right answers; return the result page response."""
    started = client.post(f"/quizzes/{quiz.id}/start")
    attempt_url = started.location
    return client.post(f"{attempt_url}/submit", data=correct_form(quiz), follow_redirects=True)


def play_model_path(client, scenario):
    """Play a scenario along its model path to its ending; return the debrief response."""
    from courseware.learning.roleplay import model_path

    run_url = client.post(f"/scenarios/{scenario.id}/start").location
    for step, taken in enumerate(model_path(scenario).steps):
        client.post(f"{run_url}/choose", data={"step": step, "choice": taken.choice.id})
    return client.get(run_url)


WITNESS_NAME = "证人甲"


@pytest.fixture
def learner_with_records(app, client, make_user, login, published):
    """A learner who passed a quiz, began a role-play and holds a certificate; their id, email and
    the values to fill every route's arguments with, so the real pages render."""
    from datetime import timedelta

    from courseware.models import Certificate, QuizAttempt, ScenarioRun, User, utcnow
    from courseware.publishing import live_course

    user_id, email = make_user(department="生产部", email="witness@example.com")
    with app.app_context():
        db.session.get(User, user_id).name = WITNESS_NAME
        db.session.commit()
    login(email)
    with app.test_request_context():
        course = live_course().course
    pass_quiz(client, course.quizzes[0])
    client.post(f"/scenarios/{course.scenarios[0].id}/start")
    client.post("/logout")
    with app.app_context():
        attempt = db.session.scalar(db.select(QuizAttempt).where(QuizAttempt.user_id == user_id))
        run = db.session.scalar(db.select(ScenarioRun).where(ScenarioRun.user_id == user_id))
        certificate = Certificate(
            code="WTNS-AAAA-BBBB", user_id=user_id, course_id=course.id, course_title=course.title, cycle=1,
            revision_id=published, score=1.0, issued_at=utcnow(), expires_at=utcnow() + timedelta(days=20),
        )
        db.session.add(certificate)
        values = {
            "user_id": str(user_id), "attempt_id": str(attempt.id), "run_id": str(run.id),
            "quiz_id": course.quizzes[0].id, "scenario_id": course.scenarios[0].id,
            "lesson_id": course.lessons[0].id, "module_id": course.modules[0].id,
            "fmt": "csv", "code": certificate.code, "path": "lessons/course.md", "revision_id": str(published),
        }
        db.session.commit()
    return {"id": user_id, "email": email, "values": values}


def get_urls(app, values: dict[str, str]):
    """(endpoint, URL) for every GET route whose arguments `values` can fill."""
    import re

    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static" and rule.arguments <= values.keys():
            url = rule.rule
            for argument in rule.arguments:
                url = re.sub(rf"<(?:[a-z]+:)?{argument}>", values[argument], url)
            yield rule.endpoint, url


@pytest.fixture
def people(make_user):
    """Two people in 销售部 (one in a sub-department), one in 生产部; and an HR user limited to 销售部."""
    return {
        "east": make_user(Role.TRAINEE, department="销售部/华东区"),
        "sales": make_user(Role.TRAINEE, department="销售部"),
        "plant": make_user(Role.TRAINEE, department="生产部"),
        "hr": make_user(Role.HR, department="销售部"),
    }


@pytest.fixture
def sales_hr(app, people, login, published) -> int:
    """The HR user of `people`, limited to 销售部 and logged in; 销售部's id."""
    hr_id, hr_email = people["hr"]
    with app.app_context():
        sales = find_or_create("销售部").id
        db.session.add(HRScope(user_id=hr_id, department_id=sales))
        db.session.commit()
    login(hr_email)
    return sales


def mails_to(app, email: str) -> list[str]:
    """The bodies of the mail queued in the outbox for `email`, oldest first."""
    with app.app_context():
        return [m["body"] for m in db.session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id)) if m["to"] == email]


def in_english(client):
    """Switch this browser to the English interface (for tests that read the compiler's messages)."""
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client
