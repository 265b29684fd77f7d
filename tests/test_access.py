"""Every route, tried by every role: who may see what is decided by one decorator per area."""
from __future__ import annotations

from courseware.models import Role

AREAS = {  # URL prefix → roles let in (admins are always let in)
    "/studio": {Role.TRAINER},
    "/hr": {Role.HR},
    "/admin": set(),
    "/xapi": {Role.HR},
}
PUBLIC = {"/login", "/signup", "/healthz", "/verify/<code>", "/static/<path:filename>", "/language/<code>"}
SAMPLE = {"integer": "1", "path": "lessons/course.md", "default": "x"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC:
            continue
        url = rule.rule
        for argument in rule.arguments:
            converter = type(rule._converters[argument]).__name__.removesuffix("Converter").lower()
            url = _fill(url, argument, SAMPLE.get(converter, SAMPLE["default"]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.rule, method, url


def _fill(url: str, argument: str, value: str) -> str:
    import re

    return re.sub(rf"<(?:[a-z]+:)?{argument}>", value, url)


def _allowed(rule: str) -> set[Role] | None:
    for prefix, roles in AREAS.items():
        if rule.startswith(prefix):
            return roles | {Role.ADMIN}
    return None  # any logged-in user


def test_every_route_lets_in_exactly_the_roles_it_should(app, client, published, make_user, login):
    routes = list(_routes(app))
    assert len(routes) > 60
    for rule, method, url in routes:
        response = client.open(url, method=method)
        response.close()  # as a browser that stops a download does
        assert response.status_code in (302, 401), f"anonymous {method} {rule} → {response.status_code}"
    for role in Role:
        _id, email = make_user(role)
        login(email)
        for rule, method, url in routes:
            allowed = _allowed(rule)
            if allowed is not None and role not in allowed:
                response = client.open(url, method=method)
                response.close()
                assert response.status_code == 403, f"{role} {method} {rule} → {response.status_code}"
            elif method == "GET" and rule != "/logout":
                response = client.open(url, method=method)
                response.close()
                assert response.status_code != 403, f"{role} {method} {rule} → 403"
        client.post("/logout")
