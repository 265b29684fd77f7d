"""The floor for any logged-in page: a bare Flask app that does only what such a page cannot skip.

It reads the signed session cookie, finds its login session, loads the user with their roles and their progress with raw
DB-API queries (no ORM, no Flask-Login, no template), and returns N bytes. Served under the same
gunicorn settings as the app, it shows how close to the bare baseline a page that must know who is
asking and what they have done can get at all. `bench/run.py` measures it at the lesson page's size
and at the trainee home's, and states both pages' targets against it.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from threading import local

from flask import Flask, Response, session

app = Flask(__name__)
app.secret_key = os.environ["SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"]
_local = local()

SESSION_QUERY = "SELECT user_id FROM login_session WHERE token_hash = {p}"
QUERIES = (
    'SELECT id, name, locale, active FROM "user" WHERE id = {p}',
    "SELECT role FROM user_role WHERE user_id = {p}",
    "SELECT activity_id, status, started_at, completed_at, score, attempts FROM progress WHERE user_id = {p}",
)


def _connection():
    if not hasattr(_local, "connection"):
        if DATABASE_URL.startswith("sqlite:///"):
            _local.connection, _local.placeholder = sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///")), "?"
        else:
            import psycopg

            _local.connection = psycopg.connect(DATABASE_URL.replace("+psycopg", ""), autocommit=True)
            _local.placeholder = "%s"
    return _local.connection, _local.placeholder


@app.route("/floor/<int:size>")
def floor(size: int) -> Response:
    connection, placeholder = _connection()
    token_hash = hashlib.sha256(session["_user_id"].encode()).hexdigest()
    user_id = connection.execute(SESSION_QUERY.format(p=placeholder), (token_hash,)).fetchone()[0]
    for query in QUERIES:
        connection.execute(query.format(p=placeholder), (user_id,)).fetchall()
    return Response(b"x" * size, mimetype="text/html")


@app.route("/ready")
def ready() -> str:
    return "ok"
