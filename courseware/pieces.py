"""Pieces of pages that are the same for everyone sharing a locale: rendered once per worker, then reused.

Only what holds nothing personal goes here: links and labels. A piece's key names everything it
depends on (the locale, the roles it shows links for, where the app is mounted); whatever is
personal (a name, a CSRF token, progress) is put in by the page around it on every request.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup, escape

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


_HOLE = re.compile("\ue000([^\ue000\ue001]+)\ue001")  # private-use characters, which course text has no use for


def hole(name: str) -> Markup:
    """A place in a piece where each request puts its own value (see `Stencil`)."""
    return Markup(f"\ue000{name}\ue001")


@dataclass(frozen=True)
class Stencil:
    """A rendered piece with holes: its text, then a hole's name, alternately."""

    parts: tuple[str, ...]

    @classmethod
    def of(cls, rendered: str) -> Stencil:
        return cls(tuple(_HOLE.split(rendered)))

    @property
    def holes(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def fill(self, values: dict[str, object]) -> Markup:
        """The piece with each hole replaced by its value (escaped unless it is Markup); unknown holes stay as they were."""
        return Markup("".join(
            part if i % 2 == 0 else (escape(values[part]) if part in values else hole(part))
            for i, part in enumerate(self.parts)
        ))

    def around(self) -> tuple[tuple[Markup, str], ...]:
        """Each stretch of fixed text with the hole that follows it ('' after the last), for a template that
        fills the holes with its own blocks."""
        parts = (*self.parts, "") if len(self.parts) % 2 else self.parts
        return tuple((Markup(parts[n]), parts[n + 1]) for n in range(0, len(parts), 2))


def frame(viewer) -> Stencil:
    """Every page's frame for `viewer` (None: signed out), rendered once per locale, sign-in state and roles:
    head, header with the main navigation, language switch and log-out, footer. base.html fills its holes
    (the page's title, head and main part, the CSRF token, the path the language switch returns to, the
    viewer's name), so a page view runs no translation or link lookup of its frame."""
    signed_in = viewer is not None
    roles = tuple(role for role in NAV_ROLES if signed_in and viewer.has_role(role))
    return once(
        ("frame", str(get_locale()), signed_in, roles, request.script_root),
        lambda: Stencil.of(render_template("_frame.html", signed_in=signed_in, roles=roles)),
    )
