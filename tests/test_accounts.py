"""Accounts, roles, CSRF, language and health: what a user and an operator notice."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from conftest import PASSWORD, mailed_link, make_app
from sqlalchemy import func, select

from courseware.extensions import db
from courseware.models import Role, User


def test_sign_up_log_out_and_log_in_again(app, client, department):
    form = {
        "name": "李雷", "email": "Li.Lei@Example.com", "department": department,
        "password": "quiet-river-lamp", "confirm": "quiet-river-lamp",
    }
    assert "li.lei@example.com" in client.post("/signup", data=form).get_data(as_text=True)
    response = client.post(mailed_link(app, "li.lei@example.com"), follow_redirects=True)
    assert "李雷" in response.get_data(as_text=True)
    client.post("/logout")
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"email": "li.lei@example.com", "password": "quiet-river-lamp"})
    assert response.status_code == 302 and response.location == "/"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "not-an-email"}, "Invalid email address"),
        ({"confirm": "different"}, "The passwords do not match"),
        ({"password": "short", "confirm": "short"}, "Use at least 8 characters"),
        ({"department": "999"}, "Not a valid choice"),
        ({"department": "abc"}, "This field is required"),
    ],
)
def test_wrong_sign_up_values_get_a_message_on_the_form(client, department, change, message):
    form = {"name": "韩梅梅", "email": "han@example.com", "department": department,
            "password": "quiet-river-lamp", "confirm": "quiet-river-lamp", **change}
    client.post("/language/en")
    response = client.post("/signup", data=form)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_signing_up_with_a_taken_email_changes_nothing_and_says_nothing(app, client, department, make_user):
    make_user(email="taken@example.com")
    client.post("/language/en")
    form = {"name": "x", "email": "TAKEN@example.com", "department": department,
            "password": "quiet-river-lamp", "confirm": "quiet-river-lamp"}
    page = client.post("/signup", data=form).get_data(as_text=True)
    assert "Check your inbox" in page and "already" not in page
    assert client.post("/login", data={"email": "taken@example.com", "password": "quiet-river-lamp"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("app_config", [{"SIGNUP_ENABLED": False}])
def test_sign_up_can_be_switched_off(client):
    assert client.get("/signup").status_code == 404


def test_unknown_email_and_wrong_password_get_the_same_message(client, make_user):
    _, email = make_user()
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "amber kettle road"})
    wrong = client.post("/login", data={"email": email, "password": "amber kettle road"})
    error = re.compile(r'<ul class="errors".*?</ul>', re.S)
    assert error.search(unknown.get_data(as_text=True)).group() == error.search(wrong.get_data(as_text=True)).group()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil.example/", "/%5Cevil.example/", "/%09/evil.example/"]
)
def test_login_never_redirects_off_site(client, make_user, target):
    _, email = make_user()
    response = client.post(f"/login?next={target}", data={"email": email, "password": PASSWORD})
    assert response.location == "/"
    response = client.post("/language/en", data={"next": unquote(target)})
    assert response.location == "/"


def test_login_returns_to_the_page_asked_for(client, make_user):
    _, email = make_user()
    response = client.post("/login?next=/progress", data={"email": email, "password": PASSWORD})
    assert response.location == "/progress"


def test_remember_me_sets_a_lasting_cookie(client, make_user):
    _, email = make_user()
    response = client.post("/login", data={"email": email, "password": PASSWORD, "remember": "y"})
    assert any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_change_password(client, make_user, login):
    _, email = make_user()
    login(email)
    client.post("/language/en")
    wrong = client.post("/account/password", data={"current": "nope-nope", "password": "brand-new-1", "confirm": "brand-new-1"})
    assert "not your current password" in wrong.get_data(as_text=True)
    client.post("/account/password", data={"current": PASSWORD, "password": "brand-new-1", "confirm": "brand-new-1"})
    client.post("/logout")
    assert login(email).status_code == 200  # old password refused: form shown again
    assert login(email, "brand-new-1").status_code == 302


@pytest.mark.parametrize(
    ("roles", "status"),
    [((Role.TRAINEE,), 403), ((Role.TRAINER,), 403), ((Role.HR,), 403), ((Role.ADMIN,), 200),
     ((Role.TRAINEE, Role.ADMIN), 200)],
)
def test_only_admins_see_the_user_list(client, make_user, login, roles, status):
    _, email = make_user(*roles)
    login(email)
    assert client.get("/admin/users").status_code == status


def test_anonymous_users_are_sent_to_log_in(client):
    for path in ("/", "/progress", "/admin/users", "/account/password", "/lessons/ic-definition"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/login"), path


def test_deactivated_user_cannot_log_in(client, make_user, app):
    user_id, email = make_user()
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_forms_without_csrf_token_are_refused(client, make_user, published):
    _, email = make_user()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/lessons/ic-definition/complete").status_code == 400
    assert client.post("/logout").status_code == 400


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}])
def test_login_is_rate_limited(client):
    for _ in range(3):
        assert client.post("/login", data={"email": "a@example.com", "password": "x"}).status_code == 200
    assert client.post("/login", data={"email": "a@example.com", "password": "x"}).status_code == 429


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute", "PROXY_COUNT": 1}])
def test_behind_a_proxy_each_learner_has_their_own_login_limit(client):
    def attempt(address: str) -> int:
        return client.post("/login", data={"email": "a@example.com", "password": "x"}, headers={"X-Forwarded-For": address}).status_code

    assert [attempt("10.0.0.1") for _ in range(3)] == [200, 200, 429]
    assert attempt("10.0.0.2") == 200, "a colleague behind the same proxy is not locked out"


def test_interface_is_chinese_by_default_with_an_english_switch(client, trainee, published):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "开始学习" in page
    client.post("/language/en", data={"next": "/progress"})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Start the course" in page


def test_pages_load_nothing_from_outside_and_send_security_headers(client, trainee, published):
    for path in ("/", "/modules/core-elements", "/lessons/element-feedback", "/progress", "/login"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert not re.search(r'(src|href)=["\']?(https?:)?//', html), path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_reports_database_and_revision(client, published):
    body = client.get("/healthz").get_json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "revision": {"id": published, "course": "internal-customer-service", "published_at": body["revision"]["published_at"]},
        "serving": published,
    }


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "instance")
    app.config["SQLALCHEMY_DATABASE_URI"] = "unused"
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    (tmp_path / "db.sqlite").unlink()
    (tmp_path / "db.sqlite").mkdir()  # a directory cannot be opened as a database
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unavailable"
