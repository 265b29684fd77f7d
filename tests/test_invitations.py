"""Everyone in: HR invites imported staff, people reset a forgotten password, and log in with an employee ID."""
from __future__ import annotations

import io
import re

import pytest
from conftest import PASSWORD
from openpyxl import load_workbook
from sqlalchemy import select

from courseware.extensions import db
from courseware.models import UNUSABLE_PASSWORD, AccountToken, AuditEntry, HRScope, OutboxMessage, Role, User
from courseware.people.departments import find_or_create

PUBLIC_URL = "https://learn.example.com"
NEW_PASSWORD = "quiet-river-lamp"


@pytest.fixture
def app_config(smtp):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[0], "PUBLIC_URL": PUBLIC_URL}


def imported(app, email: str, name: str, department: str, employee_id: str | None = None) -> int:
    """Someone the staff import created: no password yet, never logged in."""
    with app.app_context():
        user = User(email=email, name=name, department=find_or_create(department), password_hash=UNUSABLE_PASSWORD,
                    employee_id=employee_id)
        user.roles = {Role.TRAINEE}
        db.session.add(user)
        db.session.commit()
        return user.id


def scoped_hr(app, make_user, login, department: str) -> int:
    hr_id, hr_email = make_user(Role.HR, department=department)
    with app.app_context():
        db.session.add(HRScope(user_id=hr_id, department_id=find_or_create(department).id))
        db.session.commit()
    login(hr_email)
    return hr_id


def mail_to(app, email: str) -> dict:
    with app.app_context():
        mails = [m for m in db.session.scalars(select(OutboxMessage.payload)) if m["to"] == email]
    assert len(mails) >= 1, f"no mail to {email}"
    return mails[-1]


def path_in(body: str, kind: str) -> str:
    return re.search(re.escape(PUBLIC_URL) + rf"(/{kind}/[\w-]+)", body).group(1)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_hr_invites_people_in_its_scope_and_they_choose_a_password_with_the_link(app, client, make_user, login):
    wang = imported(app, "wang@example.com", "王芳", "销售部", "E1001")
    imported(app, "zhao@example.com", "赵强", "销售部")
    imported(app, "chen@example.com", "陈晨", "生产部")  # outside the HR user's scope
    scoped_hr(app, make_user, login, "销售部")

    page = client.get("/hr/invitations").get_data(as_text=True)
    assert "王芳" in page and "赵强" in page and "E1001" in page and "陈晨" not in page

    confirm = client.post("/hr/invitations/confirm", data={"everyone": "1"}).get_data(as_text=True)
    assert "2" in confirm and "王芳" in confirm and "陈晨" not in confirm
    assert client.post("/hr/invitations/send", data={"everyone": "1"}).status_code == 302
    with app.app_context():
        assert not db.session.scalars(select(OutboxMessage).where(OutboxMessage.payload["to"].as_string() == "chen@example.com")).all()

    link = path_in(mail_to(app, "wang@example.com")["body"], "invitation")
    client.post("/logout")
    opened = client.get(link)  # opening the link (or a mail scanner doing so) does not use it up
    assert opened.status_code == 200 and "王芳" in opened.get_data(as_text=True)
    weak = client.post(link, data={"password": "wang1234", "confirm": "wang1234"})
    assert weak.status_code == 200 and 'aria-invalid="true"' in weak.get_data(as_text=True)
    assert client.get("/progress").status_code == 302 and client.get(link).status_code == 200

    chosen = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert chosen.status_code == 302 and client.get("/progress").status_code == 200
    assert client.get(link).status_code == 410  # once only
    client.post("/logout")
    assert client.post("/login", data={"email": "E1001", "password": NEW_PASSWORD}).status_code == 302  # by employee ID
    with app.app_context():
        person = db.session.get(User, wang)
        assert person.invited_at is not None and person.last_sign_in_at is not None
    assert {"invite", "accept_invitation"} <= set(audit_actions(app))


def test_a_newer_invitation_or_a_deactivation_ends_the_link(app, client, make_user, login):
    person = imported(app, "wang@example.com", "王芳", "销售部")
    _admin_id, admin_email = make_user(Role.ADMIN)
    login(admin_email)
    client.post("/hr/invitations/send", data={"person": str(person)})
    first = path_in(mail_to(app, "wang@example.com")["body"], "invitation")
    client.post("/hr/invitations/send", data={"person": str(person)})
    second = path_in(mail_to(app, "wang@example.com")["body"], "invitation")
    assert first != second
    assert client.get(first).status_code == 410 and client.get(second).status_code == 200

    with app.app_context():
        department_id = db.session.get(User, person).department_id
    client.post(f"/admin/users/{person}", data={"name": "王芳", "department": department_id, "roles": ["trainee"]})
    assert client.get(second).status_code == 410


def test_hr_downloads_the_links_to_send_them_another_way(app, client, make_user, login):
    imported(app, "wang@example.com", "王芳", "销售部", "E1001")
    scoped_hr(app, make_user, login, "销售部")
    response = client.post("/hr/invitations/links.xlsx", data={"everyone": "1"})
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    assert rows[1][:4] == ("王芳", "E1001", "wang@example.com", "销售部")
    link = rows[1][4].removeprefix(PUBLIC_URL)
    with app.app_context():
        assert not db.session.scalars(select(OutboxMessage)).all()  # nothing e-mailed
    client.post("/logout")
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert "invitation_links" in audit_actions(app)


def test_forgot_password_answers_alike_and_the_link_works_once_and_ends_other_sessions(app, client, make_user, login):
    _user_id, email = make_user(Role.TRAINEE)
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": email, "password": PASSWORD})
    assert elsewhere.get("/progress").status_code == 200

    answers = [client.post("/password/forgot", data={"login": login_}) for login_ in (email, "nobody@example.com", "E404")]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.get_data(as_text=True) for a in answers}) == 1
    assert PUBLIC_URL not in mail_to(app, "nobody@example.com")["body"]  # told there is no account; no link
    link = path_in(mail_to(app, email)["body"], "password/reset")

    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.get("/progress").status_code == 200
    assert elsewhere.get("/progress").status_code == 302  # the session signed in before the reset has ended
    assert client.post(link, data={"password": "another-long-phrase", "confirm": "another-long-phrase"}).status_code == 410
    client.post("/logout")
    assert login(email, NEW_PASSWORD).status_code == 302
    with app.app_context():
        assert not db.session.scalars(select(AccountToken).where(AccountToken.used_at.is_(None))).all()
    assert "reset_password" in audit_actions(app)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_reset_mails_to_one_person_are_rate_limited(app, client, make_user):
    _user_id, email = make_user(Role.TRAINEE)
    codes = [client.post("/password/forgot", data={"login": email}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429
    with app.app_context():
        assert len([m for m in db.session.scalars(select(OutboxMessage.payload)) if m["to"] == email]) == 3


def test_hr_sees_the_invitations_the_mail_server_refused(app, client, make_user, login, smtp):
    _port, inbox = smtp
    imported(app, "wang@example.com", "王芳", "销售部")
    imported(app, "typo@example.con", "赵强", "销售部")
    imported(app, "chen@example.com", "陈晨", "生产部")
    inbox.refused.add("typo@example.con")
    inbox.refused.add("chen@example.com")
    _admin, admin_email = make_user(Role.ADMIN)
    login(admin_email)
    client.post("/hr/invitations/send", data={"everyone": "1"})
    client.post("/logout")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in inbox.messages] == ["wang@example.com"]

    scoped_hr(app, make_user, login, "销售部")
    page = client.get("/hr/invitations").get_data(as_text=True)
    undelivered = page.split('id="undelivered-heading"')[1].split("</section>")[0]
    assert "typo@example.con" in undelivered and "wang@example.com" not in undelivered
    assert "chen@example.com" not in undelivered  # outside this HR user's departments
