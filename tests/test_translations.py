"""Every interface string has a Chinese translation, and the compiled catalog is current."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "courseware" / "translations" / "zh" / "LC_MESSAGES"


def test_chinese_catalog_is_complete_and_compiled():
    with open(CATALOG / "messages.po", "rb") as f:
        source = read_po(f)
    with open(CATALOG / "messages.mo", "rb") as f:
        compiled = read_mo(f)
    untranslated = [m.id for m in source if m.id and not m.string]
    assert untranslated == []
    assert {m.id: m.string for m in source if m.id} == {m.id: m.string for m in compiled if m.id}
