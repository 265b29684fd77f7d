"""Single-use links sent by e-mail: confirming a sign-up, accepting an invitation, resetting a password.

The link holds a random token; the database keeps only its hash, so a copy of the database opens
nothing. A token works once, until it expires, and only for its purpose.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from ..extensions import db
from ..models import AccountToken, utcnow

SIGNUP = "signup"
INVITATION = "invitation"
RESET = "reset"
MAX_TOKEN_LENGTH = 64


def hashed(token: str) -> str:
    """What the database keeps of a token (login sessions and e-mailed links alike)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(purpose: str, email: str, payload: dict[str, Any] | None, lifetime: timedelta) -> str:
    """Store a new token for `email` and return it (the caller commits).

    The older unused tokens of the same purpose and email stop working, and expired tokens of
    anyone are dropped.
    """
    now = utcnow()
    db.session.execute(
        delete(AccountToken).where(or_(
            and_(AccountToken.purpose == purpose, AccountToken.email == email, AccountToken.used_at.is_(None)),
            AccountToken.expires_at < now,
        )).execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(
        purpose=purpose, token_hash=hashed(token), email=email, payload=payload, expires_at=now + lifetime
    ))
    return token


def peek(purpose: str, token: str) -> AccountToken | None:
    """The live token (unused, not expired) of `purpose`, without using it up."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(select(AccountToken).where(
        AccountToken.token_hash == hashed(token),
        AccountToken.purpose == purpose,
        AccountToken.used_at.is_(None),
        AccountToken.expires_at > utcnow(),
    ))


def redeem(purpose: str, token: str) -> AccountToken | None:
    """Use up the live token of `purpose` and return it, or None (the caller commits).

    The conditional UPDATE lets only one of two requests racing with the same link (a double
    click) through: the other waits for the first to commit, then finds the token used.
    """
    row = peek(purpose, token)
    if row is None:
        return None
    now = utcnow()
    used = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None), AccountToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return row if used == 1 else None


def revoke(email: str) -> None:
    """End every unused invitation and reset link of `email` (password set, or account deactivated); caller commits."""
    db.session.execute(
        delete(AccountToken)
        .where(AccountToken.email == email, AccountToken.purpose.in_([INVITATION, RESET]), AccountToken.used_at.is_(None))
        .execution_options(synchronize_session=False)
    )
