"""Moodle GIFT: read a GIFT file into quiz questions, and write quiz questions as GIFT.

Questions are YAML-shaped dicts, exactly what a trainer writes under `questions:` in a quiz file.
Whatever cannot be carried is listed as `Skipped`: a question left out, or a detail lost from a
question that was kept (then `question` is its id and the reason says what was lost).

Canonical form. `parse(dump(qs))[0] == qs` for questions written like this:
- keys `id` (a slug), `type`, `text`, `explanation` and the type's own fields (a question read without
  `####` is given an explanation, and that is listed);
  no `points`; every text a string without leading or trailing whitespace;
- `single`: `options` as dicts `{text, correct: true, feedback}`, with `correct` only on the right
  option and `feedback` only when there is some; `multiple`: the same, plus `partial_credit: true`;
- `true_false`: `answer`; `short_answer`: `accepted`, a list of strings;
- `matching`: `pairs` as `{left, right}`, `distractors` only when there are some, `partial_credit: true`;
- `numerical`: `answers`, each a number (an int, or a float that reads back as written) when it is
  exact, worth 100 and has no feedback, else `{value, tolerance}` (tolerance only when not 0) or
  `{min, max}`, then `credit` when not 100 and `feedback` when there is some;
- a missing-word question has its blank written `____` once, with text after it.
`dump(parse(g)[0])[0] == g` for GIFT written the way `dump` writes it: one block per question,
`::id::[markdown]text{`, one answer per line after a tab, `\t####explanation` last, `}` (true/false, and
numerical with one plain answer, on one line: `{TRUE####explanation}`, `{#5:0.1####explanation}`; numerical
with several answers opens with `{#`), questions separated by one blank line, special characters escaped.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from itertools import count
from typing import Any, Callable, Iterator

from . import yamlfile
from .compiler import too_long
from .errors import N_, ContentError, CourseInvalid, Message
from .frontmatter import SLUG
from .quiz import number_text
from .quizfile import unique_id

Question = dict[str, Any]
Answers = tuple[list[str], list[Message]]  # GIFT answer lines, and what is lost writing them
Read = tuple[dict[str, Any], list[Message]]  # a question's own fields, and what is lost reading them

BLANK = "____"
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
MOODLE_SHARES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20})  # k for which 100/k % is a Moodle grade
# The grades Moodle offers an answer, in %: 100/k for k in MOODLE_SHARES, and a few more.
MOODLE_GRADES = frozenset({0, 30, 40, 60, 70, 75, 80, 90, 100 * 2 / 3, 100 * 5 / 6, *(100 / k for k in MOODLE_SHARES)})
MAX_QUESTIONS = 500  # the largest quiz has a dozen; reading grows faster than the count

_SYNTAX = "~=#{}:"
# While a question is cut up, its escaped syntax characters stand in as private-use characters.
_HIDDEN = {char: chr(0xE000 + i) for i, char in enumerate(_SYNTAX)}
_UNESCAPED = {"\\": "\\", "n": "\n", **_HIDDEN}
_SHOW = str.maketrans({hidden: char for char, hidden in _HIDDEN.items()})
_ESCAPE = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "", **{char: "\\" + char for char in _SYNTAX}})
_ESCAPED = re.compile(r"\\([\\n~=#{}:])")
_FORMAT = re.compile(r"^\s*\[(markdown|html|plain|moodle)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_ONE_BLANK = re.compile(r"(?<!_)____(?!_)")


@dataclass(frozen=True)
class Skipped:
    """Something GIFT could not carry: a whole question left out, or a detail lost from one kept."""

    line: int | None
    question: str
    message: Message
    kept: bool = False

    @property
    def reason(self) -> str:
        """The reason in English."""
        return self.message.render()

    def render(self, translate: Callable[[str], str] = str) -> str:
        return self.message.render(translate)


class _NotCarried(Exception):
    """The question cannot be carried at all; the message says why."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


# --- reading GIFT ---------------------------------------------------------------------------

@dataclass(frozen=True)
class GiftFile:
    """A GIFT file read: its questions, the GIFT line each starts on, and what was left out or lost."""

    questions: list[Question]
    lines: list[int]
    skipped: list[Skipped]


def parse(text: str, path: str = "questions.gift") -> tuple[list[Question], list[Skipped]]:
    """Read a GIFT file into quiz questions; list by line what was left out or lost.

    Raises `CourseInvalid` naming `path` when the file is too large to import, before reading it.
    """
    read = read_gift(text, path)
    return read.questions, read.skipped


def read_gift(text: str, path: str = "questions.gift") -> GiftFile:
    """Read a GIFT file as `parse` does, also keeping the line each question starts on."""
    if error := too_long(path, text) or _too_many(text, path):
        raise CourseInvalid([error])
    kept: list[tuple[_Block, str | None, Question, list[Message]]] = []
    skipped: list[Skipped] = []
    for block in _blocks(text):
        hidden = _ESCAPED.sub(lambda m: _UNESCAPED[m[1]], block.text).strip()
        if not hidden:  # Moodle comments after the last question
            skipped += _notes(block, "", kept=False)
            continue
        try:
            title, body = _title(hidden)
            question, losses = _question(body)
        except _NotCarried as error:
            label = _label(hidden)
            skipped += [Skipped(block.line, label, error.message), *_notes(block, label, kept=False)]
            continue
        kept.append((block, title, question, losses))
    questions = []
    for (block, _, question, losses), qid in zip(kept, _ids([title for _, title, _, _ in kept])):
        questions.append({"id": qid, **question})
        skipped += [Skipped(block.line, qid, loss, kept=True) for loss in losses] + _notes(block, qid, kept=True)
    lines = [block.line for block, _, _, _ in kept]
    return GiftFile(questions, lines, sorted(skipped, key=lambda item: item.line or 0))


@dataclass(frozen=True)
class _Block:
    """A question's first line and text, and the Moodle comments ($CATEGORY, tags, ids) by or before it."""

    line: int
    text: str
    notes: tuple[tuple[int, str, str], ...] = ()


# Anywhere in a comment, as Moodle reads them; `\]` is a ] inside one.
_MOODLE_NOTE = re.compile(r"\[(tag|id):((?:\\.|[^\]\\])*)\]")
_NOTE_MESSAGES = {
    "category": N_("the Moodle category '%(value)s' is not carried: the questions go to the quiz you choose"),
    "tag": N_("kept without its Moodle tag '%(value)s': our quizzes have no tags"),
    "id": N_("kept without its Moodle ID number '%(value)s': its id here is '%(id)s'"),
}


def _notes(block: _Block, question: str, kept: bool) -> list[Skipped]:
    """List a block's categories, and its tags and ID numbers when its question is kept (one left out is listed already)."""
    notes = []
    for line, kind, value in block.notes:
        message = Message(_NOTE_MESSAGES[kind].template, (("value", value), ("id", question)))
        if kind == "category":
            notes.append(Skipped(line, "", message))
        elif kept:
            notes.append(Skipped(line, question, message, kept=True))
    return notes


def _too_many(text: str, path: str) -> ContentError | None:
    questions = (block for block in _blocks(text) if block.text)
    for number, block in enumerate(questions, 1):
        if number > MAX_QUESTIONS:
            return ContentError(path, block.line, N_("more than %(most)s questions: import at most %(most)s at a time", most=MAX_QUESTIONS))
    return None


def _blocks(text: str) -> Iterator[_Block]:
    """Yield each question's first line number, its lines and the Moodle notes by or before it; blank lines separate questions."""
    lines: list[str] = []
    notes: list[tuple[int, str, str]] = []
    start = 0
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), 1):
        content = line.strip()
        if not content:
            if lines:
                yield _Block(start, "\n".join(lines), tuple(notes))
                notes = []
            lines = []
        elif content.startswith("$CATEGORY:"):
            notes.append((number, "category", content.removeprefix("$CATEGORY:").strip()))
        elif content.startswith("//"):
            notes += [(number, note[1], note[2].replace("\\]", "]").strip()) for note in _MOODLE_NOTE.finditer(content)]
        else:
            start = start if lines else number
            lines.append(line)
    if lines or notes:
        yield _Block(start if lines else notes[0][0], "\n".join(lines), tuple(notes))


def _plain(text: str) -> str:
    """Put escaped characters back and trim; for names, and answers compared rather than shown."""
    return text.translate(_SHOW).strip()


def _label(block: str) -> str:
    """Name a question that could not be read: its title, else the start of its text."""
    title = re.match(r"::(.*?)::", block, re.S)
    return _plain(title[1]) if title else _plain(_FORMAT.sub("", block.split("\n")[0], count=1))[:40]


def _title(block: str) -> tuple[str | None, str]:
    if not block.startswith("::"):
        return None, block
    end = block.find("::", 2)
    if end < 0:
        raise _NotCarried(N_("the question name is not closed: write it as ::name::"))
    return _plain(block[2:end]), block[end + 2 :]


def _slug(title: str | None) -> str | None:
    """Derive an id from a Moodle name: 'Q1' → 'q1', 'TrueStatement 2' → 'truestatement-2'."""
    slug = re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:64].strip("-")
    return slug if SLUG.match(slug) else None


def _ids(titles: list[str | None]) -> list[str]:
    """Keep each title that is a slug as the id, derive one from the others, else number them gift-1, gift-2, …."""
    slugs = {title for title in titles if title and SLUG.match(title)}
    ids: list[str] = []
    numbers = count(1)
    for title in titles:
        taken = slugs | set(ids)
        if title in slugs:
            ids.append(title if title not in ids else unique_id(title, taken))
        elif derived := _slug(title):
            ids.append(unique_id(derived, taken))
        else:
            ids.append(next(qid for n in numbers if (qid := f"gift-{n}") not in taken))
    return ids


class _Text:
    """Turn a question's texts into Markdown from the format it is marked with; gather what is lost on the way.

    `[markdown]` and no marker: used as written. `[plain]` and `[moodle]`: Markdown's characters
    escaped. `[html]`: paragraphs, breaks, bold, italics, code and lists become Markdown, other tags
    are dropped and listed. A marker on the question text is the default for its answers.
    """

    def __init__(self, fmt: str):
        self.fmt = fmt
        self.losses: list[Message] = []
        self.feedback: list[str] = []  # feedback our format has no place for, in case there is no ####

    def __call__(self, text: str, strip: bool = True) -> str:
        fmt = self.fmt
        if marker := _FORMAT.match(text):
            fmt, text = marker[1], text[marker.end() :]
        text = text.translate(_SHOW)
        if fmt in ("plain", "moodle"):
            text = _escape_markdown(text)
        elif fmt == "html":
            converter = _HtmlToMarkdown()
            converter.feed(text)
            converter.close()
            text = re.sub(r"\n[ \t]*\n\s*", "\n\n", "".join(converter.out))
            if converter.dropped:
                tags = ", ".join(f"<{tag}>" for tag in dict.fromkeys(converter.dropped))
                self.losses.append(N_("kept without the HTML tags %(tags)s: check its text", tags=tags))
        return text.strip() if strip else text

    def plain(self, text: str) -> str:
        """An answer compared with what learners type: no marker, no Markdown escapes, HTML entities read."""
        marker = _FORMAT.match(text)
        text = _plain(text[marker.end() :] if marker else text)
        return html.unescape(text) if (marker[1] if marker else self.fmt) == "html" else text


_MARKDOWN_CHARS = re.compile(r"([\\`*_\[\]<>#|~])")
_MARKDOWN_LINE_START = re.compile(r"^([ \t]*)([-+>]|\d+[.)])(?=[ \t]|$)", re.M)


def _escape_markdown(text: str) -> str:
    """Escape what Markdown would read as markup, so that `2*3*4` stays 2*3*4."""
    text = _MARKDOWN_CHARS.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(lambda m: m[1] + re.sub(r"([-+>.)])", r"\\\1", m[2]), text)


class _HtmlToMarkdown(HTMLParser):
    """Write the HTML Moodle's editor makes as Markdown; remember the tags that have no Markdown."""

    INLINE = {"b": "**", "strong": "**", "i": "*", "em": "*", "code": "`"}
    BLOCKS = {"p": "\n\n", "div": "\n\n", "br": "\n", "ul": "\n\n", "ol": "\n\n"}
    IGNORED = {"span", "li", "font", "u"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropped: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.out.append("\n- ")
        elif tag in self.INLINE:
            self.out.append(self.INLINE[tag])
        elif tag in self.BLOCKS:
            self.out.append(self.BLOCKS[tag])
        elif tag not in self.IGNORED:
            self.dropped.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.INLINE:
            self.out.append(self.INLINE[tag])
        elif tag in self.BLOCKS and tag != "br":
            self.out.append(self.BLOCKS[tag])

    def handle_data(self, data: str) -> None:
        self.out.append(_escape_markdown(re.sub(r"\s+", " ", data)))


def _question(body: str) -> tuple[Question, list[Message]]:
    start, end = body.find("{"), body.find("}")
    if start < 0 and end < 0:
        raise _NotCarried(N_("description items (text with no {…} answers) are not supported"))
    rest = body[end + 1 :]
    if start < 0 or end < start or "{" in body[start + 1 : end] or "{" in rest or "}" in rest:
        raise _NotCarried(N_("the braces { } do not pair up; write a brace that is text as \\{ or \\}"))
    marker = _FORMAT.match(body)
    clean = _Text(marker[1] if marker else "markdown")
    answers, explanation = _general_feedback(body[start + 1 : end])
    before = clean(body[:start], strip=False)
    text = (before + BLANK + clean(rest, strip=False) if rest.strip() else before).strip()
    if not text:
        raise _NotCarried(N_("the question has no text"))
    kind = _kind(answers.strip())
    fields, losses = READERS[kind](answers, clean)
    question = {"type": kind, "text": text, **fields}
    if explanation := clean(explanation):
        question["explanation"] = explanation
    else:
        question["explanation"], missing = _explanation(question, clean.feedback)
        losses = [loss for loss in losses if loss not in FEEDBACK_LOST] + [missing]
    return question, clean.losses + losses


def _general_feedback(answers: str) -> tuple[str, str]:
    if "####" not in answers:
        return answers, ""
    answers, _, explanation = answers.rpartition("####")
    return answers, explanation


def _explanation(question: Question, feedback: list[str]) -> tuple[str, Message]:
    """Explain a question that has no ####: by the first feedback our format cannot hold, else by its right answer."""
    if feedback:
        return feedback[0], N_("kept with the feedback on one of its answers as its explanation, as it has no general feedback (####): check it reads well")
    kind = question["type"]
    if kind in ("single", "multiple"):
        right = "；".join(o["text"] for o in question["options"] if o.get("correct"))
    elif kind == "true_false":
        right = "正确" if question["answer"] else "错误"  # as the quiz pages name them
    elif kind == "short_answer":
        right = "；".join(_escape_markdown(answer) for answer in question["accepted"])
    elif kind == "numerical":
        right = "；".join(_number_label(answer, said=True) for answer in question["answers"] if _credit(answer) >= 100)
    else:
        right = "；".join(f"{p['left']} → {p['right']}" for p in question["pairs"])
    return f"正确答案：{right}", N_("kept with an explanation that only states the right answer, as it has no general feedback (####): write why in the quiz file")


def _kind(answers: str) -> str:
    """Tell the question type from its answers, in the order Moodle does; more than one '=' with '~' is multiple-answer."""
    if not answers:
        raise _NotCarried(N_("essay questions ({} with no answers) are not supported"))
    if answers.startswith("#"):
        return "numerical"
    if "~" in answers:
        return "single" if answers.count("=") == 1 else "multiple"
    if "=" in answers and "->" in answers:
        return "matching"
    if answers.split("#", 1)[0].strip() in TRUE_FALSE:
        return "true_false"
    return "short_answer"


def _split(answers: str, markers: str) -> list[tuple[str, str]]:
    """Cut the answers before each marker; return (marker, answer) pairs."""
    head, *parts = re.split(f"([{markers}])", answers)
    if head.strip():
        starts = " / ".join(f"'{marker}'" for marker in markers)
        raise _NotCarried(N_("'%(text)s' is not an answer: start each answer with %(markers)s", text=_plain(head), markers=starts))
    return [(parts[i], parts[i + 1].strip()) for i in range(0, len(parts), 2)]


def _weighted(answer: str, default: float) -> tuple[float, str]:
    weight = _WEIGHT.match(answer)
    return (float(weight[1]), answer[weight.end() :]) if weight else (default, answer)


def _option(answer: str, correct: bool, clean: _Text) -> dict[str, Any]:
    text, _, feedback = answer.partition("#")
    option: dict[str, Any] = {"text": clean(text)}
    if not option["text"]:
        raise _NotCarried(N_("an answer has no text"))
    if correct:
        option["correct"] = True
    if feedback := clean(feedback):
        option["feedback"] = feedback
    return option


def _choices(answers: str, clean: _Text) -> list[tuple[str, float, str]]:
    """Return (marker, weight, answer) for each answer: '=' weighs 100, '~' its %weight% or 0."""
    choices = [
        (marker, *(_weighted(answer, 0.0) if marker == "~" else (100.0, answer)))
        for marker, answer in _split(answers, "~=")
    ]
    if len(choices) < 2:
        raise _NotCarried(N_("a choice question needs at least two answers"))
    return choices


def _read_single(answers: str, clean: _Text) -> Read:
    choices = _choices(answers, clean)
    weighted = any(weight for marker, weight, _ in choices if marker == "~")
    losses = [N_("kept, but the weights of its '~' answers are dropped: every wrong answer scores 0")] if weighted else []
    return {"options": [_option(answer, marker == "=", clean) for marker, _, answer in choices]}, losses


def _read_multiple(answers: str, clean: _Text) -> Read:
    choices = _choices(answers, clean)
    k = sum(weight > 0 for _, weight, _ in choices)
    if not k:
        raise _NotCarried(N_("no answer has a positive weight, so none of them is right"))
    even = all(abs(abs(weight) - 100 / k) < 0.001 for _, weight, _ in choices)
    if any(marker == "=" for marker, _, _ in choices):
        losses = [N_("kept as a multiple-answer question, as more than one answer is marked '=': learners pick every right "
                     "answer; each right pick adds 1/%(k)s of the mark, each wrong pick takes 1/%(k)s away", k=k)]
    elif even:
        losses = []
    else:
        losses = [N_("kept, but scored with equal shares instead of its weights: each right pick adds 1/%(k)s of the mark, "
                     "each wrong pick takes 1/%(k)s away", k=k)]
    options = [_option(answer, weight > 0, clean) for _, weight, answer in choices]
    return {"options": options, "partial_credit": True}, losses


TRUE_FALSE_FEEDBACK_LOST = N_("kept without the feedback on its true/false answers: give it an explanation (####) instead")
SHORT_ANSWER_FEEDBACK_LOST = N_("kept without the feedback on its answers")
FEEDBACK_LOST = (TRUE_FALSE_FEEDBACK_LOST, SHORT_ANSWER_FEEDBACK_LOST)


def _read_true_false(answers: str, clean: _Text) -> Read:
    answer, *feedback = answers.split("#", 2)
    clean.feedback += [text for part in feedback if (text := clean(part))]
    return {"answer": TRUE_FALSE[answer.strip()]}, [TRUE_FALSE_FEEDBACK_LOST] if clean.feedback else []


def _read_short_answer(answers: str, clean: _Text) -> Read:
    accepted: list[str] = []
    losses: list[Message] = []
    for _, answer in _split(answers, "="):
        weight, answer = _weighted(answer, 100.0)
        raw_text, _, raw_feedback = answer.partition("#")
        text, feedback = clean.plain(raw_text), clean(raw_feedback)
        if not text:
            raise _NotCarried(N_("an answer has no text"))
        if feedback:
            losses.append(SHORT_ANSWER_FEEDBACK_LOST)
            clean.feedback.append(feedback)
        if weight <= 0:
            losses.append(N_("kept without the answer '%(text)s', which is worth %(weight)s%%", text=text, weight=f"{weight:g}"))
            continue
        if weight < 100:
            losses.append(N_("kept, but the answer '%(text)s' now earns the full mark instead of %(weight)s%%", text=text, weight=f"{weight:g}"))
        accepted.append(text)
    if not accepted:
        raise _NotCarried(N_("no answer earns any mark"))
    return {"accepted": accepted}, list(dict.fromkeys(losses))


def _read_matching(answers: str, clean: _Text) -> Read:
    pairs: list[dict[str, str]] = []
    distractors: list[str] = []
    for _, answer in _split(answers, "="):
        left, arrow, right = answer.partition("->")
        if not arrow or not clean(right):
            raise _NotCarried(N_("each matching answer must be written '=left -> right'"))
        if clean(left):
            pairs.append({"left": clean(left), "right": clean(right)})
        else:
            distractors.append(clean(right))
    if len(pairs) < 2:
        raise _NotCarried(N_("a matching question needs at least two pairs"))
    return {"pairs": pairs, **({"distractors": distractors} if distractors else {}), "partial_credit": True}, []


NUMERICAL_OTHER_FEEDBACK_LOST = N_("kept without the feedback for any other answer ('~'): give it an explanation (####) instead")
_GIFT_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?"
_NUMBER_FORMS = (
    ("range", re.compile(rf"({_GIFT_NUMBER})\s*\.\.\s*({_GIFT_NUMBER})")),
    ("tolerance", re.compile(rf"({_GIFT_NUMBER})\s*:\s*({_GIFT_NUMBER})")),
    ("exact", re.compile(rf"({_GIFT_NUMBER})")),
)


def _yaml_number(text: str) -> int | float | str:
    """A number as the quiz file writes it: an int or a float when that reads back exactly, else decimal text."""
    plain = number_text(Decimal(text))
    value = float(plain) if "." in plain else int(plain)
    return value if number_text(Decimal(str(value))) == plain else plain


def _read_number(text: str) -> dict[str, Any]:
    """Read `5`, `5:0.1` (a tolerance) or `1..2` (a range) into an answer's fields."""
    for form, pattern in _NUMBER_FORMS:
        if found := pattern.fullmatch(text):
            if form == "exact":
                return {"value": _yaml_number(found[1])}
            first, second = Decimal(found[1]), Decimal(found[2])
            if form == "tolerance":
                if second < 0:
                    raise _NotCarried(N_("the tolerance of '%(text)s' is below 0", text=text))
                tolerance = {"tolerance": _yaml_number(found[2])} if second else {}
                return {"value": _yaml_number(found[1]), **tolerance}
            if first > second:
                raise _NotCarried(N_("the range '%(text)s' starts above its end", text=text))
            return {"min": _yaml_number(found[1]), "max": _yaml_number(found[2])}
    raise _NotCarried(N_("'%(text)s' is not a number: write 5, 5:0.1 (within 0.1 of 5) or 1..2 (from 1 to 2)", text=text))


def _read_numerical(answers: str, clean: _Text) -> Read:
    body, other, otherwise = answers.strip()[1:].partition("~")
    losses: list[Message] = []
    if other and (feedback := clean(otherwise.partition("#")[2])):
        clean.feedback.append(feedback)
        losses.append(NUMERICAL_OTHER_FEEDBACK_LOST)
    head, *parts = body.split("=")
    entries: list[Any] = []
    for part in ([head] if head.strip() else []) + parts:
        weight, answer = _weighted(part.strip(), 100.0)
        raw, _, raw_feedback = answer.partition("#")
        feedback = clean(raw_feedback)
        if clean.plain(raw) == "*":  # Moodle's "any other answer"
            if feedback:
                clean.feedback.append(feedback)
                losses.append(NUMERICAL_OTHER_FEEDBACK_LOST)
            continue
        if not 0 <= weight <= 100:
            raise _NotCarried(N_("the answer '%(text)s' is worth %(weight)s%%: a numerical answer is worth 0%% to 100%%", text=clean.plain(raw), weight=f"{weight:g}"))
        entry = _read_number(clean.plain(raw))
        if weight != 100:
            entry["credit"] = int(weight) if weight == int(weight) else weight
        if feedback:
            entry["feedback"] = feedback
        entries.append(entry)
    if not entries:
        raise _NotCarried(N_("a numerical question needs at least one number after '#'"))
    if not any(_credit(entry) >= 100 for entry in entries):
        raise _NotCarried(N_("no answer earns the full mark"))
    simple = [entry["value"] if set(entry) == {"value"} else entry for entry in entries]
    return {"answers": simple}, list(dict.fromkeys(losses))


def _credit(answer: Any) -> float:
    return float(_number(answer.get("credit", 100) if isinstance(answer, dict) else 100))


def _number_label(answer: Any, said: bool = False) -> str:
    """Write a numerical answer as GIFT does (5, 5:0.1, 1..2), or as people do (5, 5 ± 0.1, 1 – 2)."""
    if not isinstance(answer, dict):
        return _number(answer)
    if "value" in answer:
        tolerance = _number(answer.get("tolerance", 0))
        return _number(answer["value"]) + ("" if tolerance == "0" else f" ± {tolerance}" if said else f":{tolerance}")
    return f"{_number(answer.get('min'))}{' – ' if said else '..'}{_number(answer.get('max'))}"


def _number(value: Any) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not re.fullmatch(_GIFT_NUMBER, text):
        raise _NotCarried(N_("'%(value)s' is not a number", value=str(value)))
    return number_text(Decimal(text))


READERS: dict[str, Callable[[str, _Text], Read]] = {
    "single": _read_single,
    "multiple": _read_multiple,
    "true_false": _read_true_false,
    "short_answer": _read_short_answer,
    "matching": _read_matching,
    "numerical": _read_numerical,
}


# --- writing GIFT ---------------------------------------------------------------------------

def dump(questions: list[Question]) -> tuple[str, list[Skipped]]:
    """Write quiz questions as GIFT; list by question id what GIFT cannot carry."""
    blocks: list[str] = []
    skipped: list[Skipped] = []
    for question in questions:
        qid = _text(question.get("id"))
        writer = WRITERS.get(question.get("type"))
        try:
            if writer is None:
                raise _NotCarried(N_("GIFT has no %(kind)s questions, so it is left out", kind=str(question.get("type"))))
            answers, losses = writer(question)
        except _NotCarried as error:
            skipped.append(Skipped(None, qid, error.message))
            continue
        blocks.append(_block(question, answers))
        skipped += [Skipped(None, qid, loss, kept=True) for loss in _points_lost(question) + losses]
    return "\n\n".join(blocks) + ("\n" if blocks else ""), skipped


def quiz_to_gift(yaml_text: str, path: str) -> tuple[str, list[Skipped]]:
    """Write every question of a quiz file as GIFT; raise `CourseInvalid` when it is not a quiz.

    GIFT has no pools: each pool is listed as lost, and its questions are written as plain ones.
    """
    errors: list[ContentError] = []
    data = yamlfile.load(path, yaml_text, errors)  # as the course compiler reads it
    if errors:
        raise CourseInvalid(errors)
    data = data if isinstance(data, dict) else {}
    raw_pools = data.get("pools")
    pools = [p for p in raw_pools if isinstance(p, dict)] if isinstance(raw_pools, list) else []
    questions = data.get("questions", [] if pools else None)
    pooled = [q for pool in pools if isinstance(pool.get("questions"), list) for q in pool["questions"]]
    questions = questions + pooled if isinstance(questions, list) else None
    if questions is None or not all(isinstance(q, dict) for q in questions):
        raise CourseInvalid([ContentError(path, 1, N_("not a quiz: the file needs a list 'questions:'"))])
    text, skipped = dump(questions)
    lost = [
        Skipped(None, _text(pool.get("id")), N_(
            "GIFT has no question pools: this pool's questions are written as plain questions, so a quiz "
            "imported from this file asks all of them instead of drawing %(draw)s", draw=pool.get("draw", 1)), kept=True) for pool in pools
    ]
    return text, lost + skipped



def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _escape(value: Any) -> str:
    """Trim a text and escape it for GIFT."""
    return _text(value).translate(_ESCAPE)


def _block(question: Question, answers: list[str]) -> str:
    one_line = question["type"] in ONE_LINE or answers[0] != NUMERICAL_HEAD and question["type"] == "numerical"
    head, answers = (NUMERICAL_HEAD, answers[1:]) if answers[0] == NUMERICAL_HEAD else ("", answers)
    if explanation := _escape(question.get("explanation")):
        answers = [*answers, f"####{explanation}"]
    if one_line:
        braces = "{" + "".join(answers) + "}"
    else:
        braces = "{" + head + "\n" + "".join(f"\t{answer}\n" for answer in answers) + "}"
    before, after = _around_blank(_text(question.get("text")))
    title = f"::{_escape(question.get('id'))}::" if _text(question.get("id")) else ""
    return f"{title}[markdown]{before.translate(_ESCAPE)}{braces}{after.translate(_ESCAPE)}"


def _around_blank(text: str) -> tuple[str, str]:
    """Split a missing-word text at its one blank, so that the answers stand in its place."""
    parts = _ONE_BLANK.split(text)
    return (parts[0], parts[1]) if len(parts) == 2 and parts[1].strip() else (text, "")


def _points_lost(question: Question) -> list[Message]:
    points = question.get("points", 1)
    return [] if points == 1 else [N_("points: %(points)s is lost: GIFT has no marks, so Moodle gives it 1 mark", points=points)]


def _options(question: Question) -> list[dict[str, Any]]:
    return [o if isinstance(o, dict) else {"text": o} for o in question.get("options") or []]


def _choice(prefix: str, option: dict[str, Any]) -> str:
    feedback = _escape(option.get("feedback"))
    return prefix + _escape(option.get("text")) + (f"#{feedback}" if feedback else "")


def _ids_lost(options: list[dict[str, Any]]) -> list[Message]:
    lost = any("id" in option for option in options)
    return [N_("its option ids are lost: read back, the options are named a, b, c, …")] if lost else []


def _share(k: int) -> str:
    """Format 100/k the way Moodle writes weights: 50, 33.33333, 16.66667, 12.5."""
    return f"{100 / k:.5f}".rstrip("0").rstrip(".")


def _write_single(question: Question) -> Answers:
    options = _options(question)
    return [_choice("=" if o.get("correct") is True else "~", o) for o in options], _ids_lost(options)


def _write_multiple(question: Question) -> Answers:
    options = _options(question)
    k = sum(o.get("correct") is True for o in options)
    if not k:
        raise _NotCarried(N_("no option is marked correct"))
    share = _share(k)
    losses = _ids_lost(options)
    if question.get("partial_credit") is not True:
        losses.append(
            N_("Moodle always gives partial credit on multiple-answer questions (each right pick adds 1/%(k)s "
               "of the mark, each wrong pick takes 1/%(k)s away); here it was all or nothing", k=k)
        )
    if k not in MOODLE_SHARES:
        losses.append(N_("Moodle has no grade of %(share)s%%: choose 'Nearest grade if not listed' when importing", share=share))
    lines = [_choice(f"~%{share}%" if o.get("correct") is True else f"~%-{share}%", o) for o in options]
    return lines, losses


def _write_true_false(question: Question) -> Answers:
    if not isinstance(question.get("answer"), bool):
        raise _NotCarried(N_("'answer' must be true or false"))
    return ["TRUE" if question["answer"] else "FALSE"], []


def _write_short_answer(question: Question) -> Answers:
    lines = [f"={_escape(answer)}" for answer in question.get("accepted") or []]
    if any("->" in line for line in lines):
        raise _NotCarried(N_("an accepted answer contains '->', which GIFT reads as a matching pair"))
    return lines, []


def _write_matching(question: Question) -> Answers:
    pairs = question.get("pairs") or []
    if any("->" in _text(pair.get("left")) for pair in pairs):
        raise _NotCarried(N_("a left item contains '->', which GIFT reads as the arrow of the pair"))
    lines = [f"={_escape(pair.get('left'))} -> {_escape(pair.get('right'))}" for pair in pairs]
    lines += [f"= -> {_escape(distractor)}" for distractor in question.get("distractors") or []]
    partial = question.get("partial_credit") is True
    return lines, [] if partial else [N_("Moodle always gives credit for each right pair; here it was all or nothing")]


def _write_numerical(question: Question) -> Answers:
    """One plain answer: `#5:0.1`, written on one line; several: `#` then one answer a line, as Moodle writes them."""
    answers = question.get("answers")
    if not isinstance(answers, list) or not answers:
        raise _NotCarried(N_("'answers' must list at least one number"))
    only = answers[0] if len(answers) == 1 else None
    if only is not None and (not isinstance(only, dict) or set(only) <= {"value", "tolerance", "min", "max"}):
        return [f"#{_number_label(only)}"], []
    lines, losses = [NUMERICAL_HEAD], []
    for answer in answers:
        credit = _credit(answer)
        if not any(abs(credit - grade) < 0.001 for grade in MOODLE_GRADES):
            losses.append(N_("Moodle has no grade of %(share)s%%: choose 'Nearest grade if not listed' when importing", share=f"{credit:g}"))
        weight = "" if credit >= 100 else f"%{credit:g}%"
        feedback = _escape(answer.get("feedback")) if isinstance(answer, dict) else ""
        lines.append(f"={weight}{_number_label(answer)}" + (f"#{feedback}" if feedback else ""))
    return lines, list(dict.fromkeys(losses))


WRITERS: dict[Any, Callable[[Question], Answers]] = {
    "single": _write_single,
    "multiple": _write_multiple,
    "true_false": _write_true_false,
    "short_answer": _write_short_answer,
    "matching": _write_matching,
    "numerical": _write_numerical,
}
ONE_LINE = frozenset({"true_false"})  # and a numerical question with one plain answer
NUMERICAL_HEAD = "#"  # opens the braces of a numerical question written one answer a line
