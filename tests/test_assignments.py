"""One person's later due date on a department assignment: granted, shown, told, reminded, audited, removed."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import mails_to
from sqlalchemy import select

from courseware.extensions import db
from courseware.hr import reminders, reports
from courseware.hr.assignments import today
from courseware.models import Assignment, AuditEntry, DueDateExtension, Notice, Role, User
from courseware.people.departments import find_or_create

COURSE_ID = "internal-customer-service"


@pytest.fixture
def on(app) -> date:
    with app.app_context():
        return today()


def assign(app, on: date, days: int, department: str | None = "销售部", user_id: int | None = None) -> int:
    """An assignment due `days` from today (in the past too, which the form refuses), set straight in the database."""
    with app.app_context():
        assignment = Assignment(
            activity_id=COURSE_ID, department_id=find_or_create(department).id if department else None,
            user_id=user_id, due_on=on + timedelta(days=days),
        )
        db.session.add(assignment)
        db.session.commit()
        return assignment.id


def extensions(app) -> dict[int, date]:
    with app.app_context():
        return {user_id: due_on for user_id, due_on in db.session.execute(select(DueDateExtension.user_id, DueDateExtension.due_on))}


def test_one_person_gets_a_later_date_and_only_they_are_told(app, client, people, sales_hr, login, on):
    assignment = assign(app, on, -3)
    later = on + timedelta(days=2)
    response = client.post(f"/hr/assignments/{assignment}/extensions", data={"person": people["east"][1].upper(), "due_on": later})
    assert response.status_code == 302
    assert extensions(app) == {people["east"][0]: later}
    assert len(mails_to(app, people["east"][1])) == 1 and later.isoformat() in mails_to(app, people["east"][1])[0]
    assert mails_to(app, people["sales"][1]) == [] and mails_to(app, people["hr"][1]) == []

    page = client.get("/hr/assignments").get_data(as_text=True)
    assert people["east"][1] in page and f"/hr/assignments/{assignment}/extensions/{people['east'][0]}/remove" in page
    overdue = client.get("/hr/learners?status=overdue").get_data(as_text=True)
    assert people["sales"][1] in overdue and people["east"][1] not in overdue
    with app.app_context():
        counts = reports.assignment_counts(on, None)[assignment]
        assert (counts.assigned, counts.overdue, counts.not_started) == (3, 2, 1)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "extend_due_date"))
        assert entry.subject_user_id == people["east"][0]
        assert entry.detail["assignment_id"] == assignment
        assert (entry.detail["before"], entry.detail["after"]) == ((on - timedelta(days=3)).isoformat(), later.isoformat())
        planned = {(m.kind, m.user.email): m.body for m in reminders.plan(on, days_before=3) if m.kind != "digest"}
    assert set(planned) == {("overdue", people["sales"][1]), ("overdue", people["hr"][1]), ("due_soon", people["east"][1])}
    assert later.isoformat() in planned[("due_soon", people["east"][1])]

    client.post("/logout")
    login(people["east"][1])
    home = client.get("/").get_data(as_text=True)
    assert home.count(later.isoformat()) >= 2  # in the notice and in the list of assigned training
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.user_id == people["east"][0]))
        assert (notice.kind, notice.due_on) == ("extended", later)
    client.post("/logout")
    login(people["sales"][1])
    assert later.isoformat() not in client.get("/").get_data(as_text=True)


def test_a_person_is_found_by_employee_id_too(app, client, people, sales_hr, on):
    assignment = assign(app, on, 5)
    with app.app_context():
        db.session.get(User, people["sales"][0]).employee_id = "E1001"
        db.session.commit()
    client.post(f"/hr/assignments/{assignment}/extensions", data={"person": " e1001 ", "due_on": on + timedelta(days=9)})
    assert extensions(app) == {people["sales"][0]: on + timedelta(days=9)}


@pytest.mark.parametrize("who, days, why", [
    ("nobody@example.com", 9, "nobody has this email"),
    ("plant", 9, "outside HR's departments"),
    ("east", 5, "not later than everyone's date"),
    ("east", 2, "earlier than everyone's date"),
    ("east", -1, "in the past"),
    ("east", None, "no date"),
    ("", 9, "nobody named"),
])
def test_a_refused_extension_says_why_and_changes_nothing(app, client, people, sales_hr, on, who, days, why):
    assignment = assign(app, on, 5)
    person = people[who][1] if who in people else who
    due_on = "" if days is None else (on + timedelta(days=days)).isoformat()
    response = client.post(f"/hr/assignments/{assignment}/extensions", data={"person": person, "due_on": due_on}, follow_redirects=True)
    assert response.status_code == 200
    assert "flash flash-error" in response.get_data(as_text=True), why
    assert extensions(app) == {} and mails_to(app, people["east"][1]) == []


def test_a_person_outside_the_assignment_or_an_inactive_one_is_refused(app, client, people, sales_hr, make_user, on):
    east_only = assign(app, on, 5, department="销售部/华东区")
    personal = assign(app, on, 5, department=None, user_id=people["sales"][0])
    gone_id, gone = make_user(Role.TRAINEE, department="销售部/华东区")
    with app.app_context():
        db.session.get(User, gone_id).active = False
        db.session.commit()
    for assignment, person in ((east_only, people["sales"][1]), (east_only, gone), (personal, people["sales"][1])):
        response = client.post(f"/hr/assignments/{assignment}/extensions",
                               data={"person": person, "due_on": on + timedelta(days=9)}, follow_redirects=True)
        assert "flash flash-error" in response.get_data(as_text=True)
    assert extensions(app) == {}


def test_hr_cannot_extend_or_remove_outside_its_departments(app, client, people, sales_hr, on):
    elsewhere = assign(app, on, 5, department="生产部")
    with app.app_context():
        db.session.add(DueDateExtension(assignment_id=elsewhere, user_id=people["plant"][0], due_on=on + timedelta(days=9)))
        db.session.commit()
    data = {"person": people["plant"][1], "due_on": on + timedelta(days=10)}
    assert client.post(f"/hr/assignments/{elsewhere}/extensions", data=data).status_code == 404
    assert client.post(f"/hr/assignments/{elsewhere}/extensions/{people['plant'][0]}/remove").status_code == 404
    assert extensions(app) == {people["plant"][0]: on + timedelta(days=9)}
    ours = assign(app, on, 5)
    assert client.post(f"/hr/assignments/{ours}/extensions/{people['sales'][0]}/remove").status_code == 404


def test_removing_an_extension_gives_back_everyone_s_date_and_tells_the_person(app, client, people, sales_hr, on):
    assignment = assign(app, on, 5)
    client.post(f"/hr/assignments/{assignment}/extensions", data={"person": people["east"][1], "due_on": on + timedelta(days=9)})
    assert client.post(f"/hr/assignments/{assignment}/extensions/{people['east'][0]}/remove").status_code == 302
    assert extensions(app) == {}
    assert (on + timedelta(days=5)).isoformat() in mails_to(app, people["east"][1])[-1]
    assert mails_to(app, people["sales"][1]) == []
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "remove_extension"))
        assert entry.subject_user_id == people["east"][0]
        assert entry.detail["after"] == (on + timedelta(days=5)).isoformat()


def test_moving_everyone_s_date_never_moves_a_person_s_earlier(app, client, people, sales_hr, login, on):
    assignment = assign(app, on, 5)
    own = on + timedelta(days=20)
    client.post(f"/hr/assignments/{assignment}/extensions", data={"person": people["east"][1], "due_on": own})
    told_before = len(mails_to(app, people["east"][1]))
    client.post(f"/hr/assignments/{assignment}/due", data={"due_on": on + timedelta(days=10)})
    assert extensions(app) == {people["east"][0]: own}
    assert len(mails_to(app, people["east"][1])) == told_before  # their own date stands: nothing to tell them
    assert (on + timedelta(days=10)).isoformat() in mails_to(app, people["sales"][1])[-1]
    with app.app_context():
        rows = db.session.execute(reports.assigned_learners(on).subquery().select()).all()
        assert {row.user_id: row.due_on for row in rows}[people["east"][0]] == own

    client.post(f"/hr/assignments/{assignment}/due", data={"due_on": on + timedelta(days=30)})
    assert extensions(app) == {}  # reached by everyone's date: dropped, and not back if the date moves earlier again
    client.post(f"/hr/assignments/{assignment}/due", data={"due_on": on + timedelta(days=10)})
    client.post("/logout")
    login(people["east"][1])
    home = client.get("/").get_data(as_text=True)
    assert (on + timedelta(days=10)).isoformat() in home and own.isoformat() not in home.split('class="card assigned"')[1]


def test_an_extension_earlier_than_everyone_s_date_does_not_count(app, people, on):
    assignment = assign(app, on, 5)
    with app.app_context():
        db.session.add(DueDateExtension(assignment_id=assignment, user_id=people["east"][0], due_on=on + timedelta(days=1)))
        db.session.commit()
        rows = db.session.execute(reports.assigned_learners(on).subquery().select()).all()
    assert {row.user_id: row.due_on for row in rows}[people["east"][0]] == on + timedelta(days=5)


def test_withdrawing_the_assignment_removes_its_extensions(app, client, people, sales_hr, on):
    assignment = assign(app, on, 5)
    client.post(f"/hr/assignments/{assignment}/extensions", data={"person": people["east"][1], "due_on": on + timedelta(days=9)})
    client.post(f"/hr/assignments/{assignment}/withdraw")
    assert extensions(app) == {}
