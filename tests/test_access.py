"""Every route, tried by every kind of visitor, against the one access table in courseware/access.py."""
from __future__ import annotations

import re

from courseware.access import AUDIENCE, ROUTES, access_table
from courseware.models import Role

from conftest import ROOT, pass_quiz

SAMPLE = {"integer": "1", "path": "lessons/course.md", "default": "x"}


def _routes(app):
    """(endpoint, method, a URL for it) for every route the app serves."""
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for argument in rule.arguments:
            converter = type(rule._converters[argument]).__name__.removesuffix("Converter").lower()
            url = re.sub(rf"<(?:[a-z]+:)?{argument}>", SAMPLE.get(converter, SAMPLE["default"]), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


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
            if endpoint == "auth.logout":
                continue
            response = client.open(url, method=method)  # a POST carries an empty form
            response.close()
            if ROUTES[endpoint].allows(role):
                assert response.status_code != 403 and not _sent_to_log_in(response), f"{role} {method} {url} → {response.status_code}"
                assert response.status_code < 500, f"{role} {method} {url} → {response.status_code}"
            else:
                assert response.status_code == 403, f"{role} {method} {url} → {response.status_code}"
        assert client.post("/logout").status_code == 302


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
