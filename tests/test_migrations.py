"""Migrations build the schema the models describe, on an empty database of each backend."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from courseware.extensions import db


def test_upgrade_on_an_empty_database_matches_the_models(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        assert "learning_record" in inspect(db.engine).get_table_names()


def test_setup_command_prepares_everything_and_prints_demo_accounts(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["setup", "--demo"])
    assert first.exit_code == 0, first.output
    assert "Published revision" in first.output
    for role in ("trainee", "trainer", "hr", "admin"):
        assert f"{role}@example.com" in first.output
    password = next(line.split()[-1] for line in first.output.splitlines() if "trainee@example.com" in line)
    client = app.test_client()
    assert client.post("/login", data={"email": "trainee@example.com", "password": password}).status_code == 302

    again = runner.invoke(args=["setup", "--demo"])
    assert again.exit_code == 0 and "nothing changed" in again.output and "exist already" in again.output


def test_upgrading_a_database_in_use_keeps_its_people_and_departments(app):
    """An upgrade that rebuilds a table others point to (SQLite's way to add a reference) keeps every row."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="0015")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO department (id, name, lineage) VALUES (7, '仓储部', '/7/')"))
            connection.execute(text(
                "INSERT INTO \"user\" (id, email, name, password_hash, department_id, active, created_at) "
                "VALUES (3, 'a@example.com', '甲', 'x', 7, true, CURRENT_TIMESTAMP)"
            ))
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text('SELECT department_id FROM "user" WHERE id = 3')).scalar() == 7
            assert connection.execute(text("SELECT head_id FROM department WHERE id = 7")).scalar() is None
            if connection.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
