"""Learner records as xAPI 1.0.3 statements, checked against the statement rules of the spec."""
from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime

import pytest
from conftest import PASSWORD, pass_quiz, play_model_path

from courseware.models import Role
from courseware.publishing import live_course

IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")
ADL_VERBS = {f"http://adlnet.gov/expapi/verbs/{v}" for v in (
    "experienced", "attempted", "answered", "responded", "passed", "failed", "completed",
    "launched", "initialized", "terminated", "progressed", "scored", "interacted",
)}


def check_statement(s: dict) -> None:
    """Assert the xAPI 1.0.3 rules a conformant LRS enforces for the properties we send."""
    assert set(s) <= {"id", "actor", "verb", "object", "result", "context", "timestamp", "version", "stored", "authority", "attachments"}
    assert str(uuid.UUID(s["id"])) == s["id"]
    actor = s["actor"]
    assert actor["objectType"] == "Agent"
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    assert len(ifis) == 1, "an Agent has exactly one inverse functional identifier"
    if "mbox" in actor:
        assert re.fullmatch(r"mailto:[^@\s]+@[^@\s]+", actor["mbox"])
    else:
        assert set(actor["account"]) == {"homePage", "name"} and IRI.match(actor["account"]["homePage"])
    assert s["verb"]["id"] in ADL_VERBS and isinstance(s["verb"]["display"], dict)
    obj = s["object"]
    assert obj["objectType"] == "Activity" and IRI.match(obj["id"])
    assert IRI.match(obj["definition"]["type"])
    timestamp = datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00"))
    assert timestamp.tzinfo is not None
    if "result" in s:
        result = s["result"]
        assert set(result) <= {"score", "success", "completion", "response", "duration", "extensions"}
        if "score" in result:
            score = result["score"]
            if "scaled" in score:
                assert -1 <= score["scaled"] <= 1
            if "raw" in score and "min" in score:
                assert score["min"] <= score["raw"] <= score["max"]
        if "response" in result:
            assert isinstance(result["response"], str)
        for key in result.get("extensions", {}):
            assert IRI.match(key)
    context = s.get("context", {})
    if "registration" in context:
        uuid.UUID(context["registration"])
    for key in context.get("extensions", {}):
        assert IRI.match(key)
    for activities in context.get("contextActivities", {}).values():
        assert all(IRI.match(a["id"]) for a in activities)


@pytest.fixture
def activity(client, make_user, login, published, app):
    """A learner reads a lesson, passes a quiz and plays a role-play; returns their email."""
    _, email = make_user(department="销售部")
    login(email)
    with app.test_request_context():
        course = live_course().course
    client.post("/lessons/ic-definition/complete")
    pass_quiz(client, course.quiz("quiz-why-it-matters"))
    play_model_path(client, course.scenario("scenario-rush-order"))
    client.post("/logout")
    return email


def basic(email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_every_statement_is_valid_xapi(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    response = client.get("/xapi/statements?limit=500", headers=basic(hr_email))
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    statements = response.get_json()["statements"]
    verbs = {s["verb"]["id"].rsplit("/", 1)[1] for s in statements}
    assert {"experienced", "completed", "attempted", "answered", "passed", "responded"} <= verbs
    for s in statements:
        check_statement(s)
    ids = [s["id"] for s in statements]
    again = client.get("/xapi/statements?limit=500", headers=basic(hr_email)).get_json()["statements"]
    assert [s["id"] for s in again] == ids  # statement ids are stable


def test_filters_and_the_more_link_walk_every_statement(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    everything = client.get("/xapi/statements?limit=500", headers=basic(hr_email)).get_json()["statements"]
    seen, url = [], "/xapi/statements?limit=7"
    while url:
        page = client.get(url, headers=basic(hr_email)).get_json()
        assert len(page["statements"]) <= 7
        seen += page["statements"]
        url = page["more"]
    assert [s["id"] for s in seen] == [s["id"] for s in everything]

    agent = json.dumps({"mbox": f"mailto:{activity}"})
    passed = client.get("/xapi/statements", query_string={"agent": agent, "verb": "http://adlnet.gov/expapi/verbs/passed"},
                        headers=basic(hr_email)).get_json()["statements"]
    assert len(passed) == 1 and passed[0]["result"]["score"]["scaled"] == 1.0
    later = client.get("/xapi/statements", query_string={"since": "2999-01-01T00:00:00Z"}, headers=basic(hr_email))
    assert later.get_json()["statements"] == []
    assert client.get("/xapi/statements?since=yesterday", headers=basic(hr_email)).status_code == 400


def test_the_statements_resource_needs_hr_credentials(client, activity, make_user):
    assert client.get("/xapi/statements").status_code == 401
    assert client.get("/xapi/statements", headers=basic(activity)).status_code == 403  # a learner
    _, hr_email = make_user(Role.HR)
    assert client.get("/xapi/statements", headers=basic(hr_email, "wrong")).status_code == 401


def test_hr_export_is_a_json_array_of_valid_statements(client, activity, make_user, login):
    _, hr_email = make_user(Role.HR)
    login(hr_email)
    response = client.get("/hr/xapi.json?verb=answered")
    statements = json.loads(response.get_data())
    assert statements and all(s["verb"]["id"].endswith("/answered") for s in statements)
    for s in statements:
        check_statement(s)


@pytest.mark.parametrize("agent", ['{"mbox": 5}', '{"mbox": ["mailto:a@example.com"]}', "[1]", "5", "null",
                                   '{"account": {"name": "x", "homePage": "https://example.com"}}'])
def test_an_agent_without_an_mbox_string_gets_400_and_says_why(client, make_user, agent):
    _, hr_email = make_user(Role.HR)
    response = client.get("/xapi/statements", query_string={"agent": agent}, headers=basic(hr_email))
    assert response.status_code == 400
    assert "agent must be an Agent with an mbox" in response.get_data(as_text=True)


def test_an_agent_may_be_a_plain_email(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    statements = client.get("/xapi/statements", query_string={"agent": activity.upper(), "limit": 500},
                            headers=basic(hr_email)).get_json()["statements"]
    assert statements and {s["actor"]["mbox"] for s in statements} == {f"mailto:{activity}"}


@pytest.mark.parametrize("query", [
    {"since": "0001-01-01T00:00:00+14:00"}, {"until": "9999-12-31T23:59:59-14:00"},
    {"since": "1899-12-31"}, {"until": "9999-01-01T00:00:00Z"},
])
def test_a_timestamp_past_the_calendars_edge_gets_400_and_says_why(client, make_user, login, query):
    _, hr_email = make_user(Role.HR)
    response = client.get("/xapi/statements", query_string=query, headers=basic(hr_email))
    assert response.status_code == 400 and "timestamp out of range" in response.get_data(as_text=True)
    login(hr_email)
    assert client.get("/hr/xapi.json", query_string=query).status_code == 400
