"""How long a lesson takes to read, estimated from its text."""
from __future__ import annotations

import math
import re

from markupsafe import Markup

CJK_PER_MINUTE = 300  # characters of Chinese study text read with care in a minute
WORDS_PER_MINUTE = 200
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")


def text_of(html: str) -> str:
    return Markup(html).striptags()


def reading_minutes(html: str) -> int:
    """Whole minutes to read the rendered text, at least one."""
    text = text_of(html)
    return max(1, math.ceil(len(CJK.findall(text)) / CJK_PER_MINUTE + len(WORD.findall(text)) / WORDS_PER_MINUTE))
