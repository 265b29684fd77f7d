"""How the app talks to PostgreSQL: a transaction begins at the first statement that needs one, and a
connection the server has closed is replaced before use, both without a round trip of their own.

psycopg opens a transaction with a `BEGIN` of its own before a connection's first statement, and the
request's end sends a `ROLLBACK` or `COMMIT`; a pool that pings its connections adds a third round trip.
A page that only reads (most of them: a lesson, the home page, HR's figures) paid three round trips
beside its two or three queries. So connections run in autocommit, and `BEGIN` is sent just before
the first statement that is not a plain read: a write, a `SELECT … FOR UPDATE` or `FOR SHARE`, a
server-side cursor, anything that does not begin with SELECT (`LOCK TABLE`, DDL). From then on the request's statements run in that one
transaction, and the session's commit or rollback ends it as before (psycopg sends `COMMIT` or
`ROLLBACK` only while a transaction is open). Under READ COMMITTED, PostgreSQL's default and the
app's, each statement reads its own snapshot inside a transaction or outside it, so reads that come
before the first write see what they saw before.
"""
from __future__ import annotations

import re
import select
from functools import lru_cache

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

ENGINE_OPTIONS = {"isolation_level": "AUTOCOMMIT"}
_LOCKING = re.compile(r"\bFOR (NO KEY UPDATE|UPDATE|KEY SHARE|SHARE)\b")


def init_engine(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _begin_unless_reading)
    event.listen(engine, "checkout", _refuse_closed)


@lru_cache(maxsize=2048)  # the app's statements are built once: the same few hundred texts come back
def _reads_only(statement: str) -> bool:
    """Whether the statement can run outside a transaction: a SELECT that locks nothing."""
    return statement.lstrip().startswith("SELECT") and not _LOCKING.search(statement)


def _begin_unless_reading(conn, cursor, statement: str, parameters, context, executemany: bool) -> None:
    connection = cursor.connection
    if connection.info.transaction_status != TransactionStatus.IDLE:
        return
    if not _reads_only(statement) or isinstance(cursor, psycopg.ServerCursor):  # a server-side cursor lives in a transaction
        connection.execute("BEGIN")


def _refuse_closed(dbapi_connection, _record, _proxy) -> None:
    """Hand out no connection the server has closed (a restart, an idle timeout, a terminated backend).

    An idle connection has nothing to read unless the server said something on its own, which it does
    when it closes the connection; the pool then opens a fresh one (a rare notice does the same, harmlessly).
    """
    if dbapi_connection.closed or _said_something(dbapi_connection.fileno()):
        raise DisconnectionError("the database server closed this connection")


def _said_something(socket: int) -> bool:
    readable = select.poll()
    readable.register(socket, select.POLLIN)
    return bool(readable.poll(0))
