"""Web hygiene: forged requests, cookies, headers and inline script, password guessing."""
from __future__ import annotations

import re
import secrets
from base64 import b64encode

import pytest
from conftest import PASSWORD, get_urls, make_app
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from wtforms import StringField, TextAreaField

from courseware.access import ROUTES, Access
from courseware.cli import create_user
from courseware.extensions import db
from courseware.forms import FlaskForm
from courseware.models import Role, User
from courseware.publishing import publish

REDIS_URL = "redis://127.0.0.1:6379/14"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.I)


def _csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_pages_carry_the_security_headers_and_no_inline_script(app, client, make_user, login, learner_with_records):
    login(make_user(Role.ADMIN)[1])
    opened = 0
    for endpoint, url in get_urls(app, learner_with_records["values"]):
        response = client.get(url)
        response.close()  # a download nobody reads ends as when a browser stops it
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


def test_session_cookies_are_http_only_same_site_and_secure_when_configured(tmp_path, monkeypatch, course_sources):
    email = "learner@example.com"
    for secure in (False, True):
        monkeypatch.setenv("SECURE_COOKIES", "true" if secure else "false")
        app = make_app(f"sqlite:///{tmp_path / f'{secure}.db'}", tmp_path / "instance")
        with app.app_context():
            publish(course_sources)
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
        return client.get("/xapi/statements", headers={"Authorization": f"Basic {token}", "X-Forwarded-For": address, "X-Experience-API-Version": "1.0.3"}).status_code

    assert basic(PASSWORD, f"{net}.1") == 200
    assert [basic("guess", f"{net}.{n}") for n in range(2, 5)] == [401, 401, 401]
    assert basic(PASSWORD, f"{net}.9") == 429


def test_the_int_converter_matches_only_ids_a_bigint_holds(app):
    urls = app.url_map.bind("localhost")
    assert urls.match("/admin/users/9223372036854775807") == ("admin.edit_user", {"user_id": 2**63 - 1})
    for refused in ("9223372036854775808", str(2**64), "٣", "３", "-1"):
        with pytest.raises(NotFound):
            urls.match(f"/admin/users/{refused}")


@pytest.mark.parametrize("url", [f"/admin/users/{2**64}", "/hr/learners/18446744073709551616", "/admin/users/٣",
                                 f"/studio/revisions/{10**30}.zip", "/studio/revisions/compare?from=٣&to=1"])
def test_an_id_past_64_bits_or_in_foreign_digits_is_not_found(client, make_user, login, published, url):
    login(make_user(Role.ADMIN)[1])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("page", ["٣", "²", str(10**30), str(2**63), "-1"])
def test_a_page_number_that_is_not_a_page_shows_the_first_page(client, make_user, login, page):
    login(make_user(Role.ADMIN)[1])
    for url in ("/admin/audit", "/admin/users"):
        first = client.get(url).get_data(as_text=True)
        response = client.get(f"{url}?page={page}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("<tr") == first.count("<tr") > 1, url


@pytest.mark.parametrize("method, url, data", [
    ("GET", "/lessons/a%00b", None),
    ("GET", "/admin/users?q=a%00b", None),
    ("POST", "/admin/departments", {"name": "a\x00b"}),
])
def test_a_nul_byte_anywhere_gets_400_and_says_why(client, make_user, login, method, url, data):
    login(make_user(Role.ADMIN)[1])
    client.post("/language/en")
    response = client.open(url, method=method, data=data)
    assert response.status_code == 400
    assert "The request contains a NUL character" in response.get_data(as_text=True)


def test_a_value_the_database_refuses_gets_400_and_says_why(app, client, monkeypatch):
    monkeypatch.setitem(ROUTES, "unchecked", Access.PUBLIC)

    @app.get("/unchecked")
    def unchecked():  # a view that forgot to bound its input
        return str(db.session.get(User, 2**63))

    client.post("/language/en")
    response = client.get("/unchecked")
    assert response.status_code == 400
    assert "cannot be stored" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0  # the session still works


@pytest.mark.parametrize("name", ["\x01", "\x1b[31mred", "tab\there", "next\x85line", "del\x7f"])
def test_a_sign_up_name_with_a_control_character_is_refused_on_the_form(app, client, department, name):
    client.post("/language/en")
    response = client.post("/signup", data={
        "name": name, "email": "ctrl@example.com", "department": department,
        "password": "Blue-Kettle-47-Orbit", "confirm": "Blue-Kettle-47-Orbit",
    })
    assert response.status_code == 200
    assert "This field contains a control character; remove it." in response.get_data(as_text=True)
    with app.app_context():
        assert User.by_email("ctrl@example.com") is None
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_only_a_text_area_keeps_line_breaks_and_tabs(app):
    class NoteForm(FlaskForm):
        title = StringField()
        body = TextAreaField()

    with app.test_request_context():
        assert NoteForm(MultiDict({"title": "Plan", "body": "one\r\n\ttwo"})).validate()
        refused = NoteForm(MultiDict({"title": "Plan\n", "body": "one\x0ctwo"}))
        assert not refused.validate() and set(refused.errors) == {"title", "body"}


@pytest.mark.parametrize("url", [
    "/hr/learners?from=0001-01-01", "/hr/learners?to=9999-12-31",
    "/studio/analytics?from=0001-01-01", "/studio/analytics?to=9999-12-31",
])
def test_a_date_at_the_calendars_edge_gets_a_message_on_the_filter(client, make_user, login, published, url):
    login(make_user(Role.ADMIN)[1])
    client.post("/language/en")
    response = client.get(url)
    assert response.status_code == 200
    assert "Choose a date between 1900-01-01 and 9998-12-31." in response.get_data(as_text=True)


@LIMIT_STORAGES
def test_one_guessing_budget_per_account_whatever_the_door(app, client, make_user):
    """Once the login page refuses an account, HTTP Basic on the xAPI refuses it too, and the other way round."""
    run, net = _fresh()
    _, hr = make_user(Role.HR, email=f"hr-door-{run}@example.com")
    _, other = make_user(Role.HR, email=f"hr-other-{run}@example.com")

    def basic(email: str, password: str, address: str) -> int:
        token = b64encode(f"{email}:{password}".encode()).decode()
        return client.get("/xapi/statements", headers={"Authorization": f"Basic {token}", "X-Forwarded-For": address, "X-Experience-API-Version": "1.0.3"}).status_code

    def log_in(email: str, password: str, address: str) -> int:
        return client.post("/login", data={"email": email, "password": password}, headers={"X-Forwarded-For": address}).status_code

    assert [log_in(hr, "guess", f"{net}.{n}") for n in range(3)] == [200, 200, 200]
    assert basic(hr, PASSWORD, f"{net}.20") == 429, "the login page's failures count at the xAPI door"
    assert [basic(other, "guess", f"{net}.{30 + n}") for n in range(3)] == [401, 401, 401]
    assert log_in(other, PASSWORD, f"{net}.40") == 429, "the xAPI door's failures count at the login page"
