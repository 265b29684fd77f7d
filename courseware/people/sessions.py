"""Signed-in sessions: a random token per login, of which the database keeps only a hash.

The session cookie and the remember-me cookie carry the token as Flask-Login's user id, so
deleting its row ends that session even where the cookie was copied. Logging out deletes the
row; changing one's password deletes every other row of that person; an admin setting a
password, a deactivation and "sign out everywhere" delete them all.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, delete, inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import HRScope, LoginSession, Role, User, UserRole, as_loaded, utcnow
from .tokens import MAX_TOKEN_LENGTH, hashed


def lifetime() -> timedelta:
    """How long a session lasts at most, remembered or not (`SESSION_DAYS`)."""
    return timedelta(days=current_app.config["SESSION_DAYS"])


def open_session(user_id: int) -> str:
    """Store a new session for `user_id`, dropping its expired ones; return the token (caller commits)."""
    token = secrets.token_urlsafe(32)
    db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == user_id, LoginSession.created_at < utcnow() - lifetime())
    )
    db.session.add(LoginSession(token_hash=hashed(token), user_id=user_id))
    return token


def sign_in(user: User, remember: bool = False) -> None:
    """Log `user` in on this browser with a session of its own."""
    user.login_token = open_session(user.id)
    user.last_sign_in_at = utcnow()
    db.session.commit()
    login_user(user, remember=remember, duration=lifetime())


_USER_COLUMNS = tuple(User.__table__.columns)
# Built once: putting a statement together costs more than running it.
_SIGNED_IN = (
    select(*_USER_COLUMNS, UserRole.role, HRScope.department_id.label("scope_department_id"))
    .select_from(LoginSession)
    .join(User, LoginSession.user_id == User.id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .outerjoin(HRScope, HRScope.user_id == User.id)
    .where(LoginSession.token_hash == bindparam("token_hash"), LoginSession.created_at > bindparam("since"), User.active.is_(True))
)


def load(token: str) -> User | None:
    """The active user whose live session `token` names, with roles and HR scope (runs on every request).

    One Core query reads the user's row with their roles and scope; the user is then placed in the
    session as if the ORM had loaded it (its department loads when first used). This costs a fifth
    of the ORM's joined eager load, which every page paid.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    rows = db.session.connection().execute(_SIGNED_IN, {"token_hash": hashed(token), "since": utcnow() - lifetime()}).all()
    if not rows:
        return None
    user = _persistent_user(rows)
    user.login_token = token
    g.viewer = (user, Viewer.of(user))
    return user


def _persistent_user(rows) -> User:
    """The user of `rows` as a persistent object of this session, as a query would have given it."""
    first = rows[0]._mapping
    known = db.session.identity_map.get(inspect(User).identity_key_from_primary_key((first["id"],)))
    if known is not None:
        return known
    user = as_loaded(User, {column.key: first[column.key] for column in _USER_COLUMNS})
    roles = [as_loaded(UserRole, {"user_id": user.id, "role": role}) for role in sorted({row.role for row in rows if row.role})]
    scopes = [
        as_loaded(HRScope, {"user_id": user.id, "department_id": d}) for d in sorted({row.scope_department_id for row in rows} - {None})
    ]
    set_committed_value(user, "role_rows", roles)
    set_committed_value(user, "scope_rows", scopes)
    db.session.add(user)
    return user


@dataclass(frozen=True)
class Viewer:
    """Who is asking, as every page's header shows them: read once per request, so a commit in the
    view (which expires the ORM user) does not make the header load the user again."""

    name: str
    locale: str | None
    roles: frozenset[str]

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user.name, user.locale, frozenset(row.role for row in user.role_rows))

    def has_role(self, *roles: Role | str) -> bool:
        return not self.roles.isdisjoint(roles)


def viewer() -> Viewer | None:
    """The signed-in person of this request, or None."""
    user = current_user._get_current_object()
    seen = g.get("viewer")
    if seen is not None and seen[0] is user:
        return seen[1]
    if not user.is_authenticated:
        return None
    g.viewer = (user, Viewer.of(user))
    return g.viewer[1]


def sign_out() -> None:
    """End this browser's session on the server, then forget it here."""
    if current_user.is_authenticated:
        db.session.execute(delete(LoginSession).where(LoginSession.token_hash == hashed(current_user.login_token)))
        db.session.commit()
    logout_user()


def end_sessions(user: User, keep_this_one: bool = False) -> None:
    """End `user`'s sessions everywhere (but this browser's, with `keep_this_one`); the caller commits."""
    statement = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_this_one and user.login_token:
        statement = statement.where(LoginSession.token_hash != hashed(user.login_token))
    db.session.execute(statement)
