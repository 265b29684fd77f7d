"""Signing in with the company's LDAP directory or Active Directory (ldap3): find the person, then bind as them.

Off unless `LDAP_URL` is set. The name typed on the login form is looked up with the service
account (`LDAP_BIND_DN`, or anonymously) through `LDAP_USER_FILTER` (uid, sAMAccountName, mail or
employee number by default), and the password is checked by binding as the one entry found, over
LDAPS or StartTLS with the certificate checked; a plain connection only where
`LDAP_ALLOW_PLAINTEXT` says so. The entry becomes a `CompanyIdentity`: the directory is run by the
company's IT, so its mail attribute is taken as vouched for.
"""
from __future__ import annotations

import contextlib
import logging
import ssl

from flask import Flask, current_app
from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from .company_accounts import CompanyIdentity, Policy, group_roles

TIMEOUT = 10  # seconds, to connect and for each answer: a login waits on it

log = logging.getLogger(__name__)


class DirectoryUnavailable(Exception):
    """The directory could not be asked (down, TLS refused, the service account refused)."""


class NotInDirectory(Exception):
    """Nobody in the directory answers to this name (or more than one entry does)."""


def init_app(app: Flask) -> None:
    """Refuse to start with settings that would send passwords in clear text."""
    url = app.config.get("LDAP_URL", "")
    if url and not url.lower().startswith("ldaps://") and not app.config["LDAP_STARTTLS"] \
            and not app.config["LDAP_ALLOW_PLAINTEXT"]:
        raise RuntimeError(
            "LDAP_URL is a plain ldap:// address: passwords would cross the network in clear text. "
            "Use ldaps://, or set LDAP_STARTTLS=true (or LDAP_ALLOW_PLAINTEXT=true on a trusted link only)."
        )


def enabled() -> bool:
    return bool(current_app.config["LDAP_URL"])


def policy() -> Policy:
    config = current_app.config
    return Policy(config["LDAP_CREATE_USERS"], group_roles(config["LDAP_GROUP_ROLES"], "LDAP_GROUP_ROLES"))


def _server() -> Server:
    config = current_app.config
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=config["LDAP_CA_FILE"] or None)
    return Server(config["LDAP_URL"], tls=tls, get_info=NONE, connect_timeout=TIMEOUT)


def _bound(user: str | None, password: str | None) -> Connection | None:
    """A connection bound as `user` (anonymous when None), or None when the directory refuses the password."""
    connection = Connection(
        _server(), user=user, password=password, read_only=True, auto_referrals=False,
        receive_timeout=TIMEOUT, raise_exceptions=False, auto_bind=False,
    )
    try:
        connection.open()
        if current_app.config["LDAP_STARTTLS"] and not connection.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused: {connection.result}")
        if connection.bind():
            return connection
    except LDAPException as error:
        _close(connection)
        raise DirectoryUnavailable(f"{type(error).__name__}: {error}") from error
    _close(connection)
    return None


def _close(connection: Connection) -> None:
    """Unbind, and close the socket even when a failed TLS handshake left it half open."""
    with contextlib.suppress(LDAPException, OSError):
        connection.unbind()
    if connection.socket is not None:
        connection.socket.close()


def _first(attributes: dict, name: str) -> str:
    value = attributes.get(name) if name else None
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip() if value is not None else ""


def _entries(connection: Connection) -> list[dict]:
    return [item for item in connection.response or [] if item.get("type") == "searchResEntry"]


def _find(connection: Connection, login: str) -> dict:
    config = current_app.config
    wanted = [config[key] for key in ("LDAP_EMPLOYEE_ID_ATTRIBUTE", "LDAP_EMAIL_ATTRIBUTE", "LDAP_NAME_ATTRIBUTE",
                                      "LDAP_DEPARTMENT_ATTRIBUTE") if config[key]] + ["cn", "memberOf"]
    query = config["LDAP_USER_FILTER"].replace("{login}", escape_filter_chars(login))
    connection.search(config["LDAP_BASE_DN"], query, SUBTREE, attributes=wanted, size_limit=2)
    found = _entries(connection)
    if len(found) != 1:
        if len(found) > 1:
            log.warning("LDAP: more than one entry answers to %r; refusing to guess", login)
        raise NotInDirectory(login)
    return found[0]


def _groups(connection: Connection, entry: dict) -> tuple[str, ...]:
    """The names (cn) of the groups whose member the entry is, found by `LDAP_GROUP_FILTER`."""
    config = current_app.config
    query = config["LDAP_GROUP_FILTER"].replace("{dn}", escape_filter_chars(entry["dn"]))
    connection.search(config["LDAP_GROUP_BASE_DN"] or config["LDAP_BASE_DN"], query, SUBTREE, attributes=["cn"])
    return tuple(sorted({_first(group["attributes"], "cn") for group in _entries(connection)} - {""}))


def look_up(login: str) -> CompanyIdentity:
    """The directory's entry for `login`, as an identity; raises NotInDirectory or DirectoryUnavailable."""
    config = current_app.config
    connection = _bound(config["LDAP_BIND_DN"] or None, config["LDAP_BIND_PASSWORD"] or None)
    if connection is None:
        raise DirectoryUnavailable("the directory refused the service account (LDAP_BIND_DN)")
    try:
        entry = _find(connection, login)
        groups = _groups(connection, entry) if config["LDAP_GROUP_ROLES"] else None
    except LDAPException as error:
        raise DirectoryUnavailable(f"{type(error).__name__}: {error}") from error
    finally:
        _close(connection)
    attributes = entry["attributes"]
    return CompanyIdentity(
        via="ldap",
        subject=entry["dn"],
        employee_id=_first(attributes, config["LDAP_EMPLOYEE_ID_ATTRIBUTE"]),
        email=_first(attributes, config["LDAP_EMAIL_ATTRIBUTE"]),
        email_vouched=True,
        name=_first(attributes, config["LDAP_NAME_ATTRIBUTE"]) or _first(attributes, "cn"),
        department=_first(attributes, config["LDAP_DEPARTMENT_ATTRIBUTE"]),
        groups=groups,
    )


def password_matches(identity: CompanyIdentity, password: str) -> bool:
    """Whether the directory accepts `password` for the entry (an empty one is never tried:
    LDAP would take it as an anonymous bind and say yes)."""
    if not password:
        return False
    connection = _bound(identity.subject, password)
    if connection is None:
        return False
    _close(connection)
    return True
