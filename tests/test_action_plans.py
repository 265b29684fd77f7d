"""The personal action plan: made at the end of the course, seen and edited by its author alone,
reviewed after 30 days with one reminder, and counted (never read) by HR."""
from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import get_urls, in_english, mails_to
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from courseware.extensions import db
from courseware.hr.assignments import today
from courseware.learning import action_plans
from courseware.learning.action_plans import PlanInvalid
from courseware.models import ActionPlan, HRScope, Progress, Role, User, utcnow
from courseware.people.departments import find_or_create, tree
from courseware.people.scope import visible_department_ids
from courseware.publishing import live_course, publish

SECRET = "每周五向质检班组长要一次反馈"  # a phrase found nowhere but in the plan


def plan_form(*actions: str, who: str = "质量部 王工", needs: str = "准时的检验记录") -> dict[str, str]:
    """The form as a learner fills it: one customer row and the given actions; the other rows left empty."""
    form = {"customers-0-who": who, "customers-0-needs": needs, "customers-0-feedback": "月底当面问",
            "customers-1-who": "", "customers-1-needs": "", "customers-1-feedback": ""}
    form |= {f"actions-{index}": text for index, text in enumerate(actions)}
    return form


def my_plan(app, user_id: int) -> ActionPlan:
    with app.app_context():
        plan = db.session.scalar(select(ActionPlan).where(ActionPlan.user_id == user_id).order_by(ActionPlan.id.desc()))
        db.session.expunge(plan)
        return plan


@pytest.fixture
def app_config(smtp):
    """A local mail server for the daily reminder command (the plans' reminders go through the outbox)."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[0]}


@pytest.fixture
def clock(app, monkeypatch):
    """Today as the pages and the daily reminder command see it, moved by the test instead of waited for."""

    class Clock:
        on = None

        def advance(self, days: int) -> None:
            self.on += timedelta(days=days)

    fake = Clock()
    with app.app_context():
        fake.on = today()
    monkeypatch.setattr("courseware.hr.assignments.today", lambda: fake.on)
    monkeypatch.setattr("courseware.learning.plans.today", lambda: fake.on)
    monkeypatch.setattr("courseware.hr.reminders.today", lambda: fake.on)
    return fake


def test_make_see_and_edit_a_plan_before_its_review(app, client, trainee, published, clock):
    in_english(client)
    form = client.get("/my/action-plan").get_data(as_text=True)
    assert form.count('name="customers-') == 9 and form.count('name="actions-') == 3  # three rows of each

    saved = client.post("/my/action-plan/edit", data=plan_form(SECRET, "", "交接单加上批次号"), follow_redirects=True)
    page = saved.get_data(as_text=True)
    review_on = (clock.on + timedelta(days=30)).isoformat()
    assert "Your action plan is saved." in page and SECRET in page and "质量部 王工" in page and review_on in page
    assert "css/aids.css" in page and "data-print" in page  # a sheet to print
    plan = my_plan(app, trainee)
    assert plan.actions == [SECRET, "交接单加上批次号"]  # the blank action is left out
    assert plan.customers == [{"who": "质量部 王工", "needs": "准时的检验记录", "feedback": "月底当面问"}]

    clock.advance(10)
    edit = client.get("/my/action-plan/edit").get_data(as_text=True)
    assert SECRET in edit and "交接单加上批次号" in edit
    client.post("/my/action-plan/edit", data=plan_form(SECRET, who="生产部 李班长"), follow_redirects=True)
    with app.app_context():
        plans = db.session.scalars(select(ActionPlan).where(ActionPlan.user_id == trainee)).all()
        assert len(plans) == 1, "editing changes the open plan; it does not start a second"
        assert plans[0].customers[0]["who"] == "生产部 李班长" and plans[0].review_on.isoformat() == review_on


@pytest.mark.parametrize(("actions", "message"), [
    (("", "  ", ""), "Commit to at least one action."),
    (("一", "二", "三", "四"), "Commit to at most 3 actions"),
    (("x" * 301,), "Keep each action under 300 characters."),
])
def test_a_plan_without_actions_or_with_too_many_is_refused_on_the_form(app, client, trainee, published, actions, message):
    in_english(client)
    response = client.post("/my/action-plan/edit", data=plan_form(*actions))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page and 'role="alert"' in page
    assert "质量部 王工" in page  # what was typed stays on the form
    with app.app_context():
        assert db.session.scalar(select(ActionPlan.id)) is None


def test_validation_rules(app):
    rows = [{"who": "财务部", "needs": "", "feedback": ""}]
    with app.app_context():
        assert action_plans.clean(rows + [{"who": " ", "needs": "", "feedback": None}], [" 做一件事 "]) == (rows, ["做一件事"])
        for customers, actions in (
            ([], ["做"]),  # no customer
            ([{"who": "", "needs": "报表", "feedback": ""}], ["做"]),  # a row without who
            (rows * 6, ["做"]),  # more than five customers
            ([{"who": "x" * 121, "needs": "", "feedback": ""}], ["做"]),
            (rows, ["做\x1b"]),  # a control character
        ):
            with pytest.raises(PlanInvalid):
                action_plans.clean(customers, actions)


def test_the_reminder_goes_once_when_30_days_have_passed_and_the_review_is_recorded(app, client, make_user, login, published, clock):
    user_id, email = make_user()
    login(email)
    in_english(client)
    client.post("/my/action-plan/edit", data=plan_form(SECRET, "交接单加上批次号"))
    runner = app.test_cli_runner()

    clock.advance(29)
    assert "nothing to send" in runner.invoke(args=["reminders", "send"]).output
    assert "Record what happened" not in client.get("/").get_data(as_text=True)
    clock.advance(1)
    assert "would send 1 action_plan_review" in runner.invoke(args=["reminders", "send", "--dry-run"]).output
    assert "sent 1 action_plan_review" in runner.invoke(args=["reminders", "send"]).output
    assert "nothing to send" in runner.invoke(args=["reminders", "send"]).output  # once only
    [body] = mails_to(app, email)
    assert "/my/action-plan" in body and SECRET not in body  # the mail holds no word of the plan
    assert my_plan(app, user_id).reminded_at is not None

    home = client.get("/").get_data(as_text=True)
    plan_id = my_plan(app, user_id).id
    assert "time to look back" in home and f"/my/action-plan/{plan_id}/review" in home

    refused = client.post(f"/my/action-plan/{plan_id}/review", data={"done-0": "yes", "outcome": "好"})
    assert "Say for every action whether it is done." in refused.get_data(as_text=True)
    done = client.post(f"/my/action-plan/{plan_id}/review",
                       data={"done-0": "yes", "done-1": "no", "outcome": "班组长说记录清楚多了"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "what happened is recorded" in page and "班组长说记录清楚多了" in page
    plan = my_plan(app, user_id)
    assert plan.reviewed_at is not None and plan.actions_done == [True, False]
    again = client.post(f"/my/action-plan/{plan_id}/review", data={"done-0": "no", "done-1": "no"})
    assert again.status_code == 302 and my_plan(app, user_id).actions_done == [True, False]  # reviewed once
    assert "time to look back" not in client.get("/").get_data(as_text=True)

    client.post("/my/action-plan/edit", data=plan_form("新的一项"))  # after the review, a new plan
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ActionPlan.id)).where(ActionPlan.user_id == user_id)) == 2


def test_a_learner_has_one_open_plan_at_a_time_and_saving_edits_it(app, make_user, published):
    user_id, _email = make_user()
    with app.app_context():
        on = today()
        db.session.add(ActionPlan(user_id=user_id, customers=[{"who": "甲"}], actions=["一"], review_on=on))
        db.session.commit()
        with pytest.raises(IntegrityError):  # the unique index refuses a second open plan
            db.session.add(ActionPlan(user_id=user_id, customers=[{"who": "乙"}], actions=["二"], review_on=on))
            db.session.commit()
        db.session.rollback()
        plan = action_plans.save(user_id, [{"who": "丙"}], ["三"], on)
        assert plan.customers == [{"who": "丙", "needs": "", "feedback": ""}]
        assert db.session.scalar(select(db.func.count(ActionPlan.id))) == 1


def test_hr_sees_counts_per_department_and_never_the_text(app, client, make_user, login, published, clock):
    sales_id, sales = make_user(department="销售部/华东区")
    _plant_id, plant = make_user(department="生产部")
    make_user(department="销售部")  # made no plan
    hr_id, hr = make_user(Role.HR, department="销售部")
    for email in (sales, plant):
        login(email)
        client.post("/my/action-plan/edit", data=plan_form(SECRET))
        client.post("/logout")
    login(sales)
    plan_id = my_plan(app, sales_id).id
    client.post(f"/my/action-plan/{plan_id}/review", data={"done-0": "yes", "outcome": SECRET + "，做到了"})
    client.post("/logout")
    with app.app_context():
        db.session.add(HRScope(user_id=hr_id, department_id=find_or_create("销售部").id))
        db.session.commit()
        rows, total = action_plans.counts_by_department(*_scope(hr_id))
        assert [(row.node.path, row.learners, row.made, row.reviewed) for row in rows] == [
            ("销售部", 3, 1, 1), ("销售部 › 华东区", 1, 1, 1),
        ]
        assert (total.learners, total.made, total.reviewed) == (3, 1, 1)  # 生产部 is outside this HR's scope

    login(hr)
    in_english(client)
    dashboard = client.get("/hr/").get_data(as_text=True)
    assert "1 of 3 learners made a plan; 1 reviewed it." in dashboard
    values = {"user_id": str(sales_id), "plan_id": str(plan_id), "fmt": "csv"}
    seen = 0
    for endpoint, url in get_urls(app, values):
        response = client.get(url)
        body = response.get_data()
        assert SECRET.encode() not in body, f"{endpoint} shows the plan"
        seen += response.status_code == 200
    assert seen > 10
    assert client.get(f"/my/action-plan/{plan_id}").status_code == 404  # HR's own plan page is their own


def _scope(hr_id):
    nodes = tree()
    return nodes, visible_department_ids(nodes, db.session.get(User, hr_id))


def test_another_learner_finds_nothing_of_someone_elses_plan(app, client, make_user, login, published):
    owner_id, owner = make_user()
    _, other = make_user()
    login(owner)
    client.post("/my/action-plan/edit", data=plan_form(SECRET))
    client.post("/logout")
    plan_id = my_plan(app, owner_id).id
    login(other)
    assert client.get(f"/my/action-plan/{plan_id}").status_code == 404
    assert client.get(f"/my/action-plan/{plan_id}/review").status_code == 404
    assert client.post(f"/my/action-plan/{plan_id}/review", data={"done-0": "yes"}).status_code == 404
    assert SECRET not in client.get("/my/action-plan").get_data(as_text=True)
    assert my_plan(app, owner_id).reviewed_at is None


def test_the_privacy_export_holds_the_learners_plans(app, client, make_user, login, published):
    owner_id, owner = make_user()
    _, admin = make_user(Role.ADMIN)
    login(owner)
    client.post("/my/action-plan/edit", data=plan_form(SECRET))
    client.post("/logout")
    login(admin)
    export = client.get(f"/admin/users/{owner_id}/export.json").get_json()
    [plan] = export["action_plans"]
    assert plan["actions"] == [SECRET] and plan["customers"][0]["who"] == "质量部 王工"
    assert "user_id" not in plan


MAP_AID = """---
id: internal-customer-map
title: 内部客户地图工作表
order: 1
---

| 内部客户 | 需求 |
| --- | --- |
"""


def test_the_course_end_and_the_map_aid_lead_to_the_plan(app, client, trainee, course_sources, clock):
    with app.app_context():
        revision = publish(course_sources | {"lessons/aids/01-map.md": MAP_AID.encode()}).revision.id
        course_id = live_course().course.id
    in_english(client)
    assert "/my/action-plan" in client.get("/aids/internal-customer-map").get_data(as_text=True)
    assert "Make my action plan" not in client.get("/").get_data(as_text=True)  # not before the course is done
    assert "/my/action-plan" not in client.get("/progress").get_data(as_text=True)
    with app.app_context():  # as records.py writes it when the final assessment completes the course
        db.session.add(Progress(user_id=trainee, activity_id=course_id, kind="course", status="completed",
                                revision_id=revision, completed_at=utcnow()))
        db.session.commit()
    assert "Make my action plan" in client.get("/").get_data(as_text=True)
    assert "/my/action-plan" in client.get("/progress").get_data(as_text=True)
    client.post("/my/action-plan/edit", data=plan_form(SECRET))
    home = client.get("/").get_data(as_text=True)
    assert "Make my action plan" not in home and (clock.on + timedelta(days=30)).isoformat() in home
