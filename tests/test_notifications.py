"""Assignments that can be managed, and the people they cover told each time: on their home page and by e-mail."""
from __future__ import annotations

from datetime import date

from conftest import mails_to
from sqlalchemy import select

from courseware.extensions import db
from courseware.models import Assignment, AuditEntry, Notice
from courseware.people.departments import find_or_create

COURSE_ID = "internal-customer-service"
DUE = "2099-06-30"


def only_assignment(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Assignment.id))


def test_assigning_tells_everyone_it_covers_and_only_them(app, client, people, sales_hr, login):
    response = client.post("/hr/assignments", data={"activity": COURSE_ID, "department": sales_hr, "due_on": DUE})
    assert response.status_code == 302
    assert len(mails_to(app, people["east"][1])) == 1 and len(mails_to(app, people["sales"][1])) == 1
    assert mails_to(app, people["plant"][1]) == []
    assert "2099-06-30" in mails_to(app, people["east"][1])[0]

    client.post("/logout")
    login(people["east"][1])
    home = client.get("/").get_data(as_text=True)
    assert "2099-06-30" in home
    with app.app_context():
        notice_id = db.session.scalar(select(Notice.id).where(Notice.user_id == people["east"][0]))
        others = db.session.scalar(select(Notice.id).where(Notice.user_id == people["sales"][0]))
    client.post(f"/notices/{others}/dismiss")  # someone else's notice stays
    client.post(f"/notices/{notice_id}/dismiss")
    with app.app_context():
        assert db.session.get(Notice, notice_id).dismissed_at is not None
        assert db.session.get(Notice, others).dismissed_at is None
    assert f"/notices/{notice_id}/dismiss" not in client.get("/").get_data(as_text=True)


def test_moving_the_due_date_and_withdrawing_are_told_and_audited(app, client, people, sales_hr, login):
    client.post("/hr/assignments", data={"activity": COURSE_ID, "department": sales_hr, "due_on": DUE})
    assignment = only_assignment(app)
    page = client.get("/hr/assignments").get_data(as_text=True)
    assert "<td>0 / 3</td>" in page  # finished, of the people it covers (the HR user works in 销售部 too)

    assert client.post(f"/hr/assignments/{assignment}/due", data={"due_on": "2001-01-01"}).status_code == 302
    with app.app_context():
        assert db.session.get(Assignment, assignment).due_on == date(2099, 6, 30)  # a past date is refused
    client.post(f"/hr/assignments/{assignment}/due", data={"due_on": "2099-09-30"})
    assert "2099-09-30" in mails_to(app, people["sales"][1])[-1]

    client.post(f"/hr/assignments/{assignment}/withdraw")
    with app.app_context():
        assert db.session.get(Assignment, assignment) is None
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert ["assign", "change_due_date", "withdraw_assignment"] == [a for a in actions if "assign" in a or "due" in a]
    assert len(mails_to(app, people["sales"][1])) == 3

    client.post("/logout")
    login(people["sales"][1])
    home = client.get("/").get_data(as_text=True)
    assert "2099-09-30" in home  # the due-date notice stays until dismissed
    assert 'class="card assigned"' not in home  # but the course is no longer assigned


def test_hr_cannot_change_an_assignment_outside_its_departments(app, client, people, sales_hr):
    with app.app_context():
        elsewhere = Assignment(activity_id=COURSE_ID, department_id=find_or_create("生产部").id, due_on=date(2099, 1, 1))
        db.session.add(elsewhere)
        db.session.commit()
        elsewhere_id = elsewhere.id
    assert client.post(f"/hr/assignments/{elsewhere_id}/due", data={"due_on": DUE}).status_code == 404
    assert client.post(f"/hr/assignments/{elsewhere_id}/withdraw").status_code == 404
    assert mails_to(app, people["plant"][1]) == []
