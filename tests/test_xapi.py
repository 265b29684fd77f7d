"""Learner records as xAPI 1.0.3 statements, checked against the statement rules of the spec."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import datetime

import pytest
from conftest import PASSWORD, pass_quiz, play_model_path
from sqlalchemy import select

from courseware.extensions import db
from courseware.models import HRScope, LearningRecord, Role, User
from courseware.people.departments import find_or_create
from courseware.publishing import live_course
from courseware.statements import ANSWERS_IN_ATTEMPT, Answered, expand, expands

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
    """The headers of an LRS client: HTTP Basic and the xAPI version."""
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode(),
            "X-Experience-API-Version": "1.0.3"}


def test_every_statement_is_valid_xapi(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    response = client.get("/xapi/statements?limit=500", headers=basic(hr_email))
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    statements = response.get_json()["statements"]
    verbs = {s["verb"]["id"].rsplit("/", 1)[1] for s in statements}
    assert {"experienced", "completed", "attempted", "answered", "passed", "responded"} <= verbs
    for s in statements:
        check_statement(s)
        assert s["stored"] == s["timestamp"] and s["authority"]["account"]["name"] == "courseware"
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
    assert re.fullmatch(r"PT\d+\.\d\dS", passed[0]["result"]["duration"])  # from the attempt's start
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
                                   '{"account": {"name": 5, "homePage": "https://example.com"}}', '{"mbox_sha1sum": 5}'])
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


def _ids(client, hr_email, **query) -> list[str]:
    response = client.get("/xapi/statements", query_string={"limit": 500, **query}, headers=basic(hr_email))
    assert response.status_code == 200, response.get_json()
    return [s["id"] for s in response.get_json()["statements"]]


@pytest.mark.parametrize(("headers", "query", "status"), [
    ({}, {}, 401),
    ({"X-Experience-API-Version": "1.0.3"}, {"colour": "red"}, 400),
    ({"X-Experience-API-Version": "0.95"}, {}, 400),
    ({"X-Experience-API-Version": "1.1.0"}, {}, 400),
    ({"X-Experience-API-Version": "1.0.3"}, {"statementId": str(uuid.uuid4())}, 404),
    ({"X-Experience-API-Version": "1.0.3"}, {"voidedStatementId": str(uuid.uuid4())}, 404),
    ({"X-Experience-API-Version": "1.0.3"}, {"statementId": "not-a-uuid"}, 400),
    ({"X-Experience-API-Version": "1.0.3"}, {"statementId": str(uuid.uuid4()), "verb": "passed"}, 400),
    ({"X-Experience-API-Version": "1.0.3"}, {"format": "pretty"}, 400),
    ({"X-Experience-API-Version": "1.0.3"}, {"ascending": "maybe"}, 400),
    ({"X-Experience-API-Version": "1.0.3"}, {"registration": "x"}, 400),
])
def test_every_answer_carries_the_version_and_errors_say_why_in_json(client, make_user, headers, query, status):
    _, hr_email = make_user(Role.HR)
    auth = {"Authorization": basic(hr_email)["Authorization"]} if status != 401 else {}
    response = client.get("/xapi/statements", query_string=query, headers=headers | auth)
    assert response.status_code == status
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert response.get_json()["error"] == status and response.get_json()["message"]


def test_a_learner_is_refused_in_json_with_the_version(client, activity):
    response = client.get("/xapi/statements", headers=basic(activity))
    assert response.status_code == 403 and response.headers["X-Experience-API-Version"] == "1.0.3"
    assert response.get_json()["error"] == 403


def test_the_version_header_is_required_unless_the_operator_relaxes_it(app, client, make_user):
    _, hr_email = make_user(Role.HR)
    without = {"Authorization": basic(hr_email)["Authorization"]}
    assert client.get("/xapi/statements", headers=without).status_code == 400
    assert client.get("/xapi/statements", headers=without | {"X-Experience-API-Version": "1.0.0"}).status_code == 200
    app.config["XAPI_REQUIRE_VERSION"] = False
    assert client.get("/xapi/statements", headers=without).status_code == 200


def test_about_is_public_and_names_the_version(client):
    response = client.get("/xapi/about")
    assert response.status_code == 200 and response.get_json()["version"] == ["1.0.3"]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_one_statement_by_id_and_only_within_hr_scope(app, client, activity, make_user):
    hr_id, hr_email = make_user(Role.HR)
    first = client.get("/xapi/statements?limit=1", headers=basic(hr_email)).get_json()["statements"][0]
    response = client.get("/xapi/statements", query_string={"statementId": first["id"]}, headers=basic(hr_email))
    assert response.status_code == 200 and response.get_json() == first
    ids = client.get("/xapi/statements", query_string={"statementId": first["id"], "format": "ids"},
                     headers=basic(hr_email)).get_json()
    assert ids["actor"] == {"objectType": "Agent", "mbox": first["actor"]["mbox"]} and "definition" not in ids["object"]
    with app.app_context():
        db.session.add(HRScope(user_id=hr_id, department_id=find_or_create("生产部").id))
        db.session.commit()
    response = client.get("/xapi/statements", query_string={"statementId": first["id"]}, headers=basic(hr_email))
    assert response.status_code == 404  # another department's statement is not found


def test_newest_first_unless_ascending_and_consistent_through_is_sent(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    newest_first = _ids(client, hr_email)
    assert _ids(client, hr_email, ascending="true") == newest_first[::-1]
    assert _ids(client, hr_email, ascending="True") == newest_first[::-1]  # as tincan sends a Python bool
    response = client.get("/xapi/statements", headers=basic(hr_email))
    through = datetime.fromisoformat(response.headers["X-Experience-API-Consistent-Through"].replace("Z", "+00:00"))
    assert through.tzinfo is not None
    seen, url = [], "/xapi/statements?limit=3&ascending=true"
    while url:
        page = client.get(url, headers=basic(hr_email)).get_json()
        seen += [s["id"] for s in page["statements"]]
        url = page["more"]
    assert seen == newest_first[::-1]


def test_an_agent_by_account_or_mbox_sha1sum(app, client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    theirs = _ids(client, hr_email, agent=json.dumps({"mbox": f"mailto:{activity}"}))
    assert theirs
    sha1 = hashlib.sha1(f"mailto:{activity}".encode()).hexdigest()
    assert _ids(client, hr_email, agent=json.dumps({"mbox_sha1sum": sha1})) == theirs
    assert _ids(client, hr_email, agent=json.dumps({"mbox_sha1sum": "0" * 40})) == []
    with app.app_context():
        db.session.scalar(db.select(User).where(User.email == activity)).employee_id = "E1001"
        db.session.commit()
        home = app.config["PUBLIC_URL"]
    assert _ids(client, hr_email, agent=json.dumps({"account": {"homePage": home, "name": "E1001"}})) == theirs
    assert _ids(client, hr_email, agent=json.dumps({"account": {"homePage": "https://elsewhere.example", "name": "E1001"}})) == []


def test_activity_related_activities_and_registration(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    everything = client.get("/xapi/statements?limit=500", headers=basic(hr_email)).get_json()["statements"]
    quiz = next(s for s in everything if s["object"]["id"].startswith("urn:courseware:quiz:"))["object"]["id"]
    on_quiz = _ids(client, hr_email, activity=quiz)
    assert on_quiz and all(s["object"]["id"] == quiz for s in everything if s["id"] in on_quiz)
    related = _ids(client, hr_email, activity=quiz, related_activities="true")
    questions = [s for s in everything if s["context"]["contextActivities"].get("parent") == [{"objectType": "Activity", "id": quiz}]]
    assert questions and set(related) == set(on_quiz) | {s["id"] for s in questions}
    course = everything[0]["context"]["contextActivities"]["grouping"][0]["id"]
    assert _ids(client, hr_email, activity=course, related_activities="true") == [s["id"] for s in everything]
    registration = questions[0]["context"]["registration"]
    in_attempt = _ids(client, hr_email, registration=registration)
    assert set(in_attempt) == {s["id"] for s in everything if s.get("context", {}).get("registration") == registration}
    assert _ids(client, hr_email, registration=str(uuid.uuid4())) == []


def test_the_export_takes_http_basic_too(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    response = client.get("/hr/xapi.json?verb=passed", headers=basic(hr_email))
    [passed] = json.loads(response.get_data())
    assert response.status_code == 200 and passed["result"]["duration"].startswith("PT")
    assert client.get("/hr/xapi.json", headers=basic(hr_email, "wrong")).status_code == 401
    assert client.get("/hr/xapi.json", headers=basic(activity)).status_code == 403
    assert client.get("/hr/xapi.json").status_code == 302  # a browser without a session logs in


PATTERNS = {  # the response patterns of xAPI 1.0.3 for each interaction type we send
    "choice": r"[^\[\]]+(\[,\][^\[\]]+)*", "sequencing": r"[^\[\]]+(\[,\][^\[\]]+)*", "true-false": r"true|false",
    "matching": r"[^\[\]]+\[\.\][^\[\]]+(\[,\][^\[\]]+\[\.\][^\[\]]+)*", "fill-in": r"(\{case_matters=false\})?.*",
}


def test_question_statements_describe_the_interaction_and_name_their_quiz(client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    everything = client.get("/xapi/statements?limit=500", headers=basic(hr_email)).get_json()["statements"]
    answered = [s for s in everything if s["verb"]["id"].endswith("/answered")]
    assert answered
    for s in answered:
        definition = s["object"]["definition"]
        pattern = PATTERNS[definition["interactionType"]]
        assert definition["description"]["zh-CN"] and definition["correctResponsesPattern"]
        assert all(re.fullmatch(pattern, p) for p in definition["correctResponsesPattern"])
        assert re.fullmatch(pattern, s["result"]["response"]) and s["result"]["response"] != "null"
        [parent] = s["context"]["contextActivities"]["parent"]
        assert parent["id"] == "urn:courseware:quiz:" + s["object"]["id"].removeprefix("urn:courseware:question:").split("/")[0]
    assert any(s["object"]["definition"].get("name", {}).get("zh-CN") for s in everything if "quiz:" in s["object"]["id"])


def _walk(client, hr_email, url: str) -> list[dict]:
    seen = []
    while url:
        page = client.get(url, headers=basic(hr_email)).get_json()
        seen += page["statements"]
        url = page["more"]
    return seen


def test_each_answer_is_found_by_its_id_its_question_and_its_verb(app, client, activity, make_user):
    hr_id, hr_email = make_user(Role.HR)
    everything = client.get("/xapi/statements?limit=500", headers=basic(hr_email)).get_json()["statements"]
    answered = [s for s in everything if s["verb"]["id"].endswith("/answered")]
    assert len(answered) > 2 and len({s["id"] for s in answered}) == len(answered)
    for s in answered:
        one = client.get("/xapi/statements", query_string={"statementId": s["id"]}, headers=basic(hr_email))
        assert one.status_code == 200 and one.get_json() == s
        assert _ids(client, hr_email, activity=s["object"]["id"]) == [s["id"]]
    assert _walk(client, hr_email, "/xapi/statements?verb=answered&limit=2") == answered
    assert _walk(client, hr_email, "/xapi/statements?verb=answered&limit=2&ascending=true") == answered[::-1]
    for forged in (answered[0]["id"][:-4] + "ffff", answered[0]["id"][:-8] + "0000" + answered[0]["id"][-4:]):
        response = client.get("/xapi/statements", query_string={"statementId": forged}, headers=basic(hr_email))
        assert response.status_code == 404  # the form of an answer's id, but no question of a result there
    with app.app_context():
        db.session.add(HRScope(user_id=hr_id, department_id=find_or_create("生产部").id))
        db.session.commit()
    response = client.get("/xapi/statements", query_string={"statementId": answered[0]["id"]}, headers=basic(hr_email))
    assert response.status_code == 404


def test_results_recorded_before_answers_were_derived_read_the_same(app, client, activity, make_user):
    _, hr_email = make_user(Role.HR)
    before = _walk(client, hr_email, "/xapi/statements?limit=4")
    with app.test_request_context():  # as earlier releases wrote them: a record per answer, a result without the mark
        rows = db.session.execute(select(LearningRecord, User).join(User)).all()
        for entry, person, _position in expand(rows):
            if isinstance(entry, Answered):
                db.session.add(LearningRecord(
                    statement_id=entry.statement_id, idempotency_key=f"answered:{entry.attempt_id}:{entry.question_id}",
                    user_id=person.id, verb=entry.verb, object_id=entry.object_id, object_kind=entry.object_kind,
                    revision_id=entry.revision_id, attempt_id=entry.attempt_id, result=entry.result,
                    timestamp=entry.timestamp))
        for record, _person in rows:
            if expands(record):
                record.result = {key: value for key, value in record.result.items() if key != ANSWERS_IN_ATTEMPT}
        db.session.commit()
    after = _walk(client, hr_email, "/xapi/statements?limit=4")
    assert len(after) == len(before) and sorted(after, key=lambda s: s["id"]) == sorted(before, key=lambda s: s["id"])


def test_a_blank_answer_has_no_response(app, published):
    from courseware.statements import _result
    with app.test_request_context():
        question = live_course().course.quizzes[0].questions[0]
    assert "response" not in _result({"response": None, "success": False}, question)
    assert "response" not in _result({"response": None})
