"""Pieces of pages that are the same for everyone sharing a locale: rendered once per worker, then reused.

Only what holds nothing personal goes here: links and labels. A piece's key names everything it
depends on (the locale, the roles it shows links for, where the app is mounted); whatever is
personal (a name, a CSRF token, progress) is put in by the page around it on every request.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from threading import Lock
from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

MAX_PIECES = 256
_lock = Lock()
NAV_ROLES = ("trainer", "hr", "admin")  # the roles that add links to the main navigation
LANGUAGES = ("zh", "en")


def once(key: Hashable, build: Callable[[], Any]) -> Any:
    """Return the piece `key`, building it the first time (a worker keeps at most MAX_PIECES)."""
    store: dict = current_app.extensions.setdefault("courseware.pieces", {})
    piece = store.get(key)
    if piece is None:
        piece = build()
        with _lock:
            if len(store) >= MAX_PIECES:
                store.clear()
            store[key] = piece
    return piece


def main_nav(viewer) -> Markup:
    """The main navigation for `viewer` (a `people.sessions.Viewer`): the same for all who share their roles and locale."""
    roles = tuple(role for role in NAV_ROLES if viewer.has_role(role))
    return once(
        ("main-nav", str(get_locale()), roles, request.script_root),
        lambda: Markup(render_template("_main_nav.html", roles=roles)),
    )


HOLE = "\x00"  # marks a hole in a rendered frame; no template writes it otherwise


def frame(viewer) -> tuple[tuple[Markup, str], ...]:
    """Every page's frame for `viewer` (None: signed out) as pairs of fixed HTML and the hole that follows it
    ('' after the last): base.html fills each hole (the page's title, head and main parts, the CSRF token, the
    path to come back to after switching language, the viewer's name). Rendered once per locale, sign-in
    state and roles, so a page view runs no translation or link lookup of its frame."""
    roles = tuple(role for role in NAV_ROLES if viewer is not None and viewer.has_role(role))
    return once(
        ("frame", str(get_locale()), viewer is not None, roles, request.script_root),
        lambda: _stencil(viewer),
    )


def _stencil(viewer) -> tuple[tuple[Markup, str], ...]:
    html = render_template(
        "_frame.html", signed_in=viewer is not None, nav=main_nav(viewer) if viewer is not None else "",
        frame=links(), hole=lambda name: Markup(f"{HOLE}{name}{HOLE}"),
    )
    parts = html.split(HOLE)
    return tuple((Markup(parts[n]), parts[n + 1] if n + 1 < len(parts) else "") for n in range(0, len(parts), 2))


def links() -> dict[str, Any]:
    """The links every page's frame has (its stylesheet, home, log out, the languages), found once per worker."""
    return once(("links", request.script_root), lambda: {
        "favicon": url_for("static", filename="img/favicon.svg"),
        "stylesheet": url_for("static", filename="css/app.css"),
        "home": url_for("learn.home"),
        "password": url_for("auth.change_password"),
        "logout": url_for("auth.logout"),
        "language": {code: url_for("system.set_language", code=code) for code in LANGUAGES},
    })
