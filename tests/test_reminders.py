"""Reminder e-mails against a local SMTP server: the right people, the right words, never twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from courseware.extensions import db
from courseware.models import Assignment, Role
from courseware.people.departments import find_or_create


@pytest.fixture
def app_config(smtp):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[0], "MAIL_FROM": "training@example.com"}


def _assign(app, **fields) -> int:
    with app.app_context():
        assignment = Assignment(**fields)
        db.session.add(assignment)
        db.session.commit()
        return assignment.id


def test_due_soon_overdue_and_digest_are_sent_once(app, make_user, published, smtp):
    from courseware.hr.assignments import today

    _, inbox = smtp
    late_id, late = make_user(department="销售部/华东区")
    soon_id, soon = make_user(department="生产部")
    hr_id, hr = make_user(Role.HR, department="人力资源部")
    with app.app_context():
        on = today()
        sales = find_or_create("销售部")
        sales.hr_contact_id = hr_id
        db.session.add_all([
            Assignment(activity_id="internal-customer-service", department_id=sales.id, due_on=on - timedelta(days=2)),
            Assignment(activity_id="core-elements", user_id=soon_id, due_on=on + timedelta(days=2)),
            Assignment(activity_id="case-studies", user_id=soon_id, due_on=on + timedelta(days=20)),
        ])
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert "sent 1 digest, sent 1 due_soon, sent 1 overdue" in first.output
    by_recipient = {m["To"]: m for m in inbox.messages}
    assert set(by_recipient) == {late, soon, hr}
    assert "已逾期" in by_recipient[late]["Subject"] and "内部客户服务意识" in by_recipient[late].get_content()
    assert "四大核心要素" in by_recipient[soon]["Subject"]
    assert late in by_recipient[hr].get_content() and "销售部" in by_recipient[hr]["Subject"]

    again = runner.invoke(args=["reminders", "send"])
    assert "nothing to send" in again.output and len(inbox.messages) == 3


def test_a_title_with_a_line_break_still_sends_every_reminder_on_one_line(app, make_user, course_sources, smtp):
    from courseware.hr.assignments import today
    from courseware.publishing import publish

    module = "lessons/03-core-elements/module.md"
    sources = course_sources | {module: course_sources[module].replace(
        "title: 四大核心要素".encode(), 'title: "四大核心\\r\\n要素\\x1b"'.encode()
    )}
    _, inbox = smtp
    first_id, first = make_user(department="销售部")
    second_id, second = make_user(department="生产部")
    with app.app_context():
        publish(sources)
        on = today()
        db.session.add_all([
            Assignment(activity_id="core-elements", user_id=first_id, due_on=on + timedelta(days=1)),
            Assignment(activity_id="core-elements", user_id=second_id, due_on=on - timedelta(days=1)),
        ])
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1 due_soon, sent 1 overdue" in result.output
    subjects = {m["To"]: m["Subject"] for m in inbox.messages}
    assert set(subjects) == {first, second}
    assert all("四大核心 要素" in subject and "\n" not in subject and "\r" not in subject for subject in subjects.values())


def test_a_reminder_that_fails_is_sent_next_run_and_the_others_now(app, make_user, published, smtp, monkeypatch, caplog):
    import smtplib

    from courseware.hr.assignments import today
    from courseware.models import ReminderSent

    _, inbox = smtp
    learners = [make_user(department="销售部") for _ in range(3)]
    unlucky_id, unlucky = learners[1]
    with app.app_context():
        db.session.add_all(
            Assignment(activity_id="internal-customer-service", user_id=user_id, due_on=today()) for user_id, _ in learners
        )
        db.session.commit()
    send_message = smtplib.SMTP.send_message

    def refuse_one(self, email, *args, **kwargs):
        if email["To"] == unlucky:
            raise ValueError("not an SMTP error")
        return send_message(self, email, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "send_message", refuse_one)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert "sent 2 due_soon" in first.output and "not sent" in caplog.text
    assert sorted(m["To"] for m in inbox.messages) == sorted(email for _, email in learners if email != unlucky)
    with app.app_context():
        assert unlucky_id not in db.session.scalars(select(ReminderSent.user_id)).all()  # released, not lost

    monkeypatch.undo()
    again = runner.invoke(args=["reminders", "send"])
    assert "sent 1 due_soon" in again.output
    assert [m["To"] for m in inbox.messages[2:]] == [unlucky]


def test_a_moved_or_extended_due_date_is_reminded_of_again(app, client, make_user, login, published, smtp):
    from courseware.hr import reminders
    from courseware.hr.assignments import today

    _, inbox = smtp
    _, moved = make_user(department="销售部")
    _, extended = make_user(department="销售部")
    _, hr = make_user(Role.HR, department="人力资源部")
    with app.app_context():
        on, sales = today(), find_or_create("销售部").id
    assignment_id = _assign(app, activity_id="internal-customer-service", department_id=sales, due_on=on + timedelta(days=3))
    runner = app.test_cli_runner()
    assert "sent 2 due_soon" in runner.invoke(args=["reminders", "send"]).output

    login(hr)
    client.post(f"/hr/assignments/{assignment_id}/extensions", data={"person": extended, "due_on": on + timedelta(days=10)})
    client.post(f"/hr/assignments/{assignment_id}/due", data={"due_on": on + timedelta(days=1)})
    moved_again = runner.invoke(args=["reminders", "send"])
    assert "sent 1 due_soon" in moved_again.output, moved_again.output
    assert inbox.messages[-1]["To"] == moved and (on + timedelta(days=1)).isoformat() in inbox.messages[-1]["Subject"]
    assert "nothing to send" in runner.invoke(args=["reminders", "send"]).output

    with app.app_context():  # a week on: the first learner is late, the second's own date is near
        later = reminders.send(on=on + timedelta(days=8))
    assert (later["due_soon"], later["overdue"]) == (1, 1)
    subjects = {m["To"]: m["Subject"] for m in inbox.messages[3:]}
    assert set(subjects) == {moved, extended} and "已逾期" in subjects[moved]
    assert "即将到期" in subjects[extended] and (on + timedelta(days=10)).isoformat() in subjects[extended]


def test_an_assignment_given_again_after_a_withdrawal_is_reminded_of(app, client, make_user, login, published, smtp):
    from courseware.hr.assignments import today

    _, inbox = smtp
    learner_id, learner = make_user(department="销售部")
    _, hr = make_user(Role.HR, department="人力资源部")
    with app.app_context():
        due_on = today() + timedelta(days=2)
    first_id = _assign(app, activity_id="core-elements", user_id=learner_id, due_on=due_on)
    runner = app.test_cli_runner()
    assert "sent 1 due_soon" in runner.invoke(args=["reminders", "send"]).output
    login(hr)
    client.post(f"/hr/assignments/{first_id}/withdraw")
    with app.app_context():
        assert db.session.get(Assignment, first_id) is None
    _assign(app, activity_id="core-elements", user_id=learner_id, due_on=due_on)  # SQLite may give it the same id
    assert "sent 1 due_soon" in runner.invoke(args=["reminders", "send"]).output
    assert [m["To"] for m in inbox.messages] == [learner, learner]


def test_dry_run_sends_nothing(app, make_user, published, smtp):
    from courseware.hr.assignments import today

    user_id, _ = make_user()
    with app.app_context():
        db.session.add(Assignment(activity_id="internal-customer-service", user_id=user_id, due_on=today()))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--dry-run"])
    assert "would send 1 due_soon" in result.output and smtp[1].messages == []


def test_recertification_reassigns_before_the_certificate_lapses(app, client, make_user, login, published, smtp):
    from conftest import pass_quiz, play_model_path

    from courseware.hr.assignments import today
    from courseware.models import Certificate, LearningRecord
    from courseware.publishing import live_course

    with app.test_request_context():
        course = live_course().course
    assert course.valid_for_days == 365
    learner_id, email = make_user(department="销售部")
    login(email)

    def finish_course():
        for lesson in course.lessons:
            client.post(f"/lessons/{lesson.id}/complete")
        for scenario in course.scenarios:
            play_model_path(client, scenario)
        for quiz in course.quizzes:
            pass_quiz(client, quiz)

    finish_course()
    with app.app_context():
        first = db.session.scalar(select(Certificate))
        assert (first.expires_at - first.issued_at).days == 365
        first.expires_at = first.issued_at + timedelta(days=10)  # a year has nearly passed
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert "re-assigned the course to 1 people" in result.output
    again = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert "re-assigned" not in again.output
    home = client.get("/").get_data(as_text=True)
    assert 'value="0" max="100"' in home and "分配给你的学习" in home
    with app.app_context():
        assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == learner_id))
        assert assignment.due_on == today() + timedelta(days=10)

    finish_course()  # the quizzes allow their attempts again in the new round
    with app.app_context():
        certificates = db.session.scalars(select(Certificate).order_by(Certificate.cycle)).all()
        assert [c.cycle for c in certificates] == [1, 2]
        completed = db.session.scalars(
            select(LearningRecord.idempotency_key).where(LearningRecord.object_id == "ic-definition", LearningRecord.verb == "completed")
        ).all()
        assert len(completed) == 2  # the first round's records are all still there
