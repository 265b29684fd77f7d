"""Quizzes: question types (a registry), how each is parsed from YAML, read from a form and scored."""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Mapping, Sequence

from markupsafe import escape

from . import frontmatter as fm
from .errors import N_, ContentError, Message
from .render import render, render_inline, unrenderable
from .yamlfile import (
    Fields,
    LineDict,
    int_between,
    is_bool,
    is_list,
    one_of,
)

FormData = Mapping[str, list[str]]
# What a learner sees after submitting: the score only; the answers (right answers, feedback and
# explanations) once they pass; once they have no attempt left; or at once.
REVIEW_POLICIES = ("score", "after_passing", "after_last_attempt", "full")
# `review: responses` showed learners their own answers marked right or wrong, never the right
# answers; marking what was wrong gives answers away, so such quizzes now show the score only.
FORMER_REVIEW_LEVELS = {"responses": "score"}


@dataclass(frozen=True)
class Option:
    id: str
    html: str
    correct: bool = False
    feedback_html: str = ""


@dataclass(frozen=True)
class Question:
    """Base of every question type; `score` returns the share of the points earned, 0–1."""

    kind: ClassVar[str]
    id: str
    text_html: str
    explanation_html: str
    points: int

    def field(self, suffix: str = "") -> str:
        return f"q-{self.id}{'-' + suffix if suffix else ''}"

    def answer_from_form(self, form: FormData) -> Any:
        """Turn submitted form values into this question's canonical answer (None if unanswered)."""
        raise NotImplementedError

    def score(self, answer: Any) -> float:
        raise NotImplementedError

    @staticmethod
    def parse(f: Fields) -> dict[str, Any] | None:
        """Read this type's own fields from YAML; report problems through `f`."""
        raise NotImplementedError

    def correct_answer(self) -> Any:
        raise NotImplementedError

    def layout(self, seed: str, shuffle: bool) -> dict[str, list[str]]:
        """Return the display order of this question's parts for one attempt."""
        return {}

    def describe(self, answer: Any) -> list[str]:
        """Return an answer as safe HTML snippets, for review pages."""
        return [str(escape(answer))] if answer is not None else []

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, **asdict(self)}


def _first(form: FormData, name: str) -> str | None:
    values = form.get(name) or []
    return values[0] if values and values[0] != "" else None


def _shuffled(ids: list[str], seed: str, avoid: list[str] | None = None) -> list[str]:
    rng = random.Random(seed)
    order = list(ids)
    for _ in range(10):
        rng.shuffle(order)
        if avoid is None or order != avoid or len(order) < 2:
            break
    return order


# --- reading each question type's YAML fields ----------------------------------------------

def _options(f: Fields, key: str = "options", need_correct: bool = True) -> list[Option] | None:
    raw = f.get(key, is_list)
    if raw is None:
        return None
    options = []
    for index, item in enumerate(raw):
        line = raw.line_of(index)
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            item = LineDict(text=item)
            item.line, item.key_lines, item.duplicates = line, {"text": line}, []
        if not isinstance(item, LineDict):
            f.error_at(line, N_("each of '%(field)s' must be text or fields 'text: …'", field=key))
            continue
        o = Fields(f.path, item, f.errors, where=f.where)
        o.allow("id", "text", "correct", "feedback")
        option_id = o.optional("id", fm.slug, chr(ord("a") + index) if index < 26 else f"o{index}")
        text = o.get("text", _text, "")
        correct = o.optional("correct", is_bool, False) if need_correct else False
        feedback = o.optional("feedback", _text, "")
        options.append(Option(option_id, render_inline(str(text)), correct, render(str(feedback)) if feedback else ""))
    ids = [o.id for o in options]
    if len(set(ids)) != len(ids):
        f.error(key, N_("two of '%(field)s' have the same id", field=key))
    return options


def _single(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "options")
    options = _options(f)
    if options is None:
        return None
    if len(options) < 2:
        f.error("options", N_("a choice question needs at least two options"))
    if sum(o.correct for o in options) != 1:
        f.error("options", N_("a 'single' question needs exactly one option with 'correct: true'"))
    return {"options": tuple(options)}


def _multiple(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "options", "partial_credit")
    options = _options(f)
    if options is None:
        return None
    if sum(o.correct for o in options) < 1 or len(options) < 2:
        f.error("options", N_("a 'multiple' question needs at least two options, one or more with 'correct: true'"))
    return {"options": tuple(options), "partial_credit": f.optional("partial_credit", is_bool, False)}


def _true_false(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "answer")
    answer = f.get("answer", is_bool)
    return None if answer is None else {"answer": answer}


def _ordering(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "items", "partial_credit")
    items = _options(f, "items", need_correct=False)
    if items is None:
        return None
    if len(items) < 2:
        f.error("items", N_("an ordering question needs at least two items"))
    return {"items": tuple(items), "partial_credit": f.optional("partial_credit", is_bool, False)}


def _matching(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "pairs", "distractors", "partial_credit")
    pairs = f.get("pairs", is_list)
    distractors = f.optional("distractors", is_list, [])
    if pairs is None:
        return None
    lefts, answers, right_texts = [], [], []
    for index, pair in enumerate(pairs):
        if not isinstance(pair, LineDict):
            f.error_at(pairs.line_of(index), N_("each pair must be written as {left: …, right: …}"))
            continue
        p = Fields(f.path, pair, f.errors, where=f.where)
        p.allow("left", "right")
        left, right = p.get("left", _text), p.get("right", _text)
        if left is None or right is None:
            continue
        lefts.append(Option(f"l{index + 1}", render_inline(str(left))))
        if str(right) not in right_texts:
            right_texts.append(str(right))
        answers.append(f"r{right_texts.index(str(right)) + 1}")
    for index, value in enumerate(distractors):
        if found := unrenderable(str(value)):
            f.error_at(distractors.line_of(index), N_("each of 'distractors' %(problem)s", problem=found[1]))
        elif str(value) not in right_texts:
            right_texts.append(str(value))
    if len(lefts) < 2:
        f.error("pairs", N_("a matching question needs at least two pairs"))
    rights = tuple(Option(f"r{i + 1}", render_inline(text)) for i, text in enumerate(right_texts))
    return {
        "lefts": tuple(lefts),
        "rights": rights,
        "answers": tuple(answers),
        "partial_credit": f.optional("partial_credit", is_bool, False),
    }


def _short_answer(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "accepted")
    accepted = f.get("accepted", is_list)
    if accepted is None:
        return None
    values = tuple(str(a).strip() for a in accepted if str(a).strip())
    if not values:
        f.error("accepted", N_("'accepted' must list at least one answer"))
    return {"accepted": values}


NUMBER_ANSWER_FIELDS = ("value", "tolerance", "min", "max", "credit", "feedback")


def _numerical(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "answers")
    raw = f.get("answers", is_list)
    if raw is None:
        return None
    numbers = []
    for index, item in enumerate(raw):
        if not isinstance(item, LineDict):
            if (number := _exact(item)) is None:
                f.error_at(raw.line_of(index), N_("each of 'answers' must be a number or fields 'value: …, tolerance: …' or 'min: …, max: …'"))
            else:
                numbers.append(NumberAnswer(value=number))
            continue
        before = len(f.errors)
        a = Fields(f.path, item, f.errors, where=f.where)
        a.allow(*NUMBER_ANSWER_FIELDS)
        value, low, high = (a.optional(key, _is_number) for key in ("value", "min", "max"))
        tolerance = a.optional("tolerance", _is_tolerance, 0)
        credit = a.optional("credit", _is_credit, 100)
        feedback = a.optional("feedback", _text, "")
        if ("value" in item) == ("min" in item or "max" in item):
            a.error(None, N_("an answer needs either 'value' (and perhaps 'tolerance') or both 'min' and 'max'"))
            continue
        if "value" not in item and ("min" not in item or "max" not in item):
            a.error(None, N_("an answer with 'min' needs 'max' too, and one with 'max' needs 'min'"))
            continue
        if "tolerance" in item and "value" not in item:
            a.error("tolerance", N_("'tolerance' goes with 'value'; 'min' and 'max' are the range itself"))
            continue
        if low is not None and high is not None and Decimal(_exact(low)) > Decimal(_exact(high)):
            a.error("min", N_("'min' (%(min)s) is more than 'max' (%(max)s)", min=_exact(low), max=_exact(high)))
        if len(f.errors) > before:
            continue
        numbers.append(NumberAnswer(
            value=_exact(value), tolerance=_exact(tolerance) or "0", min=_exact(low), max=_exact(high),
            credit=float(_exact(credit) or 100), feedback_html=render(str(feedback)) if feedback else "",
        ))
    if numbers and not any(n.credit >= 100 for n in numbers):
        f.error("answers", N_("a 'numerical' question needs at least one answer worth full credit (credit: 100, the default)"))
    return {"numbers": tuple(numbers)}


_WRITTEN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")


def _exact(value: Any) -> str | None:
    """A number written in a quiz file, as plain decimal text ('1e-3' → '0.001'); None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    text = str(value).strip()
    if not _WRITTEN_NUMBER.fullmatch(text):
        return None
    return number_text(Decimal(text))


def number_text(number: Decimal) -> str:
    """Write a number as plain decimal text, without exponent or trailing zeros: 1E+2 → '100', 3.50 → '3.5'."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def _is_number(value: Any) -> Message | None:
    return None if _exact(value) is not None else N_("must be a number")


def _is_tolerance(value: Any) -> Message | None:
    number = _exact(value)
    return None if number is not None and Decimal(number) >= 0 else N_("must be a number, 0 or more")


def _is_credit(value: Any) -> Message | None:
    number = _exact(value)
    return None if number is not None and 0 <= Decimal(number) <= 100 else N_("must be a number from 0 to 100 (a percentage)")


# --- numbers as learners type them ----------------------------------------------------------

_TYPED_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d{1,3})?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# After NFKC has made full-width digits and signs (３．５, －２) plain: the ideographic full stop and
# the minus sign, which NFKC keeps.
_NUMBER_MARKS = str.maketrans({"。": ".", "\u2212": "-"})
MAX_TYPED_NUMBER = 100


def read_number(typed: str) -> Decimal | None:
    """Read a number as a learner types it; None if it is not one.

    Full-width digits and marks (３．５, 3。5, －2) count as their plain forms; spaces are ignored;
    a comma before three digits groups thousands (1,000 and 1,000.5), any other single comma is a
    decimal comma (3,5).
    """
    text = "".join(unicodedata.normalize("NFKC", typed[:MAX_TYPED_NUMBER]).translate(_NUMBER_MARKS).split()).lower()
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    if not _TYPED_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class NumberAnswer:
    """One answer of a numerical question: `value` ± `tolerance`, or `min` to `max`, worth `credit` % of the points.

    Numbers are kept as decimal text, so that 0.1 ± 0.1 means exactly 0 to 0.2.
    """

    value: str | None = None
    tolerance: str = "0"
    min: str | None = None
    max: str | None = None
    credit: float = 100.0
    feedback_html: str = ""

    @property
    def bounds(self) -> tuple[Decimal, Decimal]:
        if self.value is None:
            return Decimal(self.min or 0), Decimal(self.max or 0)
        value, tolerance = Decimal(self.value), Decimal(self.tolerance)
        return value - tolerance, value + tolerance

    def accepts(self, number: Decimal) -> bool:
        low, high = self.bounds
        return low <= number <= high

    @property
    def label(self) -> str:
        if self.value is None:
            return f"{self.min} – {self.max}"
        return self.value if Decimal(self.tolerance) == 0 else f"{self.value} ± {self.tolerance}"


@dataclass(frozen=True)
class SingleChoice(Question):
    kind: ClassVar[str] = "single"
    options: tuple[Option, ...] = ()
    parse = staticmethod(_single)

    def answer_from_form(self, form: FormData) -> str | None:
        value = _first(form, self.field())
        return value if value in {o.id for o in self.options} else None

    def score(self, answer: Any) -> float:
        return 1.0 if answer in {o.id for o in self.options if o.correct} else 0.0

    def correct_answer(self) -> str:
        return next(o.id for o in self.options if o.correct)

    def describe(self, answer: Any) -> list[str]:
        picked = answer if isinstance(answer, list) else [answer]
        return [o.html for o in self.options if o.id in picked]

    def feedback_for(self, answer: Any) -> list[str]:
        picked = answer if isinstance(answer, list) else [answer]
        return [o.feedback_html for o in self.options if o.id in picked and o.feedback_html]

    def layout(self, seed: str, shuffle: bool) -> dict[str, list[str]]:
        ids = [o.id for o in self.options]
        return {"options": _shuffled(ids, seed) if shuffle else ids}


@dataclass(frozen=True)
class MultipleChoice(SingleChoice):
    kind: ClassVar[str] = "multiple"
    partial_credit: bool = False
    parse = staticmethod(_multiple)

    def answer_from_form(self, form: FormData) -> list[str] | None:
        known = {o.id for o in self.options}
        picked = sorted({v for v in form.get(self.field(), []) if v in known})
        return picked or None

    def score(self, answer: Any) -> float:
        if not isinstance(answer, list):
            return 0.0
        right = {o.id for o in self.options if o.correct}
        picked = {a for a in answer if isinstance(a, str)}
        if not self.partial_credit:
            return 1.0 if picked == right else 0.0
        return max(0.0, (len(picked & right) - len(picked - right)) / len(right))

    def correct_answer(self) -> list[str]:
        return sorted(o.id for o in self.options if o.correct)


@dataclass(frozen=True)
class TrueFalse(Question):
    kind: ClassVar[str] = "true_false"
    answer: bool = True
    parse = staticmethod(_true_false)

    def answer_from_form(self, form: FormData) -> bool | None:
        return {"true": True, "false": False}.get(_first(form, self.field()) or "")

    def score(self, answer: Any) -> float:
        return 1.0 if isinstance(answer, bool) and answer == self.answer else 0.0

    def correct_answer(self) -> bool:
        return self.answer


@dataclass(frozen=True)
class Ordering(Question):
    kind: ClassVar[str] = "ordering"
    items: tuple[Option, ...] = ()
    partial_credit: bool = False
    parse = staticmethod(_ordering)

    def answer_from_form(self, form: FormData) -> list[str] | None:
        positions = {}
        for item in self.items:
            value = _first(form, self.field(item.id))
            if value is None or not value.isdigit():
                return None
            positions[item.id] = int(value)
        return sorted(positions, key=lambda item_id: positions[item_id])

    def score(self, answer: Any) -> float:
        right = self.correct_answer()
        if not isinstance(answer, list) or sorted(map(str, answer)) != sorted(right):
            return 0.0
        in_place = sum(1 for a, b in zip(answer, right, strict=True) if a == b)
        if self.partial_credit:
            return in_place / len(right)
        return 1.0 if in_place == len(right) else 0.0

    def correct_answer(self) -> list[str]:
        return [item.id for item in self.items]

    def describe(self, answer: Any) -> list[str]:
        by_id = {item.id: item.html for item in self.items}
        return [by_id[i] for i in answer if i in by_id] if isinstance(answer, list) else []

    def layout(self, seed: str, shuffle: bool) -> dict[str, list[str]]:
        ids = self.correct_answer()
        return {"items": _shuffled(ids, seed, avoid=ids)}


@dataclass(frozen=True)
class Matching(Question):
    kind: ClassVar[str] = "matching"
    lefts: tuple[Option, ...] = ()
    rights: tuple[Option, ...] = ()
    answers: tuple[str, ...] = ()
    partial_credit: bool = False
    parse = staticmethod(_matching)

    def answer_from_form(self, form: FormData) -> dict[str, str] | None:
        known = {r.id for r in self.rights}
        answer = {}
        for left in self.lefts:
            value = _first(form, self.field(left.id))
            if value in known:
                answer[left.id] = value
        return answer or None

    def score(self, answer: Any) -> float:
        if not isinstance(answer, dict):
            return 0.0
        right = self.correct_answer()
        hits = sum(1 for left_id, right_id in right.items() if answer.get(left_id) == right_id)
        if self.partial_credit:
            return hits / len(right)
        return 1.0 if hits == len(right) else 0.0

    def correct_answer(self) -> dict[str, str]:
        return {left.id: right_id for left, right_id in zip(self.lefts, self.answers, strict=True)}

    def describe(self, answer: Any) -> list[str]:
        if not isinstance(answer, dict):
            return []
        rights = {r.id: r.html for r in self.rights}
        return [f"{left.html} → {rights.get(answer.get(left.id), '—')}" for left in self.lefts]

    def layout(self, seed: str, shuffle: bool) -> dict[str, list[str]]:
        lefts, rights = [left.id for left in self.lefts], [r.id for r in self.rights]
        if shuffle:
            return {"lefts": _shuffled(lefts, seed), "rights": _shuffled(rights, seed + ":r")}
        return {"lefts": lefts, "rights": rights}


def normalise_text(value: str) -> str:
    """Compare short answers ignoring case, spacing, punctuation width (全角/半角)."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch)[0] != "P")


@dataclass(frozen=True)
class ShortAnswer(Question):
    kind: ClassVar[str] = "short_answer"
    accepted: tuple[str, ...] = ()
    parse = staticmethod(_short_answer)

    def answer_from_form(self, form: FormData) -> str | None:
        value = _first(form, self.field())
        return value.strip()[:500] if value and value.strip() else None

    def score(self, answer: Any) -> float:
        if not isinstance(answer, str):
            return 0.0
        return 1.0 if normalise_text(answer) in {normalise_text(a) for a in self.accepted} else 0.0

    def correct_answer(self) -> str:
        return self.accepted[0]


@dataclass(frozen=True)
class Numerical(Question):
    """A number typed by the learner, right when within an answer's range; the best such answer gives the credit.

    The answer kept is the text as typed (so that what a learner wrote is never lost); text that
    is not a number scores 0.
    """

    kind: ClassVar[str] = "numerical"
    numbers: tuple[NumberAnswer, ...] = ()
    parse = staticmethod(_numerical)

    def answer_from_form(self, form: FormData) -> str | None:
        value = _first(form, self.field())
        return value.strip()[:MAX_TYPED_NUMBER] if value and value.strip() else None

    def number(self, answer: Any) -> Decimal | None:
        """The number an answer stands for (None: not a number)."""
        return read_number(answer) if isinstance(answer, str) else None

    def match(self, answer: Any) -> NumberAnswer | None:
        """The answer worth most of those whose range holds the learner's number (of equals, the first written)."""
        number = self.number(answer)
        if number is None:
            return None
        return max((n for n in self.numbers if n.accepts(number)), key=lambda n: n.credit, default=None)

    def score(self, answer: Any) -> float:
        found = self.match(answer)
        return found.credit / 100 if found else 0.0

    def correct_answer(self) -> str:
        """A number worth full credit: the first such answer's value, or the middle of its range."""
        low, high = next(n for n in self.numbers if n.credit >= 100).bounds
        return number_text((low + high) / 2)

    @property
    def below_zero(self) -> bool:
        """Whether a number below 0 earns anything (phone keypads for decimals have no minus sign)."""
        return any(n.bounds[0] < 0 for n in self.numbers)

    @property
    def right_labels(self) -> list[str]:
        """Every answer worth full credit, as a trainer wrote it: 5, 5 ± 0.1 or 1 – 2."""
        return [n.label for n in self.numbers if n.credit >= 100]

    def feedback_for(self, answer: Any) -> list[str]:
        found = self.match(answer)
        return [found.feedback_html] if found and found.feedback_html else []


QUESTION_TYPES: dict[str, type[Question]] = {
    cls.kind: cls for cls in (SingleChoice, MultipleChoice, TrueFalse, Ordering, Matching, ShortAnswer, Numerical)
}


@dataclass(frozen=True)
class Pool:
    """Variants of one learning objective: each attempt asks `draw` of them."""

    id: str
    draw: int
    question_ids: tuple[str, ...]
    objective: str = ""  # the objective in words, for HR's gain tables; empty: the id

    @property
    def label(self) -> str:
        return self.objective or self.id


@dataclass(frozen=True)
class Quiz:
    """A quiz; `questions` holds every question of the file, the pools' variants included."""

    id: str
    title: str
    pass_mark: int
    attempts: int
    shuffle: bool
    review: str
    keep: str
    questions: tuple[Question, ...]
    path: str
    module_id: str | None = None
    pools: tuple[Pool, ...] = ()
    title_en: str = ""

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def asked_count(self) -> int:
        """How many questions one attempt asks."""
        pooled = sum(len(p.question_ids) for p in self.pools)
        return len(self.questions) - pooled + sum(p.draw for p in self.pools)

    def draw(self, seed: str) -> tuple[str, ...]:
        """Return the ids one attempt asks: every question outside the pools and `draw` of each pool.

        The same seed (the attempt's id) always draws the same set.
        """
        pooled = {qid for p in self.pools for qid in p.question_ids}
        chosen = {q.id for q in self.questions if q.id not in pooled}
        for pool in self.pools:
            chosen.update(random.Random(f"{seed}:{pool.id}").sample(pool.question_ids, pool.draw))
        return tuple(q.id for q in self.questions if q.id in chosen)

    def drawn(self, question_ids: Sequence[str] | None) -> tuple[Question, ...]:
        """Return the questions of one attempt, given the ids it drew (None: an attempt from before pools)."""
        if question_ids is None:
            return self.questions
        wanted = set(question_ids)
        return tuple(q for q in self.questions if q.id in wanted)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("questions", "pools")}
        return {
            **data,
            "questions": [q.to_dict() for q in self.questions],
            "pools": [asdict(p) for p in self.pools],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quiz:
        questions = tuple(_question_from_dict(q) for q in data["questions"])
        pools = tuple(Pool(p["id"], p["draw"], tuple(p["question_ids"]), p.get("objective", "")) for p in data.get("pools", ()))
        review = FORMER_REVIEW_LEVELS.get(data["review"], data["review"])
        return cls(**{**data, "questions": questions, "pools": pools, "review": review})


def _question_from_dict(data: Mapping[str, Any]) -> Question:
    data = dict(data)
    cls = QUESTION_TYPES[data.pop("type")]
    for name in ("options", "items", "lefts", "rights"):
        if name in data:
            data[name] = tuple(Option(**o) for o in data[name])
    for name in ("answers", "accepted"):
        if name in data:
            data[name] = tuple(data[name])
    if "numbers" in data:
        data["numbers"] = tuple(NumberAnswer(**n) for n in data["numbers"])
    return cls(**data)


# --- compiling YAML into a Quiz -----------------------------------------------------------

QUIZ_FIELDS = ("id", "kind", "title", "title_en", "pass_mark", "attempts", "shuffle", "review", "keep", "questions", "pools")
POOL_FIELDS = ("id", "objective", "draw", "questions")
COMMON_QUESTION_FIELDS = ("id", "type", "text", "explanation", "points")


def _text(value: Any) -> Message | None:
    return fm.text(value) if not isinstance(value, (int, float)) or isinstance(value, bool) else None


def _review(value: Any) -> Message | None:
    if value in REVIEW_POLICIES or value in FORMER_REVIEW_LEVELS:
        return None
    return N_("must be one of: %(choices)s", choices=", ".join(REVIEW_POLICIES))


def compile_quiz(path: str, data: LineDict, errors: list[ContentError]) -> Quiz | None:
    before = len(errors)
    f = Fields(path, data, errors)
    f.allow(*QUIZ_FIELDS)
    quiz_id = f.get("id", fm.slug)
    title = f.get("title", fm.text)
    title_en = f.optional("title_en", fm.one_line, "")
    pass_mark = f.optional("pass_mark", int_between(1, 100), 80)
    attempts = f.optional("attempts", int_between(0, 100), 0)
    shuffle = f.optional("shuffle", is_bool, False)
    review = f.optional("review", _review, "full")
    review = FORMER_REVIEW_LEVELS.get(review, review)
    if review == "after_last_attempt" and attempts == 0:
        f.error("review", N_("'after_last_attempt' needs a last attempt: set 'attempts' to 1 or more"))
    keep = f.optional("keep", one_of("best", "last"), "best")
    seen: dict[str, int] = {}
    questions = _compile_questions(path, f.get("questions", is_list, [], required="pools" not in data), errors, seen)
    pools: list[Pool] = []
    for index, raw in enumerate(f.optional("pools", is_list, [])):
        line = data["pools"].line_of(index)
        if not isinstance(raw, LineDict):
            errors.append(ContentError(path, line, N_("each pool must be fields written as 'id: …, draw: …, questions: …'")))
            continue
        pool, pool_questions = _compile_pool(path, raw, errors, seen, pools)
        questions += pool_questions
        if pool is not None:
            pools.append(pool)
    if len(errors) > before:
        return None
    return Quiz(
        quiz_id, title.strip(), pass_mark, attempts, shuffle, review, keep, tuple(questions), path, pools=tuple(pools),
        title_en=title_en.strip(),
    )


def _compile_pool(
    path: str, raw: LineDict, errors: list[ContentError], seen: dict[str, int], pools: list[Pool]
) -> tuple[Pool | None, list[Question]]:
    """Read one pool: an objective's id, how many questions to draw, and its variants."""
    f = Fields(path, raw, errors, where=(N_("pool: "),))
    f.allow(*POOL_FIELDS)
    pool_id = f.get("id", fm.slug)
    if pool_id is not None:
        f.where = (N_("pool '%(pool)s': ", pool=pool_id),)
        if any(p.id == pool_id for p in pools):
            f.error("id", N_("pool id '%(pool)s' is already used", pool=pool_id))
    objective = f.optional("objective", fm.text, "")
    draw = f.optional("draw", int_between(1, 100), 1)
    raw_questions = f.get("questions", is_list, [])
    questions = _compile_questions(path, raw_questions, errors, seen, f.where)
    if raw_questions and draw > len(raw_questions):
        size = len(raw_questions)
        f.error("draw", N_("'draw' is %(draw)s but the pool holds only %(size)s questions: draw at most %(size)s", draw=draw, size=size)
                if size > 1 else N_("'draw' is %(draw)s but the pool holds only 1 question: draw at most 1", draw=draw))
    if pool_id is None:
        return None, questions
    return Pool(pool_id, draw, tuple(q.id for q in questions), (objective or "").strip()), questions


def _compile_questions(
    path: str, raw_questions: list, errors: list[ContentError], seen: dict[str, int], where: tuple[Message, ...] = ()
) -> list[Question]:
    questions: list[Question] = []
    for index, raw in enumerate(raw_questions):
        line = raw_questions.line_of(index)
        if not isinstance(raw, LineDict):
            errors.append(ContentError(path, line, N_("each question must be fields written as 'name: value'"), where))
            continue
        question = _compile_question(path, raw, errors, (*where, N_("question %(number)s: ", number=index + 1)))
        if question is None:
            continue
        if question.id in seen:
            errors.append(ContentError(path, raw.line_of("id"), N_(
                "question id '%(id)s' is already used on line %(line)s", id=question.id, line=seen[question.id]
            )))
        seen[question.id] = raw.line_of("id")
        questions.append(question)
    return questions


def _compile_question(path: str, raw: LineDict, errors: list[ContentError], where: tuple[Message, ...]) -> Question | None:
    before = len(errors)
    f = Fields(path, raw, errors, where=where)
    kind = f.get("type", one_of(*QUESTION_TYPES))
    if kind is None:
        return None  # reported; the other fields cannot be judged without a type
    common = dict(
        id=f.get("id", fm.slug),
        text_html=render(str(f.get("text", _text, ""))),
        explanation_html=render(str(f.get("explanation", _text, ""))),
        points=f.optional("points", int_between(1, 100), 1),
    )
    extra = QUESTION_TYPES[kind].parse(f)
    if len(errors) > before or extra is None:
        return None
    return QUESTION_TYPES[kind](**common, **extra)


