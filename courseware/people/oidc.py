"""Signing in through the company's OpenID Connect provider: the client, and who a set of claims names.

Off unless `OIDC_ISSUER` is set. The provider's ID token (checked by Authlib: signature, issuer,
audience, expiry, nonce) is matched to an imported person by employee ID, else by an email the
provider says it verified; with `OIDC_CREATE_USERS` a person nobody imported becomes a trainee in
the department the token names. `OIDC_GROUP_ROLES` maps the provider's groups to trainer and HR,
never to admin. Exchanging the code for the token is the one network call made inside a request:
OpenID Connect has no other way.
"""
from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import UNUSABLE_PASSWORD, Role, User
from . import audit
from .departments import find_or_create, split_path

CLIENT = "oidc"  # the name in the Authlib registry; Authlib keeps the login's state under it in the session
EXTENSION = "courseware.oidc"
MAPPABLE = (Role.TRAINER, Role.HR)  # what a group may grant; admin is given by an admin only

log = logging.getLogger(__name__)


class SignInRefused(Exception):
    """The provider vouched for someone we will not sign in; `message` says why, `code` is 400 or 403."""

    def __init__(self, message: str, code: int = 403):
        super().__init__(str(message))
        self.message = message
        self.code = code


def group_roles(spec: str) -> dict[str, Role]:
    """Parse 'trainers=trainer,hr-team=hr' into {group: role}; admin and unknown roles are left out."""
    mapping: dict[str, Role] = {}
    for pair in spec.split(","):
        group, _, role = (part.strip() for part in pair.partition("="))
        if not group or not role:
            continue
        if role.lower() not in {r.value for r in MAPPABLE}:
            log.warning("OIDC_GROUP_ROLES: ignoring %s=%s (only trainer and hr may be mapped)", group, role)
            continue
        mapping[group] = Role(role.lower())
    return mapping


def init_app(app: Flask) -> None:
    """When `OIDC_ISSUER` is set, register this app's provider in an Authlib registry of its own."""
    issuer = (app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    app.extensions[EXTENSION] = OAuth(app).register(
        CLIENT,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256", "timeout": 10},
    )


def client():
    """This app's OpenID Connect client, or None when sign-in through a provider is off."""
    return current_app.extensions.get(EXTENSION)


def _claim(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def find_person(claims: dict[str, Any]) -> User | None:
    """The imported person the claims name: by employee ID, else by an email the provider verified."""
    employee_id = User.normalise_employee_id(_claim(claims, current_app.config["OIDC_EMPLOYEE_ID_CLAIM"]))
    if employee_id:
        user = db.session.scalar(db.select(User).where(User.employee_id == employee_id))
        if user is not None:
            return user
    email = _claim(claims, "email")
    if email and claims.get("email_verified") is True:
        return User.by_email(email)
    return None


def create_person(claims: dict[str, Any]) -> User:
    """Add a trainee in the department the claims name (flushed, not committed)."""
    department = _claim(claims, current_app.config["OIDC_DEPARTMENT_CLAIM"])
    if not split_path(department):
        raise SignInRefused(_l("Your company account does not say which department you belong to, so no account can be made for you. Ask HR to add you."))
    email = User.normalise_email(_claim(claims, "email"))
    if not email:
        raise SignInRefused(_l("Your company account has no email address, so no account can be made for you. Ask HR to add you."))
    if User.by_email(email) is not None:
        raise SignInRefused(_l("An account with your email address already exists, but your company account has not confirmed that the address is yours. Ask HR to add your employee ID to it."))
    employee_id = User.normalise_employee_id(_claim(claims, current_app.config["OIDC_EMPLOYEE_ID_CLAIM"]))
    user = User(
        email=email,
        name=_claim(claims, "name") or email.partition("@")[0],
        password_hash=UNUSABLE_PASSWORD,
        department=find_or_create(department),
        employee_id=employee_id or None,
    )
    user.roles = {Role.TRAINEE}
    db.session.add(user)
    db.session.flush()
    return user


def mapped_roles(user: User, claims: dict[str, Any]) -> set[Role] | None:
    """The roles the claimed groups give `user` (trainer, HR; others kept); None: leave them as they are."""
    mapping = group_roles(current_app.config["OIDC_GROUP_ROLES"])
    groups = claims.get(current_app.config["OIDC_GROUPS_CLAIM"])
    if not mapping or groups is None:  # no mapping, or a provider that does not send groups
        return None
    if isinstance(groups, str):
        groups = [groups]
    granted = {mapping[group] for group in groups if isinstance(group, str) and group in mapping} \
        if isinstance(groups, list) else set()
    return (user.roles - set(MAPPABLE)) | granted or {Role.TRAINEE}


def sign_in_person(claims: dict[str, Any]) -> User:
    """Find (or, if allowed, create) the person the checked claims name, set their mapped roles, audit it."""
    user = find_person(claims)
    created = user is None
    if created:
        if not current_app.config["OIDC_CREATE_USERS"]:
            raise SignInRefused(_l("There is no account for you here yet. Ask HR to add you, with your employee ID."))
        user = create_person(claims)
    elif not user.active:
        raise SignInRefused(_l("Your account has been deactivated. Ask HR if you think this is a mistake."))
    roles = mapped_roles(user, claims)
    if roles is not None and roles != user.roles:
        before = sorted(role.value for role in user.roles)
        user.roles = roles
        db.session.flush()
        audit.record("sso_roles", user.id, {"before": before, "after": sorted(role.value for role in roles)}, by=user)
    audit.record("sso_sign_in", user.id, {"sub": str(claims.get("sub", "")), "created": created}, by=user)
    return user
