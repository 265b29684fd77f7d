"""Column types and helpers shared by the models."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, TypeDecorator, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

from ..extensions import db

_DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def upsert(model: type):
    """Start an INSERT that takes ON CONFLICT clauses (do nothing, or update) on SQLite and PostgreSQL alike."""
    return _DIALECT_INSERT[db.session.get_bind().dialect.name](model)


def built_once_per_dialect(build: Callable[[], Any]) -> Callable[[], Any]:
    """Decorate a function that builds a statement: build it the first time each database dialect asks, then reuse it.

    Putting an upsert together costs more than running it, and SQLite's differs from PostgreSQL's.
    """
    built: dict[str, Any] = {}

    def statement() -> Any:
        dialect = db.session.get_bind().dialect.name
        if dialect not in built:
            built[dialect] = build()
        return built[dialect]

    return statement


def as_loaded(model: type, values: Mapping[str, Any]) -> Any:
    """An instance of `model` with `values` (attribute: value) as if the ORM had loaded it from its row, not yet
    in a session: built as the ORM's loader builds one, without the constructor's attribute events."""
    instance = inspect(model).class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    return instance


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
