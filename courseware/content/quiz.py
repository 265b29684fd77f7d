"""Quizzes: question types (a registry), how each is parsed from YAML, read from a form and scored."""
from __future__ import annotations

import random
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Mapping

from markupsafe import escape

from . import frontmatter as fm
from .errors import ContentError
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
REVIEW_LEVELS = ("score", "responses", "full")


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
            f.error_at(line, f"each of '{key}' must be text or fields 'text: …'")
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
        f.error(key, f"two of '{key}' have the same id")
    return options


def _single(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "options")
    options = _options(f)
    if options is None:
        return None
    if len(options) < 2:
        f.error("options", "a choice question needs at least two options")
    if sum(o.correct for o in options) != 1:
        f.error("options", "a 'single' question needs exactly one option with 'correct: true'")
    return {"options": tuple(options)}


def _multiple(f: Fields) -> dict[str, Any] | None:
    f.allow(*COMMON_QUESTION_FIELDS, "options", "partial_credit")
    options = _options(f)
    if options is None:
        return None
    if sum(o.correct for o in options) < 1 or len(options) < 2:
        f.error("options", "a 'multiple' question needs at least two options, one or more with 'correct: true'")
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
        f.error("items", "an ordering question needs at least two items")
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
            f.error_at(pairs.line_of(index), "each pair must be written as {left: …, right: …}")
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
            f.error_at(distractors.line_of(index), f"each of 'distractors' {found[1]}")
        elif str(value) not in right_texts:
            right_texts.append(str(value))
    if len(lefts) < 2:
        f.error("pairs", "a matching question needs at least two pairs")
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
        f.error("accepted", "'accepted' must list at least one answer")
    return {"accepted": values}



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

    def describe(self, answer: Any) -> list[str]:
        return [{True: "正确 (true)", False: "错误 (false)"}[answer]] if isinstance(answer, bool) else []


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


QUESTION_TYPES: dict[str, type[Question]] = {
    cls.kind: cls for cls in (SingleChoice, MultipleChoice, TrueFalse, Ordering, Matching, ShortAnswer)
}


@dataclass(frozen=True)
class Quiz:
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

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "questions"}
        return {**data, "questions": [q.to_dict() for q in self.questions]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quiz:
        questions = tuple(_question_from_dict(q) for q in data["questions"])
        return cls(**{**data, "questions": questions})


def _question_from_dict(data: Mapping[str, Any]) -> Question:
    data = dict(data)
    cls = QUESTION_TYPES[data.pop("type")]
    for name in ("options", "items", "lefts", "rights"):
        if name in data:
            data[name] = tuple(Option(**o) for o in data[name])
    for name in ("answers", "accepted"):
        if name in data:
            data[name] = tuple(data[name])
    return cls(**data)


# --- compiling YAML into a Quiz -----------------------------------------------------------

QUIZ_FIELDS = ("id", "kind", "title", "pass_mark", "attempts", "shuffle", "review", "keep", "questions")
COMMON_QUESTION_FIELDS = ("id", "type", "text", "explanation", "points")


def _text(value: Any) -> str | None:
    return fm.text(value) if not isinstance(value, (int, float)) or isinstance(value, bool) else None


def compile_quiz(path: str, data: LineDict, errors: list[ContentError]) -> Quiz | None:
    before = len(errors)
    f = Fields(path, data, errors)
    f.allow(*QUIZ_FIELDS)
    quiz_id = f.get("id", fm.slug)
    title = f.get("title", fm.text)
    pass_mark = f.optional("pass_mark", int_between(1, 100), 80)
    attempts = f.optional("attempts", int_between(0, 100), 0)
    shuffle = f.optional("shuffle", is_bool, False)
    review = f.optional("review", one_of(*REVIEW_LEVELS), "full")
    keep = f.optional("keep", one_of("best", "last"), "best")
    raw_questions = f.get("questions", is_list, [])
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_questions):
        line = raw_questions.line_of(index)
        if not isinstance(raw, LineDict):
            errors.append(ContentError(path, line, "each question must be fields written as 'name: value'"))
            continue
        question = _compile_question(path, raw, errors, index + 1)
        if question is None:
            continue
        if question.id in seen:
            errors.append(ContentError(path, raw.line_of("id"), f"question id '{question.id}' is already used on line {seen[question.id]}"))
        seen[question.id] = raw.line_of("id")
        questions.append(question)
    if len(errors) > before:
        return None
    return Quiz(quiz_id, title.strip(), pass_mark, attempts, shuffle, review, keep, tuple(questions), path)


def _compile_question(path: str, raw: LineDict, errors: list[ContentError], number: int) -> Question | None:
    before = len(errors)
    f = Fields(path, raw, errors, where=f"question {number}: ")
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


