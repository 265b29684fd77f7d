"""Migrations build the schema the models describe, on an empty database of each backend."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from courseware.extensions import db


def _empty_database() -> None:
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrade_on_an_empty_database_matches_the_models(app):
    with app.app_context():
        _empty_database()
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        assert "learning_record" in inspect(db.engine).get_table_names()


def test_setup_command_prepares_everything_and_prints_demo_accounts(app):
    with app.app_context():
        _empty_database()
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
        _empty_database()
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


def test_upgrading_keeps_the_reminders_already_sent_from_going_out_again(app):
    """Reminders claimed before they were claimed per due date count as sent for each learner's date now."""
    from datetime import timedelta

    from courseware.hr import reminders
    from courseware.hr.assignments import today

    with app.app_context():
        _empty_database()
        upgrade(revision="0019")
        on = today()
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO department (id, name, lineage) VALUES (7, '仓储部', '/7/')"))
            for user_id in (3, 4):
                connection.execute(text(
                    "INSERT INTO \"user\" (id, email, name, password_hash, department_id, active, created_at) "
                    "VALUES (:id, :email, '甲', 'x', 7, true, CURRENT_TIMESTAMP)"
                ), {"id": user_id, "email": f"u{user_id}@example.com"})
            connection.execute(text(
                "INSERT INTO assignment (id, activity_id, department_id, due_on, created_at) "
                "VALUES (5, 'internal-customer-service', 7, :due, CURRENT_TIMESTAMP)"
            ), {"due": on + timedelta(days=2)})
            connection.execute(text(
                "INSERT INTO due_date_extension (assignment_id, user_id, due_on, created_at) VALUES (5, 4, :due, CURRENT_TIMESTAMP)"
            ), {"due": on + timedelta(days=9)})
            for key, user_id in (("due_soon:5:3", 3), ("due_soon:5:4", 4), ("overdue:6:3", 3)):  # assignment 6 was withdrawn
                connection.execute(text(
                    "INSERT INTO reminder_sent (key, kind, user_id, sent_at) VALUES (:key, :kind, :user_id, CURRENT_TIMESTAMP)"
                ), {"key": key, "kind": key.split(":")[0], "user_id": user_id})
        upgrade()
        claimed = set(db.session.scalars(text("SELECT key FROM reminder_sent")))
        due_now = {m.key for m in reminders.plan(on, 3)}
        due_then = {m.key for m in reminders.plan(on + timedelta(days=7), 3) if m.kind == "due_soon"}
        assert len(due_now) == 1 and len(due_then) == 1 and claimed == due_now | due_then

        downgrade(revision="0019")  # back to one claim per learner and assignment, whatever its date
        assert set(db.session.scalars(text("SELECT key FROM reminder_sent"))) == {"due_soon:5:3", "due_soon:5:4"}
        db.session.commit()
        upgrade()
