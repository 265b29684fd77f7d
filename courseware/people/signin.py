"""Checking a password (the company directory's, or one kept here), and the one guessing budget
every door that checks one shares."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import limiter
from ..models import User
from . import directory
from .company_accounts import SignInRefused, sign_in_person

# Checked when there is no password to check, so every failure costs one scrypt, as a success does.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


def authenticate(login: str, password: str) -> User | None:
    """The active user with this email or employee ID and this password, or None.

    Exactly one scrypt check runs whether the login is unknown, has no password yet, belongs to a
    deactivated account or is right, so the time taken tells nothing about which.
    """
    user = User.by_login(login)
    known = user is not None and user.has_password
    matches = check_password_hash(user.password_hash if known else _DUMMY_HASH, password)
    return user if known and matches and user.is_active else None


def check_login(login: str, password: str) -> User | None:
    """The person these credentials name, or None; raises SignInRefused with a reason to show.

    With a company directory (`LDAP_URL`), someone it knows is checked by the directory alone and
    matched to our people (created when allowed); anyone else, such as a local administrator, by
    the password kept here, unless `PASSWORD_LOGIN` is off. When the directory cannot be reached,
    only passwords kept here still work.
    """
    unreachable = False
    if directory.enabled():
        try:
            identity = directory.look_up(login)
        except directory.NotInDirectory:
            pass
        except directory.DirectoryUnavailable as error:
            current_app.logger.warning("LDAP directory unavailable: %s", error)
            unreachable = True
        else:
            return sign_in_person(identity, directory.policy()) if directory.password_matches(identity, password) else None
    user = authenticate(login, password) if current_app.config["PASSWORD_LOGIN"] else None
    if user is None and unreachable:
        raise SignInRefused(_l("The company directory cannot be reached, so your password cannot be checked. Try again later."), 503)
    return user


def address_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def account_key(login: str) -> str:
    """The guessing budget's key: the person, whether they typed their email or employee ID."""
    user = User.by_login(login)
    return "account:" + (user.email if user is not None else User.normalise_email(login))


def failed_login(response) -> bool:
    """Count only failed attempts, so a whole office behind one address can still log in at nine."""
    return response.status_code != 302


def guessing_budget(deduct_when, key_func, methods: list[str] | None = None):
    """Limit failures per address and per account, shared by every door that checks a password
    (login, the password page, xAPI's HTTP Basic): one budget per account, whatever the door."""
    per_address = limiter.shared_limit(address_limit, scope="guesses-address", methods=methods, deduct_when=deduct_when)
    per_account = limiter.shared_limit(account_limit, scope="guesses-account", key_func=key_func, methods=methods, deduct_when=deduct_when)
    return lambda view: per_address(per_account(view))
