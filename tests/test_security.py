"""Web hygiene: forged requests, cookies, headers and inline script, password guessing."""
from __future__ import annotations

import re
import secrets
from base64 import b64encode

import pytest
from conftest import LESSONS, PASSWORD, make_app, pass_quiz

from courseware.cli import create_user
from courseware.content import read_sources
from courseware.models import Role
from courseware.publishing import publish

REDIS_URL = "redis://127.0.0.1:6379/14"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.I)


def _csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def learner_with_records(app, client, make_user, login, published):
    """A learner who passed a quiz, began a role-play and has a certificate-worthy record; their ids."""
    from courseware.extensions import db
    from courseware.models import QuizAttempt, ScenarioRun
    from courseware.publishing import live_course

    user_id, email = make_user(department="生产部")
    login(email)
    with app.test_request_context():
        course = live_course().course
    pass_quiz(client, course.quizzes[0])
    client.post(f"/scenarios/{course.scenarios[0].id}/start")
    client.post("/logout")
    with app.app_context():
        attempt = db.session.scalar(db.select(QuizAttempt).where(QuizAttempt.user_id == user_id))
        run = db.session.scalar(db.select(ScenarioRun).where(ScenarioRun.user_id == user_id))
        return {
            "user_id": str(user_id), "attempt_id": str(attempt.id), "run_id": str(run.id),
            "quiz_id": course.quizzes[0].id, "scenario_id": course.scenarios[0].id,
            "lesson_id": course.lessons[0].id, "module_id": course.modules[0].id,
            "path": "lessons/course.md", "fmt": "csv", "code": "zh", "revision_id": str(published),
        }


def _real_urls(app, values: dict[str, str]):
    """A URL for every GET route, filled with ids of real records so the real page renders."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or not rule.arguments <= values.keys():
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{argument}>", values[argument], url)
        yield rule.endpoint, url


def test_pages_carry_the_security_headers_and_no_inline_script(app, client, make_user, login, learner_with_records):
    login(make_user(Role.ADMIN)[1])
    opened = 0
    for endpoint, url in _real_urls(app, learner_with_records):
        response = client.get(url)
        assert response.status_code < 500, url
        if response.mimetype != "text/html":
            continue
        opened += 1
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "style-src 'self';" in policy and "unsafe" not in policy
        assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"
        html = response.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html), f"{url}: {INLINE_SCRIPT.search(html).group()!r} would need 'unsafe-inline'"
    assert opened > 30


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_every_state_changing_route_refuses_a_request_without_its_token(app, client, make_user, published):
    _, email = make_user(Role.ADMIN)
    token = _csrf_token(client)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    posts = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{argument}>", "1", url)
        response = client.post(url, data={"email": email, "password": PASSWORD, "name": "x", "step": "0"})
        assert response.status_code == 400, f"POST {url} without a token → {response.status_code}"
        assert "表单已过期" in response.get_data(as_text=True)
        posts += 1
    assert posts > 20
    assert client.get("/").status_code == 200, "still logged in: the refused logout did nothing"


def test_session_cookies_are_http_only_same_site_and_secure_when_configured(tmp_path, monkeypatch):
    email = "learner@example.com"
    for secure in (False, True):
        monkeypatch.setenv("SECURE_COOKIES", "true" if secure else "false")
        app = make_app(f"sqlite:///{tmp_path / f'{secure}.db'}", tmp_path / "instance")
        with app.app_context():
            publish(read_sources(LESSONS))
            create_user(email, "甲", {Role.TRAINEE}, "销售部", PASSWORD)
        response = app.test_client().post("/login", data={"email": email, "password": PASSWORD, "remember": "y"})
        cookies = response.headers.getlist("Set-Cookie")
        assert {c.split("=")[0] for c in cookies} >= {"session", "remember_token"}
        for cookie in cookies:
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
            assert ("Secure" in cookie) is secure, cookie
        assert ("Strict-Transport-Security" in response.headers) is secure


@pytest.fixture
def app_config(request) -> dict:
    """Login limits switched on and low, counted in memory or in Redis (the test's parameter)."""
    storage = getattr(request, "param", None)
    if storage is None:
        return {}
    config = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "5 per minute", "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute",
              "PROXY_COUNT": 1}
    if storage == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.ConnectionError:
            pytest.skip(f"Redis not reachable at {REDIS_URL}; the limits are tested with in-memory counters")
        config["RATELIMIT_STORAGE_URI"] = REDIS_URL
    return config


LIMIT_STORAGES = pytest.mark.parametrize("app_config", ["memory", "redis"], indirect=True)


def _fresh() -> tuple[str, str]:
    """An email suffix and an address prefix no earlier run has used (counters in Redis outlive a test)."""
    return secrets.token_hex(4), f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}"


@LIMIT_STORAGES
def test_failed_logins_are_limited_per_account_and_per_address(app, client, make_user):
    run, net = _fresh()
    _, victim = make_user(email=f"victim-{run}@example.com")
    _, colleague = make_user(email=f"colleague-{run}@example.com")

    def log_in(email: str, password: str, address: str) -> int:
        response = client.post("/login", data={"email": email, "password": password}, headers={"X-Forwarded-For": address})
        if response.status_code == 302:
            client.post("/logout")
        return response.status_code

    # Ten successful logins from one office address: only failures count.
    assert {log_in(colleague, PASSWORD, f"{net}.1") for _ in range(10)} == {302}
    # Guessing one account from many addresses: after 3 failures the account is locked, even with its password.
    assert [log_in(victim, "guess", f"{net}.{10 + n}") for n in range(3)] == [200, 200, 200]
    assert log_in(victim, PASSWORD, f"{net}.99") == 429
    assert log_in(colleague, PASSWORD, f"{net}.99") == 302, "other accounts are not affected"
    # Guessing many accounts from one address: after 5 failures the address is locked.
    assert [log_in(f"nobody{n}-{run}@example.com", "guess", f"{net}.2") for n in range(5)] == [200] * 5
    assert log_in(colleague, PASSWORD, f"{net}.2") == 429


@LIMIT_STORAGES
def test_failed_basic_logins_to_xapi_count_against_the_account(app, client, make_user):
    run, net = _fresh()
    _, hr = make_user(Role.HR, email=f"hr-{run}@example.com")

    def basic(password: str, address: str) -> int:
        token = b64encode(f"{hr}:{password}".encode()).decode()
        return client.get("/xapi/statements", headers={"Authorization": f"Basic {token}", "X-Forwarded-For": address}).status_code

    assert basic(PASSWORD, f"{net}.1") == 200
    assert [basic("guess", f"{net}.{n}") for n in range(2, 5)] == [401, 401, 401]
    assert basic(PASSWORD, f"{net}.9") == 429
