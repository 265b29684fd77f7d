"""Sessions end where they should: a copied cookie dies with logout, a new password or deactivation;
every failed login costs the same and says the same; passwords that are easy to guess are refused."""
from __future__ import annotations

import pytest
from conftest import PASSWORD

from courseware.extensions import db
from courseware.models import Role, User
from courseware.people import signin

COOKIES = ("session", "remember_token")


def _copy_cookies(source, target) -> None:
    """What someone with a copy of the browser's cookies (a shared PC, a stolen laptop) holds."""
    for name in COOKIES:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def _signed_in(client) -> bool:
    return client.get("/progress").status_code == 200


def _remembered_browser(app, email: str, password: str = PASSWORD):
    browser = app.test_client()
    assert browser.post("/login", data={"email": email, "password": password, "remember": "y"}).status_code == 302
    return browser


def _only_remember_cookie(app, browser):
    """The same browser after it was closed: the session cookie is gone, the remember-me cookie stays."""
    reopened = app.test_client()
    reopened.set_cookie("remember_token", browser.get_cookie("remember_token").value)
    return reopened


def test_a_copied_cookie_stops_working_at_logout(app, make_user, published):
    _, email = make_user()
    browser = _remembered_browser(app, email)
    copy, reopened_copy = app.test_client(), _only_remember_cookie(app, browser)
    _copy_cookies(browser, copy)
    assert _signed_in(copy) and _signed_in(reopened_copy)

    browser.post("/logout")
    assert not _signed_in(browser)
    assert not _signed_in(copy), "the copied session cookie outlived the logout"
    assert not _signed_in(reopened_copy), "the copied remember-me cookie outlived the logout"


def test_a_new_password_ends_every_other_session_and_keeps_this_one(app, make_user, published):
    user_id, email = make_user()
    laptop, phone = _remembered_browser(app, email), _remembered_browser(app, email)
    copy = app.test_client()
    _copy_cookies(laptop, copy)

    response = laptop.post("/account/password", data={"current": PASSWORD, "password": "amber kettle road", "confirm": "amber kettle road"})
    assert response.status_code == 302
    assert _signed_in(laptop)
    assert not _signed_in(phone) and not _signed_in(_only_remember_cookie(app, phone))

    admin = app.test_client()
    _, admin_email = make_user(Role.ADMIN)
    admin.post("/login", data={"email": admin_email, "password": PASSWORD})
    with app.app_context():
        department_id = db.session.get(User, user_id).department_id
    form = {"name": "新名字", "department": department_id, "roles": ["trainee"], "active": "y"}
    assert admin.post(f"/admin/users/{user_id}", data=form | {"password": "violet harbour desk"}).status_code == 302
    assert not _signed_in(laptop), "an admin's new password ends the person's sessions"

    tablet = _remembered_browser(app, email, "violet harbour desk")
    assert admin.post(f"/admin/users/{user_id}", data={k: v for k, v in form.items() if k != "active"}).status_code == 302
    assert not _signed_in(tablet), "a deactivated person's session ends at once"
    assert app.test_client().post("/login", data={"email": email, "password": "violet harbour desk"}).status_code == 200


def test_sign_out_everywhere(app, make_user, published):
    _, email = make_user()
    here, there = _remembered_browser(app, email), _remembered_browser(app, email)
    assert here.post("/account/sessions/end").status_code == 302
    assert not _signed_in(here) and not _signed_in(there) and not _signed_in(_only_remember_cookie(app, there))
    assert _signed_in(_remembered_browser(app, email)), "signing in again works"


def test_every_failed_login_checks_one_password_hash_and_says_the_same(app, client, make_user, monkeypatch):
    """Timing is not measured in a unit test; what makes it equal is that every path does the same work."""
    _, known = make_user()
    _, inactive = make_user()
    with app.app_context():
        imported = User(email="imported@example.com", name="导入", password_hash="!", department_id=User.by_email(known).department_id)
        db.session.add(imported)
        User.by_email(inactive).active = False
        db.session.commit()
    checks: list[str] = []
    real_check = signin.check_password_hash
    monkeypatch.setattr(signin, "check_password_hash", lambda hashed, password: checks.append(hashed) or real_check(hashed, password))

    answers = {}
    for label, email, password in (
        ("unknown", "nobody@example.com", PASSWORD), ("no password yet", "imported@example.com", PASSWORD),
        ("deactivated", inactive, PASSWORD), ("wrong password", known, "wrong guess"),
    ):
        checks.clear()
        response = client.post("/login", data={"email": email, "password": password})
        answers[label] = response.get_data(as_text=True).count("邮箱或密码不正确")
        assert len(checks) == 1 and checks[0].startswith("scrypt:"), f"{label}: {checks}"
        checks.clear()
        assert client.get("/xapi/statements", auth=(email, password), headers={"X-Experience-API-Version": "1.0.3"}).status_code == 401
        assert len(checks) == 1 and checks[0].startswith("scrypt:"), f"xAPI {label}: {checks}"
    assert set(answers.values()) == {1}


@pytest.mark.parametrize(("password", "reason"), [
    ("12345678", "常见"), ("password", "常见"), ("qwertyuiop", "常见"), ("abcdefghij", "序列"),
    ("aaaaaaaaaa", "重复"), ("lilei2024", "姓名或邮箱"), ("short", "至少需要 8 个字符"),
])
def test_easily_guessed_passwords_are_refused_with_the_reason(client, department, password, reason):
    form = {"name": "李雷", "email": "lilei@example.com", "department": department, "password": password, "confirm": password}
    page = client.post("/signup", data=form).get_data(as_text=True)
    assert reason in page, page[page.find("field-error") - 200:page.find("field-error") + 400]
    assert client.get("/progress").status_code == 302


def test_weak_passwords_are_refused_on_change_and_by_admins(app, client, make_user, login):
    user_id, email = make_user()
    login(email)
    page = client.post("/account/password", data={"current": PASSWORD, "password": "password1", "confirm": "password1"})
    assert page.status_code == 200 and "太容易被猜到" in page.get_data(as_text=True)
    client.post("/logout")
    login(make_user(Role.ADMIN)[1])
    with app.app_context():
        department_id = db.session.get(User, user_id).department_id
    form = {"name": "某", "department": department_id, "roles": ["trainee"], "active": "y", "password": "12345678"}
    page = client.post(f"/admin/users/{user_id}", data=form)
    assert page.status_code == 200 and "太容易被猜到" in page.get_data(as_text=True)
