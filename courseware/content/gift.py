"""Moodle GIFT: read a GIFT file into quiz questions, and write quiz questions as GIFT.

Questions are YAML-shaped dicts, exactly what a trainer writes under `questions:` in a quiz file.
Whatever cannot be carried is listed as `Skipped`: a question left out, or a detail lost from a
question that was kept (then `question` is its id and the reason says what was lost).

Canonical form. `parse(dump(qs))[0] == qs` for questions written like this:
- keys `id` (a slug), `type`, `text`, `explanation` (left out when empty) and the type's own fields;
  no `points`; every text a string without leading or trailing whitespace;
- `single`: `options` as dicts `{text, correct: true, feedback}`, with `correct` only on the right
  option and `feedback` only when there is some; `multiple`: the same, plus `partial_credit: true`;
- `true_false`: `answer`; `short_answer`: `accepted`, a list of strings;
- `matching`: `pairs` as `{left, right}`, `distractors` only when there are some, `partial_credit: true`;
- a missing-word question has its blank written `____` once, with text after it.
`dump(parse(g)[0])[0] == g` for GIFT written the way `dump` writes it: one block per question,
`::id::[markdown]text{`, one answer per line after a tab, `\t####explanation` last, `}` (true/false on
one line: `{TRUE####explanation}`), questions separated by one blank line, special characters escaped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import count
from typing import Any, Callable, Iterator

from . import yamlfile
from .compiler import too_long
from .errors import N_, ContentError, CourseInvalid, Message
from .frontmatter import SLUG
from .quizfile import unique_id

Question = dict[str, Any]
Answers = tuple[list[str], list[Message]]  # GIFT answer lines, and what is lost writing them
Read = tuple[dict[str, Any], list[Message]]  # a question's own fields, and what is lost reading them

BLANK = "____"
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
MOODLE_SHARES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20})  # k for which 100/k % is a Moodle grade
MAX_QUESTIONS = 500  # the largest quiz has a dozen; reading grows faster than the count

_SYNTAX = "~=#{}:"
# While a question is cut up, its escaped syntax characters stand in as private-use characters.
_HIDDEN = {char: chr(0xE000 + i) for i, char in enumerate(_SYNTAX)}
_UNESCAPED = {"\\": "\\", "n": "\n", **_HIDDEN}
_SHOW = str.maketrans({hidden: char for char, hidden in _HIDDEN.items()})
_ESCAPE = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "", **{char: "\\" + char for char in _SYNTAX}})
_ESCAPED = re.compile(r"\\([\\n~=#{}:])")
_FORMAT = re.compile(r"^\s*\[(?:markdown|html|plain|moodle)\]")
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

def parse(text: str, path: str = "questions.gift") -> tuple[list[Question], list[Skipped]]:
    """Read a GIFT file into quiz questions; list by line what was left out or lost.

    Raises `CourseInvalid` naming `path` when the file is too large to import, before reading it.
    """
    if error := too_long(path, text) or _too_many(text, path):
        raise CourseInvalid([error])
    kept: list[tuple[int, str | None, Question, list[Message]]] = []
    skipped: list[Skipped] = []
    for line, block in _blocks(text):
        hidden = _ESCAPED.sub(lambda m: _UNESCAPED[m[1]], block).strip()
        try:
            title, body = _title(hidden)
            question, losses = _question(body)
        except _NotCarried as error:
            skipped.append(Skipped(line, _label(hidden), error.message))
            continue
        kept.append((line, title, question, losses))
    questions = []
    for (line, _, question, losses), qid in zip(kept, _ids([title for _, title, _, _ in kept])):
        questions.append({"id": qid, **question})
        skipped += [Skipped(line, qid, loss, kept=True) for loss in losses]
    return questions, sorted(skipped, key=lambda item: item.line or 0)


def _too_many(text: str, path: str) -> ContentError | None:
    for number, (line, _) in enumerate(_blocks(text), 1):
        if number > MAX_QUESTIONS:
            return ContentError(path, line, N_("more than %(most)s questions: import at most %(most)s at a time", most=MAX_QUESTIONS))
    return None


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    """Yield each question's first line number and its lines; blank lines separate questions."""
    lines: list[str] = []
    start = 0
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), 1):
        content = line.strip()
        if not content:
            if lines:
                yield start, "\n".join(lines)
            lines = []
        elif not content.startswith(("//", "$CATEGORY:")):
            start = start if lines else number
            lines.append(line)
    if lines:
        yield start, "\n".join(lines)


def _clean(text: str) -> str:
    """Drop a leading format marker, put escaped characters back and trim."""
    return _FORMAT.sub("", text, count=1).translate(_SHOW).strip()


def _label(block: str) -> str:
    """Name a question that could not be read: its title, else the start of its text."""
    title = re.match(r"::(.*?)::", block, re.S)
    return _clean(title[1]) if title else _clean(block.split("\n")[0])[:40]


def _title(block: str) -> tuple[str | None, str]:
    if not block.startswith("::"):
        return None, block
    end = block.find("::", 2)
    if end < 0:
        raise _NotCarried(N_("the question name is not closed: write it as ::name::"))
    return _clean(block[2:end]), block[end + 2 :]


def _ids(titles: list[str | None]) -> list[str]:
    """Use each title that is a slug as the id; number the others gift-1, gift-2, … around them."""
    slugs = {title for title in titles if title and SLUG.match(title)}
    ids: list[str] = []
    numbers = count(1)
    for title in titles:
        taken = slugs | set(ids)
        if title in slugs:
            ids.append(title if title not in ids else unique_id(title, taken))
        else:
            ids.append(next(qid for n in numbers if (qid := f"gift-{n}") not in taken))
    return ids


def _question(body: str) -> tuple[Question, list[Message]]:
    start, end = body.find("{"), body.find("}")
    if start < 0 and end < 0:
        raise _NotCarried(N_("description items (text with no {…} answers) are not supported"))
    rest = body[end + 1 :]
    if start < 0 or end < start or "{" in body[start + 1 : end] or "{" in rest or "}" in rest:
        raise _NotCarried(N_("the braces { } do not pair up; write a brace that is text as \\{ or \\}"))
    answers, explanation = _general_feedback(body[start + 1 : end])
    text = _clean(body[:start] + (BLANK + rest if rest.strip() else ""))
    if not text:
        raise _NotCarried(N_("the question has no text"))
    kind = _kind(answers.strip())
    fields, losses = READERS[kind](answers)
    question = {"type": kind, "text": text, **fields}
    if explanation:
        question["explanation"] = explanation
    return question, losses


def _general_feedback(answers: str) -> tuple[str, str]:
    if "####" not in answers:
        return answers, ""
    answers, _, explanation = answers.rpartition("####")
    return answers, _clean(explanation)


def _kind(answers: str) -> str:
    """Tell the question type from its answers, in the order Moodle does."""
    if not answers:
        raise _NotCarried(N_("essay questions ({} with no answers) are not supported"))
    if answers.startswith("#"):
        raise _NotCarried(N_("numerical questions ({#…}) are not supported"))
    if "~" in answers:
        return "single" if "=" in answers else "multiple"
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
        raise _NotCarried(N_("'%(text)s' is not an answer: start each answer with %(markers)s", text=_clean(head), markers=starts))
    return [(parts[i], parts[i + 1].strip()) for i in range(0, len(parts), 2)]


def _weighted(answer: str, default: float) -> tuple[float, str]:
    weight = _WEIGHT.match(answer)
    return (float(weight[1]), answer[weight.end() :]) if weight else (default, answer)


def _option(answer: str, correct: bool) -> dict[str, Any]:
    text, _, feedback = answer.partition("#")
    option: dict[str, Any] = {"text": _clean(text)}
    if not option["text"]:
        raise _NotCarried(N_("an answer has no text"))
    if correct:
        option["correct"] = True
    if feedback := _clean(feedback):
        option["feedback"] = feedback
    return option


def _choices(answers: str) -> list[tuple[str, float, str]]:
    """Return (marker, weight, answer) for each answer: '=' weighs 100, '~' its %weight% or 0."""
    choices = [
        (marker, *(_weighted(answer, 0.0) if marker == "~" else (100.0, answer)))
        for marker, answer in _split(answers, "~=")
    ]
    if len(choices) < 2:
        raise _NotCarried(N_("a choice question needs at least two answers"))
    return choices


def _read_single(answers: str) -> Read:
    choices = _choices(answers)
    if sum(marker == "=" for marker, _, _ in choices) != 1:
        raise _NotCarried(N_("more than one answer is marked '=', but a single-choice question has one right answer"))
    weighted = any(weight for marker, weight, _ in choices if marker == "~")
    losses = [N_("kept, but the weights of its '~' answers are dropped: every wrong answer scores 0")] if weighted else []
    return {"options": [_option(answer, marker == "=") for marker, _, answer in choices]}, losses


def _read_multiple(answers: str) -> Read:
    choices = _choices(answers)
    k = sum(weight > 0 for _, weight, _ in choices)
    if not k:
        raise _NotCarried(N_("no answer has a positive weight, so none of them is right"))
    even = all(abs(abs(weight) - 100 / k) < 0.001 for _, weight, _ in choices)
    losses = [] if even else [
        N_("kept, but scored with equal shares instead of its weights: each right pick adds 1/%(k)s of the mark, "
           "each wrong pick takes 1/%(k)s away", k=k)
    ]
    options = [_option(answer, weight > 0) for _, weight, answer in choices]
    return {"options": options, "partial_credit": True}, losses


def _read_true_false(answers: str) -> Read:
    answer, *feedback = answers.split("#", 2)
    lost = any(_clean(text) for text in feedback)
    losses = [N_("kept without the feedback on its true/false answers: give it an explanation (####) instead")]
    return {"answer": TRUE_FALSE[answer.strip()]}, losses if lost else []


def _read_short_answer(answers: str) -> Read:
    accepted: list[str] = []
    losses: list[Message] = []
    for _, answer in _split(answers, "="):
        weight, answer = _weighted(answer, 100.0)
        text, _, feedback = (_clean(part) for part in answer.partition("#"))
        if not text:
            raise _NotCarried(N_("an answer has no text"))
        if feedback:
            losses.append(N_("kept without the feedback on its answers"))
        if weight <= 0:
            losses.append(N_("kept without the answer '%(text)s', which is worth %(weight)s%%", text=text, weight=f"{weight:g}"))
            continue
        if weight < 100:
            losses.append(N_("kept, but the answer '%(text)s' now earns the full mark instead of %(weight)s%%", text=text, weight=f"{weight:g}"))
        accepted.append(text)
    if not accepted:
        raise _NotCarried(N_("no answer earns any mark"))
    return {"accepted": accepted}, list(dict.fromkeys(losses))


def _read_matching(answers: str) -> Read:
    pairs: list[dict[str, str]] = []
    distractors: list[str] = []
    for _, answer in _split(answers, "="):
        left, arrow, right = answer.partition("->")
        if not arrow or not _clean(right):
            raise _NotCarried(N_("each matching answer must be written '=left -> right'"))
        if _clean(left):
            pairs.append({"left": _clean(left), "right": _clean(right)})
        else:
            distractors.append(_clean(right))
    if len(pairs) < 2:
        raise _NotCarried(N_("a matching question needs at least two pairs"))
    return {"pairs": pairs, **({"distractors": distractors} if distractors else {}), "partial_credit": True}, []


READERS: dict[str, Callable[[str], Read]] = {
    "single": _read_single,
    "multiple": _read_multiple,
    "true_false": _read_true_false,
    "short_answer": _read_short_answer,
    "matching": _read_matching,
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
    if explanation := _escape(question.get("explanation")):
        answers = [*answers, f"####{explanation}"]
    if question["type"] in ONE_LINE:
        braces = "{" + "".join(answers) + "}"
    else:
        braces = "{\n" + "".join(f"\t{answer}\n" for answer in answers) + "}"
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


WRITERS: dict[Any, Callable[[Question], Answers]] = {
    "single": _write_single,
    "multiple": _write_multiple,
    "true_false": _write_true_false,
    "short_answer": _write_short_answer,
    "matching": _write_matching,
}
ONE_LINE = frozenset({"true_false"})
