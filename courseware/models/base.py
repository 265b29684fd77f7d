"""Column types and helpers shared by the models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db

_DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def upsert(model: type):
    """Start an INSERT that takes ON CONFLICT clauses (do nothing, or update) on SQLite and PostgreSQL alike."""
    return _DIALECT_INSERT[db.session.get_bind().dialect.name](model)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC and always read them back aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
