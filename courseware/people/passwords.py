"""Which passwords are accepted: long enough, and not easy to guess by zxcvbn's estimate.

zxcvbn knows the common passwords of public leaks, words, names, keyboard patterns, sequences,
repeats and dates; a password must reach its score 3 (about 10^10 guesses) and must not be
built on the person's own name or email.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 3
ESTIMATED_PART = 64  # zxcvbn's work grows with length; a longer password is not easy to guess anyway


def _reason(match: dict) -> str:
    pattern = match.get("pattern")
    if pattern == "dictionary" and match.get("dictionary_name") == "user_inputs":
        return _("It contains your name or email.")
    return {
        "dictionary": _("It is a common password, or built on a common word."),
        "repeat": _("It repeats the same characters."),
        "sequence": _("It is a sequence such as abcd or 1234."),
        "spatial": _("It is a keyboard pattern such as qwerty or 1qaz2wsx."),
        "date": _("It is built on a date or a year."),
        "regex": _("It is built on a date or a year."),
    }.get(pattern, _("It is easy to guess."))


def weakness(password: str, personal: Iterable[str] = ()) -> str | None:
    """Why `password` is refused, in the reader's language, or None when it is good enough."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)s characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(n)s characters.", n=MAX_LENGTH)
    words = [part for value in personal if value for part in value.lower().replace("@", " ").replace(".", " ").split() if len(part) > 2]
    result = zxcvbn(password[:ESTIMATED_PART], user_inputs=words)
    if result["score"] >= MIN_SCORE:
        return None
    weakest = max(result["sequence"], key=lambda match: len(match.get("token", "")), default={})
    return _("This password is too easy to guess. %(reason)s Try three or four unrelated words.", reason=_reason(weakest))
