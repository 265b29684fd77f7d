"""Signing in through the company's OpenID Connect provider: the client, and who its ID token names.

Off unless `OIDC_ISSUER` is set. The provider's ID token (checked by Authlib: signature, issuer,
audience, expiry, nonce) becomes a `CompanyIdentity`, matched to our people by `company_accounts`.
Exchanging the code for the token is the one network call made inside a request: OpenID Connect
has no other way.
"""
from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from ..models import User
from .company_accounts import CompanyIdentity, Policy, group_roles, sign_in_person

CLIENT = "oidc"  # the name in the Authlib registry; Authlib keeps the login's state under it in the session
EXTENSION = "courseware.oidc"


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


def _groups(value: Any) -> tuple[str, ...] | None:
    """The groups claim as a tuple of names; None when the provider does not send it."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(group for group in value if isinstance(group, str)) if isinstance(value, list) else ()


def identity(claims: dict[str, Any]) -> CompanyIdentity:
    """What the ID token says, read through the configured claim names."""
    config = current_app.config
    return CompanyIdentity(
        via="oidc",
        subject=str(claims.get("sub", "")),
        employee_id=_claim(claims, config["OIDC_EMPLOYEE_ID_CLAIM"]),
        email=_claim(claims, "email"),
        email_vouched=claims.get("email_verified") is True,
        name=_claim(claims, "name"),
        department=_claim(claims, config["OIDC_DEPARTMENT_CLAIM"]),
        groups=_groups(claims.get(config["OIDC_GROUPS_CLAIM"])),
    )


def sign_in(claims: dict[str, Any]) -> User:
    """The person the checked claims name (found, or created when allowed), with their mapped roles."""
    config = current_app.config
    policy = Policy(config["OIDC_CREATE_USERS"], group_roles(config["OIDC_GROUP_ROLES"], "OIDC_GROUP_ROLES"))
    return sign_in_person(identity(claims), policy)
