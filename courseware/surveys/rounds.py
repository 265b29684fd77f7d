"""Survey rounds: their questions, their window, who is asked, and how many have answered so far.

A round stores only the wording HR changed: a question left at its default text is stored as "" and
shown in each reader's language, so the same round reads in Chinese and in English. Response rates
come from `SurveyParticipation` (who took part), never from the anonymous responses.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, distinct, exists, func, not_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import SCORES, Department, SurveyParticipation, SurveyRound, SurveyRoundDepartment, User

DEFAULT_THRESHOLD = 5
THRESHOLD_RANGE = (3, 50)
ELEMENTS = SCORES[:4]  # the four core elements; may be left blank ("cannot say"); the overall rating may not
OPTIONAL_SCORES = frozenset(ELEMENTS)

# Each score question: its text, and the anchors of 1 and of 5 on its scale.
DEFAULT_QUESTIONS: dict[str, tuple[Any, Any, Any]] = {
    "communication": (
        _l("Communication: they keep me informed, clearly and in good time."),
        _l("Rarely, or unclear"), _l("Always clear and on time"),
    ),
    "understanding": (
        _l("Understanding: they understand what I need from them, and why."),
        _l("They do not see what I need"), _l("They fully understand my needs"),
    ),
    "collaboration": (
        _l("Collaboration: they work with me to solve problems."),
        _l("They leave problems to me"), _l("A true partner"),
    ),
    "feedback": (
        _l("Feedback: they ask how they are doing and act on what I tell them."),
        _l("They never ask or act"), _l("They ask often and act on it"),
    ),
    "overall": (
        _l("Overall, how satisfied are you with this department as a supplier to you?"),
        _l("Very dissatisfied"), _l("Very satisfied"),
    ),
}
DEFAULT_COMMENT = _l("Anything else they should know? (optional)")
SCORE_PARTS = ("text", "low", "high")


class RoundState(enum.StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


STATE_LABELS = {RoundState.UPCOMING: _l("Upcoming"), RoundState.OPEN: _l("Open"), RoundState.CLOSED: _l("Closed")}


def state(survey: SurveyRound, on: date) -> RoundState:
    """Upcoming before its first day, open from `opens_on` through `closes_on`, closed after."""
    if on < survey.opens_on:
        return RoundState.UPCOMING
    return RoundState.OPEN if on <= survey.closes_on else RoundState.CLOSED


# --- questions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    low: str  # what 1 means
    high: str  # what 5 means
    optional: bool


def end(survey: SurveyRound, on: date) -> None:
    """Close an open round at the end of the day before `on`: answers stop now, results can be read."""
    survey.closes_on = on - timedelta(days=1)


def default_questions() -> dict[str, Any]:
    """Questions as stored for a round that keeps every default wording."""
    return {key: dict.fromkeys(SCORE_PARTS, "") for key in SCORES} | {"comment": {"text": "", "enabled": True}}


def questions(survey: SurveyRound) -> list[Question]:
    """The round's score questions in SCORES order, each default wording in the reader's language."""
    stored = survey.questions or {}
    return [
        Question(key, *(stored.get(key, {}).get(part) or str(default) for part, default in zip(SCORE_PARTS, DEFAULT_QUESTIONS[key])),
                 optional=key in OPTIONAL_SCORES)
        for key in SCORES
    ]


def comment_question(survey: SurveyRound) -> str | None:
    """The comment question's text, or None when the round asks for no comment."""
    stored = (survey.questions or {}).get("comment", {})
    return (stored.get("text") or str(DEFAULT_COMMENT)) if stored.get("enabled", True) else None


def stored_questions(texts: dict[str, dict[str, str]], comment_text: str, comment_enabled: bool) -> dict[str, Any]:
    """Questions to store from the texts HR submitted: a text equal to its default (in the language it
    was shown in) is stored as "" so that it keeps following the reader's language."""
    stored = {
        key: {part: _unless_default(texts[key][part], default) for part, default in zip(SCORE_PARTS, DEFAULT_QUESTIONS[key])}
        for key in SCORES
    }
    return stored | {"comment": {"text": _unless_default(comment_text, DEFAULT_COMMENT), "enabled": comment_enabled}}


def _unless_default(text: str, default: Any) -> str:
    text = (text or "").strip()
    return "" if text == str(default) else text


# --- creating and changing a round ----------------------------------------------------------


def save_round(survey: SurveyRound, *, title: str, opens_on: date, closes_on: date, threshold: int,
               department_ids: list[int], questions: dict[str, Any]) -> SurveyRound:
    """Set a round's window, scope, threshold and questions (the form has validated them); not committed."""
    survey.title = title.strip()
    survey.opens_on, survey.closes_on, survey.threshold = opens_on, closes_on, threshold
    survey.questions = questions
    kept = {row.department_id: row for row in survey.scope_rows}
    survey.scope_rows = [kept.get(d) or SurveyRoundDepartment(department_id=d) for d in sorted(set(department_ids))]
    db.session.add(survey)
    return survey


def visible_rounds(visible: set[int] | None) -> Select:
    """Rounds rating at least one of the `visible` departments (None: all), newest first."""
    query = select(SurveyRound).order_by(SurveyRound.opens_on.desc(), SurveyRound.id.desc())
    if visible is not None:
        query = query.where(exists().where(
            SurveyRoundDepartment.round_id == SurveyRound.id, SurveyRoundDepartment.department_id.in_(visible),
        ))
    return query


def open_on(on: date) -> Select:
    return select(SurveyRound).where(SurveyRound.opens_on <= on, SurveyRound.closes_on >= on).order_by(SurveyRound.closes_on, SurveyRound.id)


# --- who is asked ---------------------------------------------------------------------------


def has_something_to_rate(round_id: Any) -> Any:
    """SQL condition on `User`: the round rates a department the person is not part of (nobody rates their own)."""
    home, rated = aliased(Department), aliased(Department)
    return exists(
        select(1)
        .select_from(SurveyRoundDepartment)
        .join(rated, rated.id == SurveyRoundDepartment.department_id)
        .join(home, home.id == User.department_id)
        .where(SurveyRoundDepartment.round_id == round_id, not_(home.lineage.startswith(rated.lineage)))
        .correlate(User)
    )


def eligible(survey: SurveyRound) -> Select:
    """The people asked in a round: every active user with a department in scope to rate."""
    return select(User).where(User.active.is_(True), has_something_to_rate(survey.id))


def not_yet_answered(survey: SurveyRound) -> Select:
    """The people asked in a round who have rated nothing in it yet."""
    return eligible(survey).where(~exists().where(
        SurveyParticipation.round_id == survey.id, SurveyParticipation.user_id == User.id,
    ))


# --- response rates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    department_id: int | None
    asked: int
    answered: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


@dataclass(frozen=True)
class ResponseRates:
    overall: Rate
    by_customer: list[Rate]  # per department of the people asked: how many of them have rated anything
    by_rated: dict[int, int]  # per department in scope: how many ratings it has received so far


def response_rates(survey: SurveyRound) -> ResponseRates:
    """How many of the people asked have answered, in all and by their department, and how many
    ratings each department in scope has had. Counts of people only: nothing here reads a response."""
    asked = eligible(survey).subquery()
    rows = db.session.execute(
        select(asked.c.department_id, func.count(), func.count().filter(
            exists().where(SurveyParticipation.round_id == survey.id, SurveyParticipation.user_id == asked.c.id)
        ))
        .group_by(asked.c.department_id)
        .order_by(asked.c.department_id)
    ).all()
    by_customer = [Rate(department_id, n, answered) for department_id, n, answered in rows]
    overall = Rate(None, sum(r.asked for r in by_customer), sum(r.answered for r in by_customer))
    by_rated = dict.fromkeys(sorted(survey.department_ids), 0) | dict(db.session.execute(
        select(SurveyParticipation.department_id, func.count(distinct(SurveyParticipation.user_id)))
        .where(SurveyParticipation.round_id == survey.id)
        .group_by(SurveyParticipation.department_id)
    ).all())
    return ResponseRates(overall, by_customer, by_rated)


def took_part(round_id: int, user_id: int) -> bool:
    return db.session.scalar(select(exists().where(
        and_(SurveyParticipation.round_id == round_id, SurveyParticipation.user_id == user_id)
    )))
