"""Backing up and restoring the embedded SQLite database with SQLite's online backup API.

The backup API copies a consistent snapshot page by page, so a backup taken while the app is
serving (WAL mode) holds every committed transaction and nothing half-written. PostgreSQL has its
own tools (pg_dump, pg_restore); see docs/deploy.md.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


def copy(live: Path, target: Path) -> None:
    """Copy the database at `live` to `target` (a new file) and check the copy is sound.

    The copy is written aside and renamed into place only once it passes the integrity check; it
    is switched out of WAL mode so that it is one self-contained file, and readable by its owner
    only (it holds password hashes).
    """
    draft = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with closing(sqlite3.connect(live)) as source, closing(sqlite3.connect(draft)) as copied:
            draft.chmod(0o600)
            source.backup(copied)
            copied.execute("PRAGMA journal_mode=DELETE")
            _check_integrity(copied, target)
        os.replace(draft, target)
    except sqlite3.Error as error:
        raise BackupError(f"could not copy {live}: {error}") from error
    finally:
        draft.unlink(missing_ok=True)


def schema_revision(backup: Path) -> str:
    """Return the migration revision of a Courseware database file; raise BackupError if it is not one or is damaged."""
    try:
        with closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            _check_integrity(connection, backup)
            if connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone() is None:
                raise BackupError(f"{backup} is not a Courseware database (it has no alembic_version table)")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{backup} is not a readable SQLite database ({error})") from error
    return row[0] if row else "(none)"


def restore(backup: Path, live: Path) -> None:
    """Replace every page of the database at `live` with those of `backup`, in one transaction.

    Writing through the backup API (rather than moving files) keeps the live database's WAL and
    shared-memory files consistent, and leaves the live database untouched if anything fails.
    """
    try:
        with (
            closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(live, timeout=30)) as destination,
        ):
            source.backup(destination)
            _check_integrity(destination, live)
    except sqlite3.Error as error:
        raise BackupError(f"could not restore {backup} into {live}: {error}") from error


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupError(f"{path} failed the integrity check: {'; '.join(problems[:5])}")
