"""Show the compiler's errors and the lint's warnings in the interface's language."""
from __future__ import annotations

from flask_babel import gettext

from ..content.errors import ContentError
from ..content.gift import Skipped
from ..content.lint import LintWarning


def translated(item: ContentError | LintWarning | Skipped) -> str:
    """Return an error's reason, a warning's message or what GIFT could not carry, each part of it translated (values from files are kept)."""
    return item.render(gettext)
