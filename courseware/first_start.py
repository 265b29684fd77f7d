"""A database nobody has set up yet: `python app.py` sets it up; any other server says what to run."""
from __future__ import annotations

import click
from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import inspect

from . import cli, resources
from .extensions import db
from .models import User


def database_ready(app: Flask) -> bool:
    """Whether the database has its tables; once true, remembered for the life of the process."""
    if not app.extensions.get("courseware.database_ready"):
        app.extensions["courseware.database_ready"] = inspect(db.engine).has_table(User.__tablename__)
    return app.extensions["courseware.database_ready"]


def setup_command() -> str:
    """The command that sets this installation up: `--app courseware` for a wheel, `--app app` in a checkout."""
    return f"flask --app {'courseware' if resources.installed() else 'app'} setup --demo"


def refuse_until_set_up():
    if request.endpoint in ("static", "system.healthz") or database_ready(current_app):
        return None
    message = _("The database has no tables yet: this installation has not been set up. To create them, publish the course and add one demo account per role, run: %(command)s", command=setup_command())
    return render_template("errors/error.html", code=503, message=message), 503


def set_up_on_first_start(app: Flask) -> None:
    """On a database without tables, run `setup` (migrations, publish the course) and say so.

    For `python app.py` on a fresh clone. It creates no accounts: those stay an operator's choice.
    """
    with app.app_context():
        if database_ready(app):
            return
        click.echo("First start: the database has no tables; running `setup` (migrations, then publish the course).")
        click.Context(cli.setup).invoke(cli.setup, demo=False)
        app.extensions["courseware.database_ready"] = True
        click.echo(
            "Set up. No accounts were created: stop and run "
            f"`{setup_command()}` for one demo account per role, or `flask --app app users create`."
        )
