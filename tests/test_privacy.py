"""Personal data: export everything about one person, anonymise them without changing statistics;
back up and restore the SQLite database."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, timedelta

import pytest
from conftest import PASSWORD, pass_quiz, play_model_path
from flask_migrate import stamp
from sqlalchemy import func, select, text

from courseware.cli import create_user
from courseware.extensions import db
from courseware.hr import reports
from courseware.hr.assignments import today
from courseware.models import (
    Assignment,
    AuditEntry,
    Certificate,
    ImportBatch,
    LearningRecord,
    ReminderSent,
    Role,
    User,
)
from courseware.people import privacy
from courseware.people.departments import tree
from courseware.publishing import live_course
from courseware.studio.analytics import lessons, quizzes, scenarios
from courseware.studio.analytics.filters import Filter

QUIZ_ID = "quiz-why-it-matters"
SCENARIO_ID = "scenario-rush-order"
NAME, EMAIL = "葛青岚", "qinglan.ge@example.com"  # appears nowhere in the course text


def _learn(app, client, login, email, *, scenario: bool = True) -> None:
    """Log in and read a lesson, pass a quiz and (optionally) play a role-play, as a learner does."""
    login(email)
    client.post("/lessons/ic-definition/complete")
    with app.app_context():
        course = live_course().course
    pass_quiz(client, course.quiz(QUIZ_ID))
    if scenario:
        play_model_path(client, course.scenario(SCENARIO_ID))
    client.post("/logout")


@pytest.fixture
def person(app, published):
    """A learner with a name and email found nowhere else; returns the id."""
    with app.app_context():
        return create_user(EMAIL, NAME, {Role.TRAINEE}, "销售部/华东区", PASSWORD).id


def _add_hr_records(person_id: int, by_id: int, revision_id: int) -> None:
    """A certificate, a personal assignment, a reminder and a staff import naming the person."""
    db.session.add_all([
        Certificate(code="PRIV-0001", user_id=person_id, course_id="internal-customer-service",
                    course_title="内部客户服务意识", revision_id=revision_id),
        Assignment(activity_id="internal-customer-service", user_id=person_id, due_on=date(2030, 1, 31), created_by_id=by_id),
        ReminderSent(key=f"due_soon:1:{person_id}", kind="due_soon", user_id=person_id),
        ImportBatch(id="batch-1", created_by_id=by_id, filename="staff.xlsx", status="imported", rows={
            "rows": [{"line": 2, "email": EMAIL, "name": NAME, "department": "销售部 › 华东区", "roles": ["trainee"]},
                     {"line": 3, "email": "colleague@example.com", "name": "同事", "department": "销售部", "roles": ["trainee"]}],
            "errors": [{"line": 4, "reason": f"email {EMAIL} is also on line 2"}],
        }),
    ])
    db.session.commit()


def test_export_holds_everything_about_the_person_and_nothing_about_others(app, client, make_user, login, person, published):
    other_id, other_email = make_user()
    admin_id, admin_email = make_user(Role.ADMIN)
    _learn(app, client, login, EMAIL)
    _learn(app, client, login, other_email)
    with app.app_context():
        _add_hr_records(person, admin_id, published)
        own_records = db.session.scalar(select(func.count()).where(LearningRecord.user_id == person))
        other_statements = set(db.session.scalars(select(LearningRecord.statement_id).where(LearningRecord.user_id == other_id)))
        other_name = db.session.get(User, other_id).name

    login(admin_email)
    response = client.get(f"/admin/users/{person}/export.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="person-{person}.json"'
    body = response.get_data(as_text=True)
    export = json.loads(body)

    account = export["account"]
    assert (account["email"], account["name"], account["department"]) == (EMAIL, NAME, "销售部 › 华东区")
    assert account["roles"] == ["trainee"] and account["active"] and account["has_password"]
    assert "scrypt" not in body and "password_hash" not in body
    assert len(export["learning_records"]) == own_records
    assert {"ic-definition", QUIZ_ID, SCENARIO_ID} <= {row["object_id"] for row in export["learning_records"]}
    [attempt] = export["quiz_attempts"]
    assert attempt["quiz_id"] == QUIZ_ID and attempt["passed"] and attempt["answers"]
    [run] = export["scenario_runs"]
    assert run["scenario_id"] == SCENARIO_ID and run["ending_id"] and run["steps"]
    assert {row["activity_id"] for row in export["progress"]} >= {"ic-definition", QUIZ_ID, SCENARIO_ID}
    assert [c["code"] for c in export["certificates"]] == ["PRIV-0001"]
    assert [a["due_on"] for a in export["assignments"]] == ["2030-01-31"]
    assert [r["kind"] for r in export["reminders_sent"]] == ["due_soon"]
    assert [(e["action"], e["user_id"]) for e in export["audit_log"]] == [("export_person", admin_id)]

    assert other_email not in body and other_name not in body and "colleague@example.com" not in body
    assert not other_statements & {row["statement_id"] for row in export["learning_records"]}
    assert "export_person" in client.get("/admin/audit").get_data(as_text=True)


def test_every_reference_to_a_person_has_a_place_in_the_export():
    """A new table (or column) pointing at user.id must be added to privacy.SECTIONS."""
    references = {
        (fk.parent.table.name, fk.parent.name)
        for table in db.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table.name == "user"
    }
    covered = {
        (column.expression.table.name, column.expression.name)
        for section in privacy.SECTIONS
        for column in section.references
    }
    assert references - covered == set()


def _statistics() -> dict:
    """What HR's dashboard and the trainers' analytics show, over everyone."""
    course = live_course().course
    everyone = Filter()
    return {
        "by_department": [(r.node.path, r.learners, r.completed) for r in reports.completion_by_department(course.id, tree(), None)],
        "total": reports.completion_total(course.id, None),
        "assignments": reports.assignment_counts(today(), None),
        "overdue": reports.overdue_learners(today(), None),
        "quiz_scores": reports.average_quiz_scores(None),
        "elements": reports.element_profiles(None),
        "scenarios": reports.scenario_results(None),
        "lessons": lessons.lesson_funnel(course, everyone),
        "quizzes": quizzes.quiz_headlines(course, everyone),
        "quiz_report": quizzes.quiz_report(course.quiz(QUIZ_ID), everyone),
        "scenario_report": scenarios.scenario_report(course.scenario(SCENARIO_ID), everyone),
    }


def _everything_stored() -> str:
    return "\n".join(str(tuple(row)) for table in db.metadata.sorted_tables for row in db.session.execute(table.select()))


def test_anonymising_forgets_the_person_but_keeps_every_statistic(app, client, make_user, login, person, published):
    _, colleague = make_user(department="销售部/华东区")
    admin_id, admin_email = make_user(Role.ADMIN)
    _learn(app, client, login, EMAIL)
    _learn(app, client, login, colleague, scenario=False)
    with app.app_context():
        _add_hr_records(person, admin_id, published)
        db.session.add(Assignment(activity_id=QUIZ_ID, department_id=db.session.get(User, person).department_id,
                                  due_on=today() - timedelta(days=1)))
        db.session.commit()
    login(admin_email)
    assert f"/admin/users/{person}/export.json" in client.get(f"/admin/users/{person}").get_data(as_text=True)
    with app.app_context():
        department_id = db.session.get(User, person).department_id
    # Anonymising deactivates, as leaving does; so compare with the person already deactivated.
    client.post(f"/admin/users/{person}", data={"name": NAME, "department": department_id, "roles": ["trainee"]})
    with app.app_context():
        before = _statistics()
        records_before = privacy.person_export(person)["learning_records"]

    response = client.post(f"/admin/users/{person}/anonymise", data={"email": EMAIL.upper()})
    assert response.status_code == 302

    with app.app_context():
        assert _statistics() == before
        export = privacy.person_export(person)
        assert export["learning_records"] == records_before
        assert export["account"]["department"] == "销售部 › 华东区" and export["account"]["roles"] == ["trainee"]
        assert not export["account"]["active"] and not export["account"]["has_password"]
        stored = _everything_stored()
        assert EMAIL not in json.dumps(export) and NAME not in json.dumps(export, ensure_ascii=False)
        assert EMAIL not in stored and NAME not in stored and "colleague@example.com" in stored
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "anonymise"))
        assert (entry.user_id, entry.subject_user_id) == (admin_id, person)
    page = client.get(f"/admin/users/{person}").get_data(as_text=True)
    assert f"anonymous-{person}" in page and f"/admin/users/{person}/anonymise" not in page
    client.post("/logout")
    assert login(EMAIL).status_code == 200  # refused: the login form again
    assert login(f"anonymous-{person}@{privacy.ANONYMOUS_DOMAIN}").status_code == 200


def test_anonymising_needs_the_right_email_and_spares_yourself_and_the_last_admin(app, client, make_user, login, person):
    admin_id, admin_email = make_user(Role.ADMIN)
    login(admin_email)
    client.post("/language/en")
    for typed, message in [("", "This field is required."), ("someone@example.com", "That is not this person&#39;s email")]:
        response = client.post(f"/admin/users/{person}/anonymise", data={"email": typed})
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    yourself = client.post(f"/admin/users/{admin_id}/anonymise", data={"email": admin_email})
    assert "You cannot anonymise yourself." in yourself.get_data(as_text=True)
    with app.test_request_context():
        assert db.session.get(User, person).email == EMAIL
        assert db.session.get(User, admin_id).active
        hr = db.session.get(User, make_user(Role.HR)[0])
        with pytest.raises(privacy.Refused, match="最后一位管理员"):
            privacy.anonymise(admin_id, by=hr)


def test_only_admins_reach_personal_data(client, make_user, login, person):
    for role in (Role.TRAINEE, Role.TRAINER, Role.HR):
        login(make_user(role)[1])
        assert client.get(f"/admin/users/{person}/export.json").status_code == 403
        assert client.post(f"/admin/users/{person}/anonymise", data={"email": EMAIL}).status_code == 403
        client.post("/logout")


# --- backup and restore -------------------------------------------------------------------


def _sqlite_only(app) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("backup and restore copy the SQLite file; PostgreSQL uses pg_dump/pg_restore (docs/deploy.md)")
        stamp()  # as `flask setup` leaves it: the alembic_version table marks a Courseware database


def _name(app, user_id: int) -> str | None:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.name if user else None


def test_backup_while_in_use_then_restore_undoes_later_changes(app, make_user, tmp_path):
    _sqlite_only(app)
    person_id, _ = make_user()
    name = _name(app, person_id)
    runner = app.test_cli_runner()
    target = tmp_path / "backup.db"
    with app.app_context():
        busy = db.engine.connect()  # a request in the middle of a write
        busy.execute(text("UPDATE user SET name = 'half-written' WHERE id = :id"), {"id": person_id})
        made = runner.invoke(args=["backup", str(target)])
        busy.rollback()
        busy.close()
    assert made.exit_code == 0, made.output
    assert str(target) in made.output and "MB" in made.output
    assert target.stat().st_mode & 0o077 == 0  # it holds password hashes
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("SELECT name FROM user WHERE id = ?", (person_id,)).fetchone()[0] == name
    assert runner.invoke(args=["backup", str(target)]).exit_code != 0  # never overwrites

    with app.app_context():
        db.session.get(User, person_id).name = "renamed after the backup"
        db.session.commit()
    newcomer_id, _ = make_user()

    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _name(app, person_id) == name and _name(app, newcomer_id) is None
    with app.app_context():
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    [saved] = tmp_path.glob("test-before-restore-*.db")
    assert str(saved) in restored.output
    with closing(sqlite3.connect(saved)) as before:
        assert before.execute("SELECT name FROM user WHERE id = ?", (person_id,)).fetchone()[0] == "renamed after the backup"


def test_restore_refuses_what_is_not_a_courseware_backup(app, make_user, tmp_path):
    _sqlite_only(app)
    person_id, _ = make_user()
    name = _name(app, person_id)
    runner = app.test_cli_runner()
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("not a database")
    foreign = tmp_path / "other.db"
    with closing(sqlite3.connect(foreign)) as connection:
        connection.execute("CREATE TABLE t (x)")
    for path, reason in [(not_sqlite, "not a readable SQLite database"), (foreign, "not a Courseware database")]:
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code != 0 and reason in result.output
    assert _name(app, person_id) == name


def test_backup_and_restore_point_postgresql_to_pg_dump(app, tmp_path):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("checks the refusal on PostgreSQL")
    dump = tmp_path / "courseware.dump"
    dump.write_bytes(b"")
    for args in (["backup", str(tmp_path / "copy.db")], ["restore", str(dump), "--yes"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code != 0 and "pg_dump" in result.output and "docs/deploy.md" in result.output
