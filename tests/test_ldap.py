"""Signing in with the company directory: Debian's slapd on 127.0.0.1 (tests/ldap_server.py) with a
small directory, over LDAPS and StartTLS with a certificate checked against the company's CA;
matching to imported people, creation, group mapping, and what happens when the directory is down."""
from __future__ import annotations

import pytest
from conftest import PASSWORD, make_app
from ldap_server import BASE_DN, SERVICE_DN, SERVICE_PASSWORD, requires_slapd, running_directory

from courseware.extensions import db
from courseware.models import UNUSABLE_PASSWORD, AuditEntry, Role, User
from courseware.people.departments import find_or_create

pytestmark = requires_slapd


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    with running_directory(tmp_path_factory.mktemp("slapd")) as running:
        yield running


def settings(directory, **overrides) -> dict:
    return {
        "LDAP_URL": directory.ldaps_url,
        "LDAP_CA_FILE": str(directory.ca_file),
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_BASE_DN": BASE_DN,
        "LDAP_DEPARTMENT_ATTRIBUTE": "departmentNumber",  # inetOrgPerson's; Active Directory's is "department"
        "LDAP_GROUP_ROLES": "hr-team=hr, trainers=trainer, admins=admin",
        **overrides,
    }


@pytest.fixture
def app_config(directory) -> dict:
    return settings(directory)


def imported(app, email: str, employee_id: str | None = None, *, password: str | None = None) -> int:
    """A trainee HR imported (no password of their own unless given)."""
    with app.app_context():
        user = User(email=email, name=email.partition("@")[0], department=find_or_create("销售部"),
                    password_hash=UNUSABLE_PASSWORD, employee_id=employee_id)
        if password:
            user.set_password(password)
        user.roles = {Role.TRAINEE}
        db.session.add(user)
        db.session.commit()
        return user.id


def log_in(client, login: str, password: str):
    return client.post("/login", data={"email": login, "password": password})


def signed_in_as(app, client) -> User | None:
    """Who this browser is signed in as, by the newest sign-in the audit log recorded."""
    if client.get("/progress").status_code != 200:
        return None
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "sso_sign_in")
                                   .order_by(AuditEntry.id.desc())).first()
        user = db.session.get(User, entry.user_id)
        user.roles  # loaded while the session is open
        return user


def test_an_imported_person_signs_in_with_their_directory_account_and_gets_hr_from_a_group(app, client, published):
    user_id = imported(app, "zhang.wei@example.com", "E1001")
    response = log_in(client, "zhangwei", "amber-desk-lantern")
    assert response.status_code == 302
    person = signed_in_as(app, client)
    assert person.id == user_id
    assert person.roles == {Role.TRAINEE, Role.HR}  # "admins=admin" is never mapped
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.subject_user_id == user_id)).all()
    details = {entry.action: entry.detail for entry in entries}
    assert details["sso_sign_in"] == {"via": "ldap", "sub": "uid=zhangwei,ou=people,dc=example,dc=com", "created": False}
    assert details["sso_roles"]["after"] == ["hr", "trainee"]
    assert "本平台没有可修改的密码" in client.get("/account/password").get_data(as_text=True)


@pytest.mark.parametrize("login", ["E1002", "li.na@example.com", "LINA"])
def test_the_employee_number_or_the_mail_also_find_the_person(app, client, published, login):
    user_id = imported(app, "li.na@example.com")  # matched by the directory's mail: no employee ID imported
    assert log_in(client, login, "cedar-lamp-river").status_code == 302
    person = signed_in_as(app, client)
    assert (person.id, person.roles) == (user_id, {Role.TRAINEE, Role.TRAINER})


def test_a_wrong_or_empty_password_is_refused_and_the_old_local_password_no_longer_counts(app, client, published):
    imported(app, "wang.fang@example.com", password=PASSWORD)
    for password in ("maple-stone", PASSWORD, ""):
        response = log_in(client, "wangfang", password)
        assert response.status_code == 200 and signed_in_as(app, client) is None
    response = log_in(client, "wang.fang@example.com", PASSWORD)  # the directory knows this address too
    assert response.status_code == 200
    assert "邮箱或密码不正确。" in response.get_data(as_text=True)
    assert log_in(client, "wangfang", "maple-stone-cloud").status_code == 302


@pytest.mark.parametrize("login", ["*", "zhang*", "zhangwei)(uid=*", "twins@example.com"])
def test_wildcards_injections_and_names_several_entries_share_find_nobody(app, client, published, login):
    imported(app, "zhang.wei@example.com", "E1001")
    for password in ("amber-desk-lantern", "twin-one-password"):
        assert log_in(client, login, password).status_code == 200
    assert signed_in_as(app, client) is None


def test_someone_the_directory_does_not_know_signs_in_with_the_password_kept_here(app, client, make_user, published):
    _, email = make_user(Role.ADMIN)  # a local administrator, not in the directory
    assert log_in(client, email, PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_nobody_is_created_unless_allowed(app, client, published):
    response = log_in(client, "chenjie", "silver-pine-harbor")
    assert response.status_code == 403
    assert "这里还没有你的账户" in response.get_data(as_text=True)


def test_creation_into_the_directory_department_when_allowed(directory, tmp_path, course_sources):
    app = make_app(f"sqlite:///{tmp_path / 'created.db'}", tmp_path / "instance",
                   **settings(directory, LDAP_CREATE_USERS=True, LDAP_GROUP_ROLES=""))
    client = app.test_client()
    assert log_in(client, "chenjie", "silver-pine-harbor").status_code == 302
    response = log_in(app.test_client(), "nodept", "quiet-fern-window")
    assert response.status_code == 403
    with app.app_context():
        person = User.by_email("chen.jie@example.com")
        assert (person.name, person.employee_id, person.department.name, person.department.parent.name, person.roles) \
            == ("陈杰", "E1009", "一组", "客服部", {Role.TRAINEE})
        assert not person.has_password
        assert User.by_email("no.dept@example.com") is None


def test_starttls_with_the_company_ca(directory, tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'tls.db'}", tmp_path / "instance",
                   **settings(directory, LDAP_URL=directory.ldap_url, LDAP_STARTTLS=True))
    user_id = imported(app, "zhang.wei@example.com", "E1001")
    client = app.test_client()
    assert log_in(client, "zhangwei", "amber-desk-lantern").status_code == 302
    assert signed_in_as(app, client).id == user_id


def test_a_plain_ldap_address_is_refused_at_start_unless_allowed(directory, tmp_path):
    with pytest.raises(RuntimeError, match="clear text"):
        make_app(f"sqlite:///{tmp_path / 'plain.db'}", tmp_path / "instance", **settings(directory, LDAP_URL=directory.ldap_url))
    app = make_app(f"sqlite:///{tmp_path / 'plain.db'}", tmp_path / "instance",
                   **settings(directory, LDAP_URL=directory.ldap_url, LDAP_ALLOW_PLAINTEXT=True))
    imported(app, "zhang.wei@example.com", "E1001")
    assert log_in(app.test_client(), "E1001", "amber-desk-lantern").status_code == 302


@pytest.mark.parametrize("problem", ["untrusted certificate", "directory down", "service account refused"])
def test_when_the_directory_cannot_be_asked_people_are_told_and_local_accounts_still_work(
    directory, tmp_path, make_user, problem
):
    broken = {
        "untrusted certificate": {"LDAP_CA_FILE": ""},  # the system's CAs do not know the test CA
        "directory down": {"LDAP_URL": "ldaps://127.0.0.1:1"},
        "service account refused": {"LDAP_BIND_PASSWORD": "wrong"},
    }[problem]
    app = make_app(f"sqlite:///{tmp_path / 'down.db'}", tmp_path / "instance", **settings(directory, **broken))
    with app.app_context():
        local = User(email="local.admin@example.com", name="Local", department=find_or_create("IT"))
        local.set_password(PASSWORD)
        local.roles = {Role.ADMIN}
        db.session.add(local)
        db.session.commit()
    client = app.test_client()
    response = log_in(client, "zhangwei", "amber-desk-lantern")
    assert response.status_code == 503
    assert "暂时无法连接公司目录" in response.get_data(as_text=True)
    assert log_in(client, "local.admin@example.com", PASSWORD).status_code == 302


def test_with_password_login_off_only_the_directory_signs_people_in(directory, tmp_path, make_user):
    app = make_app(f"sqlite:///{tmp_path / 'off.db'}", tmp_path / "instance", **settings(directory, PASSWORD_LOGIN=False))
    imported(app, "zhang.wei@example.com", "E1001")
    imported(app, "someone@example.com", "E9", password=PASSWORD)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' in page and "/password/forgot" not in page
    assert log_in(client, "someone@example.com", PASSWORD).status_code == 200
    assert log_in(client, "zhangwei", "amber-desk-lantern").status_code == 302
