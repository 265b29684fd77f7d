"""Every route, tried by every kind of visitor, against the one access table in courseware/access.py."""
from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

from courseware.access import AUDIENCE, ROUTES, access_table
from courseware.models import Role

from conftest import ROOT, pass_quiz

SAMPLE = {"integer": "1", "path": "lessons/course.md", "default": "x"}
HOSTILE_IDS = (str(2**64), str(10**30), "٣")
HOSTILE_SEGMENTS = ("a%00b", "x" * 300, "٣٤")
HOSTILE_QUERIES = (  # every parameter a view reads from the query string (grep request.args), at its worst
    f"page={10**30}&cursor={10**30}&limit={10**30}&department={10**30}&assignment={10**30}",
    "page=-1&cursor=-1&limit=-1&department=-1&assignment=-1&fresh=-1&draft=-1",
    "page=٣&cursor=٣&limit=٣&department=٣&assignment=٣&from=٣&to=²",
    "since=0001-01-01&until=9999-12-31&from=0001-01-01&to=9999-12-31&start=0001-01-01&end=9999-12-31",
    "since=0001-01-01T00:00:00%2B14:00&until=9999-12-31T23:59:59-14:00&from=9999-12-31&to=0001-01-01",
    "since=garbage&until=garbage&from=garbage&to=garbage&status=garbage&verb=garbage&agent=garbage&q=%E2%80%AE",
    'agent={"mbox":5}', "agent=[1]", "agent=5",
    "q=%00", "next=%00",
    "q=" + "x" * 300 + "&next=//" + "x" * 300 + "&verb=" + "x" * 300,
)


def _kind(rule, argument: str) -> str:
    converter = rule._converters[argument]
    if isinstance(converter, IntegerConverter):
        return "integer"
    return type(converter).__name__.removesuffix("Converter").lower()


def _url(rule, values: dict[str, str] | None = None) -> str:
    """The rule's URL, each argument taken from `values` or else a sample of its kind."""
    url = rule.rule
    for argument in rule.arguments:
        value = (values or {}).get(argument) or SAMPLE.get(_kind(rule, argument), SAMPLE["default"])
        url = re.sub(rf"<(?:[a-z]+:)?{argument}>", lambda _match: value, url)
    return url


def _routes(app):
    """(endpoint, method, a URL for it) for every route the app serves."""
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, _url(rule)


def _hostile_requests(app, real: dict[str, str]):
    """(method, URL, status it must get or None for any below 500), with a malformed value in every place one fits."""
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for argument in rule.arguments:
            integer = _kind(rule, argument) == "integer"
            for value in HOSTILE_IDS if integer else HOSTILE_SEGMENTS:
                expected = 404 if integer else 400 if "%00" in value else None
                for method in methods:
                    yield method, _url(rule, real | {argument: value}), expected
        if "GET" in methods:
            for query in HOSTILE_QUERIES:
                yield "GET", f"{_url(rule, real)}?{query}", 400 if "%00" in query else None


def _sent_to_log_in(response) -> bool:
    return response.status_code == 401 or (response.status_code == 302 and response.location.startswith("/login"))


def test_every_route_has_exactly_one_entry_in_the_access_table(app):
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert served - ROUTES.keys() == set(), "routes nobody has decided access for: add them to ROUTES"
    assert ROUTES.keys() - served == set(), "ROUTES names routes that no longer exist"


def test_a_route_missing_from_the_table_is_refused(app, client, make_user, login):
    @app.get("/forgotten")
    def forgotten():
        return "open to all"

    login(make_user(Role.ADMIN)[1])
    assert client.get("/forgotten").status_code == 403


def test_every_route_lets_in_exactly_who_the_table_says(app, client, published, make_user, login):
    routes = [route for route in _routes(app) if route[0] != "static"]
    assert len(routes) > 60
    for endpoint, method, url in routes:
        response = client.open(url, method=method)
        response.close()  # as a browser that stops a download does
        if ROUTES[endpoint].allows(None):
            assert not _sent_to_log_in(response) and response.status_code < 500, f"anonymous {method} {url}"
        else:
            assert _sent_to_log_in(response), f"anonymous {method} {url} → {response.status_code}"
    for role in AUDIENCE:
        _id, email = make_user(role)
        login(email)
        for endpoint, method, url in routes:
            if endpoint in ("auth.logout", "auth.sign_out_everywhere"):  # they end the session the walk needs
                continue
            response = client.open(url, method=method)  # a POST carries an empty form
            response.close()
            if ROUTES[endpoint].allows(role):
                assert response.status_code != 403 and not _sent_to_log_in(response), f"{role} {method} {url} → {response.status_code}"
                assert response.status_code < 500, f"{role} {method} {url} → {response.status_code}"
            else:
                assert response.status_code == 403, f"{role} {method} {url} → {response.status_code}"
        assert client.post("/logout").status_code == 302


def test_no_route_answers_500_to_a_malformed_id_date_byte_or_size(app, client, published, make_user, login):
    from courseware.publishing import live_course

    with app.test_request_context():
        course = live_course().course
    learner_id, _email = make_user()
    real = {
        "user_id": str(learner_id), "revision_id": str(published), "module_id": course.modules[0].id,
        "lesson_id": course.lessons[0].id, "quiz_id": course.quizzes[0].id, "scenario_id": course.scenarios[0].id,
        "fmt": "csv", "path": "lessons/course.md", "code": "en",
    }
    wrong = []
    for role in (Role.ADMIN, Role.HR):
        login(make_user(role)[1])
        for method, url, expected in _hostile_requests(app, real):
            response = client.open(url, method=method)
            response.close()
            if response.status_code >= 500 or expected not in (None, response.status_code):
                wrong.append(f"{role} {method} {url} → {response.status_code}")
        client.post("/logout")
    assert wrong == []


def test_a_learner_finds_nothing_of_anothers(app, client, make_user, login, published):
    from courseware.publishing import live_course

    _, first = make_user()
    _, second = make_user()
    login(first)
    with app.test_request_context():
        course = live_course().course
    quiz, scenario = course.quizzes[0], course.scenarios[0]
    result_url = pass_quiz(client, quiz).request.path
    attempt_url = result_url.removesuffix("/result")
    run_url = client.post(f"/scenarios/{scenario.id}/start").location
    client.post("/logout")
    login(second)
    for url in (attempt_url, result_url, run_url):
        assert client.get(url).status_code == 404, url
    for url in (f"{attempt_url}/save", f"{attempt_url}/submit", f"{run_url}/choose"):
        assert client.post(url, data={"step": 0, "choice": "x"}).status_code == 404, url


def test_the_security_document_shows_the_table_as_the_code_states_it(app):
    with app.test_request_context():
        table = access_table()
    document = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert table in document, "docs/security.md is out of date: paste `access_table()` into it"
