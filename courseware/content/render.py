"""Render trainer Markdown to sanitised HTML, once, at publish time."""
from __future__ import annotations

import re
import threading

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

EXTENSIONS = ["tables", "fenced_code", "footnotes", "admonition", "toc", "sane_lists"]
EXTENSION_CONFIGS = {"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"}}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol",
    "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title"},
    "a": {"href"},
    "img": {"src", "alt"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
EXTERNAL_SOURCE = re.compile(r"""<img[^>]+src=["']?(?:https?:)?//""", re.IGNORECASE)


_local = threading.local()


def _converter() -> markdown.Markdown:
    """One Markdown converter per thread, reset between texts (building one costs more than converting)."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS)
    return converter.reset()


PLAIN_TEXT = re.compile(r"[^\s*_`\[\]()<>&#!\\|~=+\-.:0-9][^\n*_`\[\]<>&\\|~]*")


def render(source: str) -> str:
    """Return sanitised HTML for a Markdown `source`."""
    source = source.strip()
    if PLAIN_TEXT.fullmatch(source) and not source.endswith(("  ", ":")):
        return f"<p>{source}</p>"  # one line with nothing Markdown would change: most options and feedback
    html = _converter().convert(source)
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES
    )


def loads_external_resource(html: str) -> bool:
    """Tell whether rendered HTML would make the browser fetch from another host (no intranet can)."""
    return bool(EXTERNAL_SOURCE.search(html))


def render_inline(source: str) -> str:
    """Render a short Markdown snippet (an option, a label) without its wrapping paragraph."""
    html = render(source).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
