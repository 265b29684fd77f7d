"""Learner records as xAPI 1.0.3 statements, built in one place for HR's export and read API and for the LRS.

Activities are named by stable IRIs (`activity_iri`) that never depend on the host the platform is
served from; a record keeps the revision it was made against, so a statement describes what the
learner saw then.

A quiz's result record stands for the attempt's per-question `answered` statements too (`expand`):
they are read from the attempt's answers, which the submit grades and keeps anyway, instead of being
written as a dozen more records. Records written before that (results without `ANSWERS_IN_ATTEMPT`)
have their `answered` records stored beside them and expand to themselves.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from .content.quiz import NumberAnswer, Numerical, Question, number_text, read_number
from .extensions import db
from .models import LearningRecord, QuizAnswer, QuizAttempt, ScenarioRun, User, Verb
from .publishing import course_at

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {verb: ADL + verb for verb in Verb}
IRI_PREFIX = "urn:courseware:"
VERSION = "1.0.3"
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "module": "http://adlnet.gov/expapi/activities/module",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "question": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "scenario": "http://adlnet.gov/expapi/activities/simulation",
    "interaction": "http://adlnet.gov/expapi/activities/cmi.interaction",
}
PARENT_KINDS = {"question": "quiz", "interaction": "scenario"}
EXTENSION = "urn:courseware:extension:"
LANGUAGE = "zh-CN"  # the language courses are written in (BABEL_DEFAULT_LOCALE)
ENGLISH = "en-US"  # of an activity's name, when its file gives a `title_en`


def activity_iri(kind: str, object_id: str) -> str:
    """A stable IRI for an activity: it never depends on the host name the platform is served from."""
    return f"{IRI_PREFIX}{kind}:{object_id}"


def _text(html: str) -> dict[str, str]:
    return {LANGUAGE: Markup(html).striptags()}


def _each(answer: Any) -> str | None:
    return "[,]".join(answer) if isinstance(answer, list) and all(isinstance(a, str) for a in answer) else None


# Per question type: the xAPI interactionType, its answer in the spec's response pattern (None:
# not answered), and the components a reader needs to decode the pattern.
INTERACTIONS: dict[str, tuple[str, Any, Any]] = {
    "single": ("choice", lambda a: a if isinstance(a, str) else None,
               lambda q: {"choices": [{"id": o.id, "description": _text(o.html)} for o in q.options]}),
    "multiple": ("choice", _each,
                 lambda q: {"choices": [{"id": o.id, "description": _text(o.html)} for o in q.options]}),
    "true_false": ("true-false", lambda a: str(a).lower() if isinstance(a, bool) else None, lambda q: {}),
    "ordering": ("sequencing", _each,
                 lambda q: {"choices": [{"id": o.id, "description": _text(o.html)} for o in q.items]}),
    "matching": ("matching", lambda a: "[,]".join(f"{k}[.]{v}" for k, v in a.items()) if isinstance(a, dict) and a else None,
                 lambda q: {"source": [{"id": o.id, "description": _text(o.html)} for o in q.lefts],
                            "target": [{"id": o.id, "description": _text(o.html)} for o in q.rights]}),
    "short_answer": ("fill-in", lambda a: a if isinstance(a, str) else None, lambda q: {}),
    "numerical": ("numeric", lambda a: _number(a), lambda q: {}),
}


def _number(answer: Any) -> str | None:
    """A typed number as the spec's numeric response ('3,5' → '3.5'); None when it is not a number."""
    number = read_number(answer) if isinstance(answer, str) else None
    return number_text(number) if number is not None else None


def _range(answer: NumberAnswer) -> str:
    """An answer worth full credit as the spec's numeric pattern: '5' for one number, '4.9[:]5.1' for a range."""
    low, high = (number_text(bound) for bound in answer.bounds)
    return low if low == high else f"{low}[:]{high}"


def interaction(question: Question) -> dict[str, Any]:
    """The activity definition of a quiz question: its text, interaction type, right answers and parts."""
    kind, pattern, parts = INTERACTIONS[question.kind]
    if question.kind == "short_answer":  # answers are compared ignoring case (and spacing and punctuation)
        correct = ["{case_matters=false}" + answer for answer in question.accepted]
    elif isinstance(question, Numerical):
        correct = [_range(answer) for answer in question.numbers if answer.credit >= 100]
    else:
        correct = [pattern(question.correct_answer())]
    return {"description": _text(question.text_html), "interactionType": kind,
            "correctResponsesPattern": correct, **parts(question)}


def _question(record: Entry) -> Question | None:
    quiz_id, _, question_id = record.object_id.partition("/")
    quiz = course_at(record.revision_id).quiz(quiz_id)
    return quiz.question(question_id) if quiz else None


def _definition(record: Entry) -> tuple[dict[str, Any], Question | None]:
    definition: dict[str, Any] = {"type": ACTIVITY_TYPES[record.object_kind]}
    question = _question(record) if record.object_kind == "question" else None
    if question is not None:
        definition |= interaction(question)
    elif title := (course := course_at(record.revision_id)).titles.get(record.object_id):
        english = course.titles_en.get(record.object_id)
        definition["name"] = {LANGUAGE: title} | ({ENGLISH: english} if english else {})
    return definition, question


# --- answers as statements ---------------------------------------------------------------------

ANSWERS_IN_ATTEMPT = "answers_in_attempt"  # in a result record's `result`: its answered statements are derived
# An answered statement's id: its result's first 48 bits (the time), version 4, this mark, the variant, then
# the result record's id and the question's position. An id is then found again without being stored.
_MARK = "a45"


@dataclass(frozen=True)
class Answered:
    """A question's `answered` statement, read from the answer a submitted attempt keeps.

    It offers what `statement` reads of a record, taken from the attempt's result record (`outcome`)
    where the two share it. With `id`, the result's, and `position`, the question's place among the
    attempt's, every statement has a place in the order of records.
    """

    outcome: LearningRecord
    position: int
    question_id: str
    answer: Any
    fraction: float
    verb = Verb.ANSWERED.value
    object_kind = "question"

    @property
    def id(self) -> int:
        return self.outcome.id

    @property
    def statement_id(self) -> str:
        return answered_statement_id(self.outcome, self.position)

    @property
    def object_id(self) -> str:
        return f"{self.outcome.object_id}/{self.question_id}"

    @property
    def revision_id(self) -> int:
        return self.outcome.revision_id

    @property
    def attempt_id(self) -> str | None:
        return self.outcome.attempt_id

    @property
    def timestamp(self) -> datetime:
        return self.outcome.timestamp

    @property
    def result(self) -> dict[str, Any]:
        return {"response": self.answer, "success": self.fraction >= 1.0, "score": {"scaled": self.fraction}}


Entry = LearningRecord | Answered


def answered_statement_id(outcome: LearningRecord, position: int) -> str:
    """The id of the answered statement at `position` that the result record `outcome` stands for."""
    digits = f"{outcome.statement_id.replace('-', '')[:12]}4{_MARK}8{outcome.id:011x}{position:04x}"
    return str(uuid.UUID(digits))


def place_of_answered(statement_id: str) -> tuple[int, int] | None:
    """The result record's id and the position an answered statement's id names; None for any other id."""
    digits = statement_id.replace("-", "")
    if len(digits) != 32 or digits[12:17] != f"4{_MARK}8":
        return None
    return int(digits[17:28], 16), int(digits[28:], 16)


def expands(record: LearningRecord) -> bool:
    """Whether the record is a quiz attempt's result that stands for its answered statements."""
    return record.object_kind == "quiz" and bool(record.result) and bool(record.result.get(ANSWERS_IN_ATTEMPT))


Person = TypeVar("Person")


def expand(rows: Iterable[tuple[LearningRecord, Person]]) -> list[tuple[Entry, Person, int]]:
    """Each record with its person and position, a quiz attempt's result preceded by its answered statements
    (one per question the attempt asked, in the quiz's order; a blank one has no response and scores 0)."""
    rows = list(rows)
    attempt_ids = {record.attempt_id for record, _person in rows if expands(record)}
    asked: dict[str, list[str] | None] = {}
    answers: dict[str, dict[str, tuple[Any, float | None]]] = {}
    if attempt_ids:
        asked = dict(db.session.execute(
            select(QuizAttempt.id, QuizAttempt.question_ids).where(QuizAttempt.id.in_(attempt_ids))).all())
        for attempt_id, question_id, answer, fraction in db.session.execute(
            select(QuizAnswer.attempt_id, QuizAnswer.question_id, QuizAnswer.answer, QuizAnswer.fraction)
            .where(QuizAnswer.attempt_id.in_(attempt_ids))
        ):
            answers.setdefault(attempt_id, {})[question_id] = (answer, fraction)
    entries: list[tuple[Entry, Person, int]] = []
    for record, person in rows:
        position = 0
        if expands(record) and record.attempt_id in asked:
            quiz = course_at(record.revision_id).quiz(record.object_id)
            given = answers.get(record.attempt_id, {})
            for question in quiz.drawn(asked[record.attempt_id]) if quiz else ():
                answer, fraction = given.get(question.id, (None, 0.0))
                entries.append((Answered(record, position, question.id, answer, fraction or 0.0), person, position))
                position += 1
        entries.append((record, person, position))
    return entries


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def authority(home_page: str) -> dict[str, Any]:
    """The Agent vouching for every statement: this platform, which wrote them."""
    return {"objectType": "Agent", "name": "Courseware", "account": {"homePage": home_page, "name": "courseware"}}


def starts(records: Iterable[Entry]) -> dict[str, datetime]:
    """When each quiz attempt or role-play run behind a result began, for `result.duration`."""
    ids = {r.attempt_id for r in records if r.attempt_id and r.result and r.object_kind in ("quiz", "scenario")}
    if not ids:
        return {}
    return dict(db.session.execute(select(QuizAttempt.id, QuizAttempt.started_at).where(QuizAttempt.id.in_(ids))).all()) | dict(
        db.session.execute(select(ScenarioRun.id, ScenarioRun.started_at).where(ScenarioRun.id.in_(ids))).all())


def statement(record: Entry, user: User, course_id: str, home_page: str = "",
              started: datetime | None = None) -> dict[str, Any]:
    """Build one valid xAPI statement from a learning record (`stored` is when it was written).

    `started` is when the attempt or run behind a result began: its `duration` runs from then.
    """
    actor: dict[str, Any] = {"objectType": "Agent", "name": user.name, "mbox": f"mailto:{user.email}"}
    context_activities: dict[str, Any] = {"grouping": [{"objectType": "Activity", "id": activity_iri("course", course_id)}]}
    if parent := PARENT_KINDS.get(record.object_kind):
        context_activities["parent"] = [{"objectType": "Activity",
                                         "id": activity_iri(parent, record.object_id.partition("/")[0])}]
    definition, question = _definition(record)
    data: dict[str, Any] = {
        "id": record.statement_id,
        "version": VERSION,
        "actor": actor,
        "verb": {"id": VERBS[record.verb], "display": {"en-US": record.verb}},
        "object": {
            "objectType": "Activity",
            "id": activity_iri(record.object_kind, record.object_id),
            "definition": definition,
        },
        "timestamp": iso(record.timestamp),
        "stored": iso(record.timestamp),
        "authority": authority(home_page or current_app.config["PUBLIC_URL"]),
        "context": {"contextActivities": context_activities, "extensions": {EXTENSION + "revision": record.revision_id}},
    }
    if record.attempt_id:
        data["context"]["registration"] = record.attempt_id
    if record.result:
        data["result"] = _result(record.result, question)
        if started is not None and record.object_kind not in PARENT_KINDS:  # the attempt or run itself, not its steps
            data["result"]["duration"] = f"PT{max((record.timestamp - started).total_seconds(), 0):.2f}S"
    return data


def _result(raw: dict[str, Any], question: Question | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if "success" in raw:
        result["success"] = bool(raw["success"])
    if "completion" in raw:
        result["completion"] = bool(raw["completion"])
    response = raw.get("response")
    if question is not None:
        response = INTERACTIONS[question.kind][1](response)
    if isinstance(response, str):
        result["response"] = response
    elif response is not None:  # a question no longer in its revision: its answer as JSON
        result["response"] = json.dumps(response, ensure_ascii=False)
    if "score" in raw:
        score = {k: v for k, v in raw["score"].items() if v is not None}
        if "scaled" in score:
            score["scaled"] = max(-1.0, min(1.0, float(score["scaled"])))
        result["score"] = score
    if "extensions" in raw:
        result["extensions"] = {EXTENSION + key: value for key, value in raw["extensions"].items()}
    return result
