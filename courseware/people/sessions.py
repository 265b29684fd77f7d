"""Signed-in sessions: a random token per login, of which the database keeps only a hash.

The session cookie and the remember-me cookie carry the token as Flask-Login's user id, so
deleting its row ends that session even where the cookie was copied. Logging out deletes the
row; changing one's password deletes every other row of that person; an admin setting a
password, a deactivation and "sign out everywhere" delete them all.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import LoginSession, User, utcnow
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


def load(token: str) -> User | None:
    """The active user whose live session `token` names, with roles and HR scope (runs on every request)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    user = db.session.execute(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == hashed(token), LoginSession.created_at > utcnow() - lifetime(), User.active.is_(True))
        .options(joinedload(User.role_rows), joinedload(User.scope_rows))
    ).unique().scalar_one_or_none()
    if user is not None:
        user.login_token = token
    return user


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
