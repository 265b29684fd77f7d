"""Every interface string has a Chinese translation, and the compiled catalog is current."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "courseware" / "translations" / "zh" / "LC_MESSAGES"


def _catalog():
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f)


def test_chinese_catalog_is_complete_and_compiled():
    source = _catalog()
    with open(CATALOG / "messages.mo", "rb") as f:
        compiled = read_mo(f)
    untranslated = [m.id for m in source if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == []
    def entries(catalog):
        return {_key(m.id): _key(m.string) for m in catalog if m.id}

    assert entries(source) == entries(compiled)


def _key(value):
    return value if isinstance(value, str) else tuple(value)


def test_every_string_in_the_code_and_templates_is_in_the_catalog():
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    method_map = [("courseware/**.py", "python"), ("templates/**.html", "jinja2")]
    found = {
        (message if isinstance(message, str) else message[0], filename)
        for filename, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, keywords=keywords)
        if filename.startswith(("courseware", "templates"))
    }
    missing = sorted((filename, message) for message, filename in found if message and message not in known)
    assert missing == [], "run pybabel extract/update and translate these"
