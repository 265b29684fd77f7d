"""Translating templates: the request's catalogue found once, not once per message.

Flask-Babel looks up the locale, the domain and the catalogue on every `_()` in a template; a
page has 30 to 80 of them. Here the catalogue is kept with the locale it belongs to, so a
`force_locale` block (mail in the recipient's language) or `flask_babel.refresh()` still gets the
right one.
"""
from __future__ import annotations

from flask import g
from flask_babel import get_locale, get_translations
from jinja2 import Environment


def translations():
    """The catalogue for the current locale, looked up once per request and locale."""
    # Flask-Babel keeps the request's locale here once chosen; get_locale() chooses it the first time.
    locale = getattr(g.get("_flask_babel"), "babel_locale", None) or get_locale()
    kept = g.get("_translations")
    if kept is None or kept[0] is not locale:
        kept = g._translations = (locale, get_translations())
    return kept[1]


def install(environment: Environment) -> None:
    """Make templates' `_`, `gettext` and `ngettext` use `translations()` (Jinja's new-style i18n, as Flask-Babel)."""
    environment.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
