"""A fresh clone: the first request and the first `python app.py` against an empty database."""
from __future__ import annotations

import pytest

from courseware import create_app
from courseware.first_start import database_ready, set_up_on_first_start
from courseware.extensions import db
from courseware.models import ContentRevision, User


@pytest.fixture
def empty_app(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/", "/login", "/signup"])
def test_a_visitor_is_told_what_to_run_not_given_a_500(empty_app, path):
    response = empty_app.test_client().get(path)
    assert response.status_code == 503
    assert "flask --app app setup --demo" in response.get_data(as_text=True)


def test_static_files_are_served_before_setup(empty_app):
    with empty_app.test_client().get("/static/css/app.css") as response:
        assert response.status_code == 200


def test_first_start_publishes_the_course_and_creates_no_accounts(empty_app, capsys):
    set_up_on_first_start(empty_app)
    assert "running `setup`" in capsys.readouterr().out
    with empty_app.app_context():
        assert database_ready(empty_app)
        assert db.session.scalar(db.select(db.func.count()).select_from(ContentRevision)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    assert empty_app.test_client().get("/login").status_code == 200
    assert empty_app.test_client().get("/healthz").get_json()["revision"]["id"] == 1


def test_a_second_start_changes_nothing(empty_app, capsys):
    set_up_on_first_start(empty_app)
    capsys.readouterr()
    set_up_on_first_start(empty_app)
    assert capsys.readouterr().out == ""
