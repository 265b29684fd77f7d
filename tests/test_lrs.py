"""Forwarding every learner statement to the company's LRS: a real Ralph on 127.0.0.1 (tests/ralph_server.py)."""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
import requests
from conftest import pass_quiz
from ralph_server import PASSWORD, USERNAME, running_ralph
from sqlalchemy import select, update

from courseware.extensions import db
from courseware.models import LearningRecord, OutboxMessage, Role, User, utcnow
from courseware.outbox import lrs
from courseware.outbox import queue as outbox
from courseware.publishing import live_course
from courseware.statements import expand

EPOCH = "2000-01-01"


@pytest.fixture(scope="module")
def ralph(tmp_path_factory):
    with running_ralph(tmp_path_factory.mktemp("ralph")) as running:
        yield running


@pytest.fixture
def app_config(ralph):
    return {"XAPI_LRS_URL": ralph.url, "XAPI_LRS_USERNAME": USERNAME, "XAPI_LRS_PASSWORD": PASSWORD}


def in_lrs(ralph, email: str) -> dict[str, dict]:
    """Every statement Ralph holds about the learner with this email, by id (following `more`)."""
    found: dict[str, dict] = {}
    url, params = ralph.url + "/statements", {"agent": f'{{"mbox": "mailto:{email}"}}', "limit": 500}
    while url:
        answer = requests.get(url, params=params, auth=(USERNAME, PASSWORD),
                              headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        for statement in body["statements"]:
            assert statement["id"] not in found, "Ralph holds a statement twice"
            found[statement["id"]] = statement
        url, params = (f"http://{urlsplit(ralph.url).netloc}{body['more']}" if body.get("more") else ""), None
    return found


def learn(app, client, make_user, login) -> tuple[int, str]:
    """A learner (with an address of their own: one Ralph serves every test) completes a lesson and passes a quiz."""
    user_id, email = make_user(email=f"lrs-{uuid.uuid4().hex[:12]}@example.com")
    login(email)
    with app.test_request_context():
        course = live_course().course
    assert client.post("/lessons/ic-definition/complete").status_code == 302
    assert pass_quiz(client, course.quiz("quiz-why-it-matters")).status_code == 200
    client.post("/logout")
    return user_id, email


def records(app, user_id: int) -> dict[str, str]:
    """{statement id: verb} of every statement the learner's records stand for."""
    with app.app_context():
        rows = db.session.execute(select(LearningRecord, User).join(User).where(LearningRecord.user_id == user_id)).all()
        return {entry.statement_id: entry.verb for entry, _person, _position in expand(rows)}


def record_ids(app, user_id: int) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(LearningRecord.statement_id).where(LearningRecord.user_id == user_id)))


def lrs_messages(app) -> list[list[str]]:
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == lrs.KIND)
                                      .order_by(OutboxMessage.id)).all()
        return [lrs.statement_ids(message) for message in messages]


def send(app) -> dict[str, int]:
    with app.test_request_context():
        return outbox.send_due()


def forward_again(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["xapi", "forward", "--since", EPOCH])
    assert result.exit_code == 0 and "queued" in result.output, result.output


def make_due(app) -> None:
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_a_learners_statements_reach_the_lrs_once(app, client, make_user, login, published, ralph):
    user_id, email = learn(app, client, make_user, login)
    recorded = records(app, user_id)
    messages = lrs_messages(app)
    assert sorted(i for ids in messages for i in ids) == record_ids(app, user_id)  # each record queued once
    answered = {i for i, verb in recorded.items() if verb == "answered"}
    passed = next(i for i, verb in recorded.items() if verb == "passed")
    assert len(answered) > 1 and any(passed in ids for ids in messages)

    assert send(app) == {"sent": len(messages), "failed": 0, "given_up": 0}
    stored = in_lrs(ralph, email)
    assert {i: s["verb"]["id"].rsplit("/", 1)[1] for i, s in stored.items()} == recorded
    assert {s["actor"]["mbox"] for s in stored.values()} == {f"mailto:{email}"}
    assert send(app) == {"sent": 0, "failed": 0, "given_up": 0}

    # Sent again (a backfill over the same days, a retry after a lost answer): the LRS keeps one of each,
    # also when the statement reads differently now (the learner was renamed): Ralph answers 409 to the batch.
    forward_again(app)
    with app.app_context():  # HR's count of what waits includes each quiz result's answers, as the live queue's does
        assert lrs.backlog().waiting == len(recorded)
        db.session.get(User, user_id).name = "改名后"
        db.session.commit()
    forward_again(app)
    again = lrs_messages(app)[len(messages):]
    assert send(app) == {"sent": len(again), "failed": 0, "given_up": 0}
    assert in_lrs(ralph, email).keys() == stored.keys()


@pytest.mark.parametrize("app_config", [{}])
def test_without_an_lrs_nothing_is_queued(app, client, make_user, login, published):
    learn(app, client, make_user, login)
    assert lrs_messages(app) == []
    result = app.test_cli_runner().invoke(args=["xapi", "forward", "--since", EPOCH])
    assert result.exit_code != 0 and "XAPI_LRS_URL is not set" in result.output


def test_while_the_lrs_is_down_learners_wait_for_nothing_and_hr_sees_why(
        app, client, make_user, login, published, ralph, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a learner's request went to the network")

    ralph.stop()
    try:
        with monkeypatch.context() as guard:
            guard.setattr(requests.Session, "request", no_network)
            user_id, email = learn(app, client, make_user, login)
        waiting = len(records(app, user_id))
        messages = len(lrs_messages(app))
        assert send(app) == {"sent": 0, "failed": messages, "given_up": 0}

        _, hr_email = make_user(Role.HR)
        login(hr_email)
        page = client.get("/hr/lrs").get_data(as_text=True)
        assert f"<td>{waiting} · " in page and "ConnectionError: no answer from 127.0.0.1" in page
        assert "/hr/lrs" in client.get("/hr/learners").get_data(as_text=True)
        assert send(app) == {"sent": 0, "failed": 0, "given_up": 0}  # not due before its back-off
    finally:
        ralph.start()
    make_due(app)
    assert send(app) == {"sent": messages, "failed": 0, "given_up": 0}
    assert len(in_lrs(ralph, email)) == waiting
    page = client.get("/hr/lrs").get_data(as_text=True)
    assert "<td>0</td>" in page and "ConnectionError" not in page


def test_a_statement_the_lrs_refuses_is_given_up_until_hr_sends_it_again(
        app, client, make_user, login, published, ralph, monkeypatch):
    user_id, email = learn(app, client, make_user, login)
    recorded = records(app, user_id)
    answered = [i for i, verb in recorded.items() if verb == "answered"]
    passed = next(i for i, verb in recorded.items() if verb == "passed")
    refused = answered[0]  # one of the statements the quiz's result stands for
    messages = lrs_messages(app)
    with monkeypatch.context() as broken:  # one statement the LRS cannot accept: it lacks its verb
        shaped = lrs._for_lrs
        broken.setattr(lrs, "_for_lrs", lambda data: {
            key: value for key, value in shaped(data).items() if key != "verb" or data["id"] != refused})
        assert send(app) == {"sent": len(messages) - 1, "failed": 0, "given_up": 1}
    assert in_lrs(ralph, email).keys() == recorded.keys() - {refused}

    _, hr_email = make_user(Role.HR)
    login(hr_email)
    page = client.get("/hr/lrs").get_data(as_text=True)
    given_up = next(len(ids) for ids in messages if passed in ids) + len(answered)  # the submit's statements
    assert "HTTP 422" in page and f"已放弃 {given_up} 条语句" in page and "重新发送" in page
    client.post("/hr/lrs/send-again")
    assert send(app) == {"sent": 1, "failed": 0, "given_up": 0}
    assert in_lrs(ralph, email).keys() == recorded.keys()
    assert "已放弃" not in client.get("/hr/lrs").get_data(as_text=True)


def test_a_company_connecting_its_lrs_later_sends_what_was_recorded_before(
        app, client, make_user, login, published, ralph):
    url = app.config["XAPI_LRS_URL"]
    app.config["XAPI_LRS_URL"] = ""
    user_id, email = learn(app, client, make_user, login)
    assert lrs_messages(app) == []
    app.config["XAPI_LRS_URL"] = url
    forward_again(app)
    send(app)
    assert in_lrs(ralph, email).keys() == records(app, user_id).keys()
    output = app.test_cli_runner().invoke(args=["outbox", "send"]).output
    assert "LRS: 0 statements waiting, 0 given up, last delivery" in output
