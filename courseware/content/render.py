"""Render trainer Markdown to sanitised HTML, once, at publish time."""
from __future__ import annotations

import re
import threading
from collections.abc import Collection, Mapping
from html.parser import HTMLParser

import markdown
import nh3
from markdown import inlinepatterns
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode

from .errors import N_, Message
from .media import MEDIA_FOLDER, is_image

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
EXTERNAL = re.compile(r"(?:https?:)?//", re.IGNORECASE)
STATIC_FILE = re.compile(r"/static/(?!.*\.\.)[\w./-]+")  # no '..', '%' or backslash that a browser would resolve elsewhere

MAX_TEXT_CHARS = 30_000  # the longest lesson has about 1,800; rendering time grows with length
MAX_PREFIX = 100  # spaces, '>' and list markers starting a line; Python-Markdown overflows its stack at ~250 levels
DEEP_LINE = re.compile(rf"^(?:[ \t>]|[-*+](?=[ \t])|\d{{1,9}}[.)](?=[ \t])){{{MAX_PREFIX}}}", re.MULTILINE)

# Python-Markdown looks for the ] and ) closing a link up to the end of the text, for every [:
# hostile text costs the square of its length. Course links are far shorter than this window.
WINDOW = 200


def _paired(depth: int) -> str:
    """Match text whose square brackets pair up, nested at most `depth` deep."""
    pattern = r"[^\[\]]*+"
    for _ in range(depth):
        pattern = rf"[^\[\]]*+(?:\[{pattern}\][^\[\]]*+)*+"
    return pattern


LINK_TEXT = re.compile(rf"({_paired(3)})\]")


class _Bounded:
    """Look for the ] and ) closing a link within `WINDOW` characters; the ] by one regular expression."""

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        match = LINK_TEXT.match(data, index, index + WINDOW)
        return (match[1], match.end(), True) if match else ("", index, False)

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
        window = data[index : index + WINDOW]
        if ")" not in window:
            return "", None, index, False
        href, title, end, handled = super().getLink(window, 0)
        if end < 0:  # Python-Markdown's fallback for an unclosed title gives a link to the text's end
            return "", None, index, False
        return href, title, index + end, handled


LINK_PROCESSORS = {  # name: (class, pattern, priority), as Python-Markdown registers them
    "reference": (inlinepatterns.ReferenceInlineProcessor, inlinepatterns.REFERENCE_RE, 170),
    "link": (inlinepatterns.LinkInlineProcessor, inlinepatterns.LINK_RE, 160),
    "image_link": (inlinepatterns.ImageInlineProcessor, inlinepatterns.IMAGE_LINK_RE, 150),
    "image_reference": (inlinepatterns.ImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE, 140),
    "short_reference": (inlinepatterns.ShortReferenceInlineProcessor, inlinepatterns.REFERENCE_RE, 130),
    "short_image_ref": (inlinepatterns.ShortImageReferenceInlineProcessor, inlinepatterns.IMAGE_REFERENCE_RE, 125),
}
BOUNDED = {name: type(cls.__name__, (_Bounded, cls), {}) for name, (cls, _, _) in LINK_PROCESSORS.items()}


class CourseMarkdown(Extension):
    """Show HTML tags as text (course files use none) and look for link ends within a window."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        for name, (_, pattern, priority) in LINK_PROCESSORS.items():
            md.inlinePatterns.register(BOUNDED[name](pattern, md), name, priority)


EXTENSIONS = [CourseMarkdown(), "tables", "fenced_code", "admonition", "toc", "sane_lists"]


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


def unrenderable(source: str) -> tuple[int, Message] | None:
    """Find what keeps Markdown `source` from being rendered: its line (from 1) and a problem phrase."""
    if len(source) > MAX_TEXT_CHARS:
        line = source.count("\n", 0, MAX_TEXT_CHARS) + 1
        return line, N_(
            "is longer than %(most)s characters (%(count)s): shorten it or split it up",
            most=f"{MAX_TEXT_CHARS:,}", count=f"{len(source):,}",
        )
    if deep := DEEP_LINE.search(source):
        line = source.count("\n", 0, deep.start()) + 1
        return line, N_(
            "nests lists, quotes or callouts too deeply: start a line with at most %(most)s spaces, '>' and list markers",
            most=MAX_PREFIX,
        )
    return None


class _Sources(HTMLParser):
    """Collect the sources of images and the targets of links in rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("src") is not None:
            self.images.append(values["src"])
        elif tag == "a" and values.get("href") is not None:
            self.links.append(values["href"])


MEDIA_PREFIX = f"{MEDIA_FOLDER}/"


def image_problem(html: str, media: Collection[str] = ()) -> tuple[str, Message] | None:
    """Find an image or media link in rendered HTML that learners' browsers must not fetch: return its source and why.

    Images are files under static/ or the course's own pictures (`media/<name>`, one of `media`):
    another host is out of an intranet's reach, and a page of this site would be requested, and
    audited, as whoever reads the text. A link to `media/<name>` must name a file of the course.
    """
    if "<img" not in html and MEDIA_PREFIX not in html:
        return None
    parser = _Sources()
    parser.feed(html)
    parser.close()
    for src in parser.images:
        if src.startswith(MEDIA_PREFIX):
            name = src[len(MEDIA_PREFIX):]
            if name not in media:
                return src, N_("there is no picture %(src)s in the course: upload it under Pictures and files, or correct the name", src=src)
            if not is_image(name):
                return src, N_("%(src)s is not a picture (PNG, JPEG, GIF or WebP): link to it as a download instead", src=src)
            continue
        if EXTERNAL.match(src):
            return src, N_("image from another site: intranet learners cannot load it; put the image in static/")
        if not STATIC_FILE.fullmatch(src):
            return src, N_("images must be files under static/ (e.g. /static/img/x.png); a page of this site cannot be used as an image")
    for href in parser.links:
        if href.startswith(MEDIA_PREFIX) and href[len(MEDIA_PREFIX):] not in media:
            return href, N_("there is no file %(src)s in the course: upload it under Pictures and files, or correct the name", src=href)
    return None


MEDIA_REFERENCE = re.compile(rf'(?<=\s)(src|href)="{MEDIA_PREFIX}([A-Za-z0-9][A-Za-z0-9._-]*)"')


def link_media(html: str, urls: Mapping[str, str]) -> str:
    """Point each `media/<name>` image and link of rendered (sanitised) HTML at the address in `urls`."""
    if MEDIA_PREFIX not in html:
        return html
    return MEDIA_REFERENCE.sub(
        lambda m: f'{m[1]}="{urls[m[2]]}"' if m[2] in urls else m[0], html
    )


def render_inline(source: str) -> str:
    """Render a short Markdown snippet (an option, a label) without its wrapping paragraph."""
    html = render(source).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
