"""Signing in through an OpenID Connect provider: a real one (oidc-provider-mock) over HTTP on this
machine, the code flow with PKCE, state and nonce, matching to imported people, creation and groups."""
from __future__ import annotations

import warnings
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import at_once, make_app

from courseware.extensions import db
from courseware.models import AuditEntry, Role, User
from courseware.people import oidc
from courseware.people.company_accounts import group_roles

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the mock still imports authlib.jose
    import oidc_provider_mock

# The mock provider runs in a thread of this process, so the warning filters of a test apply to it too.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

BASE = "http://localhost"  # the Flask test client's address, and so PUBLIC_URL


@pytest.fixture(scope="module")
def provider():
    """An OpenID Connect provider in a thread, stopped after this module; its issuer URL."""
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def app_config(provider) -> dict:
    return {
        "PUBLIC_URL": BASE,
        "OIDC_ISSUER": provider,
        "OIDC_CLIENT_ID": "courseware",
        "OIDC_CLIENT_SECRET": "secret",
        "OIDC_GROUP_ROLES": "trainers=trainer, hr-team=hr, bosses=admin",
    }


@pytest.fixture
def client(app):
    """A browser reading the English pages, whose sentences the tests look for."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client


def start(client) -> str:
    """Press the SSO button; return the provider's authorization URL we were sent to."""
    response = client.get("/login/sso")
    assert response.status_code == 302
    return response.headers["Location"]


def authorize(authorization_url: str, sub: str, claims: dict, provider: str) -> str:
    """Sign in at the provider as `sub` with `claims`; return the callback URL it sends the browser to."""
    assert httpx.put(f"{provider}/users/{sub}", json=claims).status_code == 204
    answer = httpx.post(authorization_url, data={"sub": sub})
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def sso(client, provider: str, sub: str, **claims):
    """The whole round trip; return the response to the callback."""
    callback = authorize(start(client), sub, claims, provider)
    assert callback.startswith(f"{BASE}/login/sso/callback?")
    return client.get(callback.removeprefix(BASE))


def signed_in_as(app, client) -> User | None:
    """Who this browser is signed in as (the learner's own progress page answers 200)."""
    if client.get("/progress").status_code != 200:
        return None
    with app.app_context():
        entry = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.action == "sso_sign_in").order_by(AuditEntry.id.desc())
        ).first()
        return db.session.get(User, entry.user_id)


def imported(app, make_user, employee_id: str | None = None, *roles: Role, email: str | None = None) -> int:
    user_id, _ = make_user(*roles, email=email)
    with app.app_context():
        user = db.session.get(User, user_id)
        user.employee_id = employee_id
        db.session.commit()
    return user_id


def audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)).all()


def test_the_request_uses_pkce_state_nonce_and_the_public_url(client, provider):
    response = client.get("/login/sso", headers={"Host": "evil.example"})
    assert response.status_code == 302
    url = response.headers["Location"]
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{provider}/oauth2/authorize?")
    assert query["redirect_uri"] == [f"{BASE}/login/sso/callback"]  # PUBLIC_URL, not the request's Host
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    assert query["scope"] == ["openid email profile"]


def test_match_by_employee_id(app, client, provider, make_user, published):
    user_id = imported(app, make_user, "E100")
    response = sso(client, provider, "alice", employee_id=" e100 ", email="other@example.com", email_verified=False)
    assert response.status_code == 302
    assert signed_in_as(app, client).id == user_id
    with app.app_context():
        assert db.session.get(User, user_id).last_sign_in_at is not None
    [entry] = audit(app, "sso_sign_in")
    assert (entry.user_id, entry.subject_user_id, entry.detail["sub"]) == (user_id, user_id, "alice")


def test_match_by_verified_email(app, client, provider, make_user, published):
    user_id = imported(app, make_user, email="bob@example.com")
    response = sso(client, provider, "bob", email="Bob@Example.com", email_verified=True)
    assert response.status_code == 302
    assert signed_in_as(app, client).id == user_id


def test_an_unverified_email_does_not_match(app, client, provider, make_user, published):
    imported(app, make_user, email="carol@example.com")
    response = sso(client, provider, "carol", email="carol@example.com", email_verified=False)
    assert response.status_code == 403
    assert "no account for you" in response.get_data(as_text=True)
    assert signed_in_as(app, client) is None and audit(app, "sso_sign_in") == []


def test_a_deactivated_account_is_refused(app, client, provider, make_user, published):
    user_id = imported(app, make_user, "E200")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    response = sso(client, provider, "dave", employee_id="E200")
    assert response.status_code == 403
    assert signed_in_as(app, client) is None


def test_creation_into_the_claimed_department_when_enabled(app, client, provider, published):
    app.config["OIDC_CREATE_USERS"] = True
    response = sso(
        client, provider, "erin", email="erin@example.com", email_verified=True, name="尔琳",
        employee_id="e300", department="销售部/华东区",
    )
    assert response.status_code == 302
    user = signed_in_as(app, client)
    assert (user.email, user.name, user.employee_id, user.roles) == ("erin@example.com", "尔琳", "E300", {Role.TRAINEE})
    with app.app_context():
        department = db.session.get(User, user.id).department
        assert (department.name, department.parent.name) == ("华东区", "销售部")
    assert audit(app, "sso_sign_in")[0].detail["created"] is True


def test_creation_is_refused_when_disabled_or_without_a_department(app, client, provider, published):
    claims = {"email": "frank@example.com", "email_verified": True, "department": "销售部"}
    assert sso(client, provider, "frank", **claims).status_code == 403
    app.config["OIDC_CREATE_USERS"] = True
    response = sso(client, provider, "frank", email="frank@example.com", email_verified=True)
    assert response.status_code == 403
    assert "which department" in response.get_data(as_text=True)
    with app.app_context():
        assert User.by_email("frank@example.com") is None


def test_group_mapping_gives_hr_and_is_audited(app, client, provider, make_user, published):
    user_id = imported(app, make_user, "E400")
    response = sso(client, provider, "gina", employee_id="E400", groups=["hr-team", "bosses", "staff"])
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).roles == {Role.TRAINEE, Role.HR}  # "bosses=admin" is never mapped
    [entry] = audit(app, "sso_roles")
    assert (entry.subject_user_id, entry.detail) == (user_id, {"via": "oidc", "before": ["trainee"], "after": ["hr", "trainee"]})
    # Signing in again with the same groups changes nothing and writes no second entry.
    client.post("/logout")
    sso(client, provider, "gina", employee_id="E400", groups=["hr-team"])
    assert len(audit(app, "sso_roles")) == 1


def test_an_admin_keeps_admin_and_a_group_taken_away_is_audited(app, client, provider, make_user, published):
    user_id = imported(app, make_user, "E500", Role.ADMIN, Role.TRAINER)
    sso(client, provider, "hal", employee_id="E500", groups=[])
    with app.app_context():
        assert db.session.get(User, user_id).roles == {Role.ADMIN}
    [entry] = audit(app, "sso_roles")
    assert entry.detail == {"via": "oidc", "before": ["admin", "trainer"], "after": ["admin"]}


def test_a_wrong_state_is_refused(app, client, provider, make_user, published):
    imported(app, make_user, "E600")
    callback = authorize(start(client), "ivy", {"employee_id": "E600"}, provider)
    forged = callback.replace("state=", "state=forged")
    response = client.get(forged.removeprefix(BASE))
    assert response.status_code == 400
    assert signed_in_as(app, client) is None


def test_a_refusal_at_the_provider_answers_a_clear_page(app, client, provider, published):
    answer = httpx.post(start(client), data={"action": "deny"})
    response = client.get(answer.headers["Location"].removeprefix(BASE))
    assert response.status_code == 400
    assert "did not succeed" in response.get_data(as_text=True)


def test_the_login_page_offers_the_button(client, provider):
    page = client.get("/login").get_data(as_text=True)
    assert "/login/sso" in page and 'name="password"' in page


def test_without_an_issuer_nothing_changes(database_url, tmp_path):
    app = make_app(database_url, tmp_path / "off")
    client = app.test_client()
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
    assert "/login/sso" not in client.get("/login").get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_password_login_can_be_switched_off(app, client, make_user):
    _, email = make_user()
    app.config["PASSWORD_LOGIN"] = False
    assert 'name="password"' not in client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"email": email, "password": "correct horse battery"}).status_code == 403
    assert client.post("/password/forgot", data={"login": email}).status_code == 404  # no password to reset


def test_admin_is_never_mapped():
    assert group_roles("a=trainer, b=HR, c=admin, d=, =hr, e=boss", "OIDC_GROUP_ROLES") == {"a": Role.TRAINER, "b": Role.HR}


def test_two_first_sign_ins_at_once_make_one_person(app, published):
    """Two tabs (or two workers) finishing the same person's first company sign-in together."""
    app.config["OIDC_CREATE_USERS"] = True
    claims = {"sub": "ivy", "email": "ivy@example.com", "email_verified": True, "employee_id": "E700", "department": "客服部"}

    def first_sign_in():
        oidc.sign_in(claims)
        db.session.commit()

    assert at_once(app, first_sign_in, 4) == []
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User).where(User.employee_id == "E700")) == 1
