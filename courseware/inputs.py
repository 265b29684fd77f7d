"""What a client may send: ids a database column holds, dates in a sane window, text without NUL or control
characters, and redirect targets that stay on this site."""
from __future__ import annotations

import re
from datetime import date
from itertools import chain
from urllib.parse import urlsplit

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

MAX_ID = 2**63 - 1  # the largest BIGINT, in PostgreSQL and SQLite alike
INTEGER = re.compile(r"-?[0-9]{1,19}")  # ASCII digits only: int() also takes '٣' and '３'
# Wide enough for any real record or deadline; narrow enough that a day more, or a ±14 h offset, never overflows.
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps \t, \n and \r


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ASCII digits up to MAX_ID, so a larger or foreign number is a 404."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False) -> None:  # werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)


def integer(value: str) -> int | None:
    """Parse ASCII digits (with an optional minus) into an int that fits a BIGINT; None for anything else."""
    if not INTEGER.fullmatch(value):
        return None
    number = int(value)
    return number if -MAX_ID <= number <= MAX_ID else None


def int_arg(name: str, default: int, lo: int = 0, hi: int = MAX_ID) -> int:
    """The query argument `name` as an integer from `lo` to `hi`; `default` when it is missing or anything else."""
    number = request.args.get(name, type=integer)
    return number if number is not None and lo <= number <= hi else default


def in_window(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def within_window(form, field) -> None:
    """WTForms validator: refuse dates so far off that turning them into timestamps would overflow."""
    if field.data and not in_window(field.data):
        raise ValidationError(_l("Choose a date between %(start)s and %(end)s.", start=EARLIEST, end=LATEST))


def control_character(text: str, multiline: bool = False) -> bool:
    """Whether `text` holds NUL or another C0/C1 control character (line breaks and tabs pass when `multiline`)."""
    return bool((CONTROL_BUT_LINE_BREAKS if multiline else CONTROL).search(text))


def refuse_nul_bytes() -> None:
    """Answer 400 to a NUL byte in the path, query string or form: no text column can store one."""
    pairs = chain(request.args.items(multi=True), request.form.items(multi=True))
    if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, value in pairs):
        abort(400, description=_("The request contains a NUL character. Remove it and try again."))


def safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the home page (no open redirects).

    Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so a target
    holding any of them could still leave the site and is refused.
    """
    if target and target.startswith("/") and not any(c in target for c in "\\\t\r\n"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and not target.startswith("//"):
            return target
    return url_for("learn.home")
