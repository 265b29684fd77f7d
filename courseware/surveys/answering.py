"""Answering a round: which rounds wait for a person, which departments they may rate, the screener's
pre-fill, and saving one rating.

Saving writes two rows that nothing links: the participation (round, person, department rated) and
the anonymous response (round, department rated, the rater's department, the scores). The
participation goes first with insert-or-ignore on its primary key, and the response is written only
when that row was new, in the same transaction: a double click, a retry or a second device never
adds a second response. A saved rating cannot be changed, since nothing says which response was whose.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select, text, update

from ..extensions import db
from ..models import Department, SurveyParticipation, SurveyResponse, SurveyRound, User, upsert, utcnow
from ..people.departments import tree
from . import rounds
from .rounds import RoundState

MAX_COMMENT = 2000


class Refused(Exception):
    """This rating cannot be saved; the message says why."""


@dataclass(frozen=True)
class Choice:
    department_id: int
    path: str
    suggested: bool  # pre-ticked on the screener


def is_own(user: User, department: Department) -> bool:
    """Whether `user` belongs to `department` or one below it: nobody rates their own department."""
    return user.department.lineage.startswith(department.lineage)


def rateable(user: User, survey: SurveyRound) -> list[Department]:
    """The departments in the round's scope that `user` may rate."""
    if not survey.department_ids:
        return []
    departments = db.session.scalars(select(Department).where(Department.id.in_(survey.department_ids)))
    return [department for department in departments if not is_own(user, department)]


def waiting_rounds(user: User, on: date) -> list[SurveyRound]:
    """Open rounds with something for `user` to rate (those they already rated in included)."""
    if not user.active:
        return []
    return [survey for survey in db.session.scalars(_OPEN_ON, {"on": on}) if rateable(user, survey)]


_OPEN_ON = rounds.open_on(bindparam("on"))  # built once: the trainee's home asks on every view


def unanswered_rounds(user: User, on: date) -> list[SurveyRound]:
    """Open rounds for `user` in which they have rated nothing yet (for the home page's card)."""
    return [survey for survey in waiting_rounds(user, on) if not rounds.took_part(survey.id, user.id)]


def rated(user: User, survey: SurveyRound) -> set[int]:
    """The departments `user` has rated in the round (what, never how)."""
    return set(db.session.scalars(select(SurveyParticipation.department_id).where(
        SurveyParticipation.round_id == survey.id, SurveyParticipation.user_id == user.id,
    )))


def previous_round(survey: SurveyRound) -> SurveyRound | None:
    """The latest round that closed before this one opened."""
    return db.session.scalar(
        select(SurveyRound).where(SurveyRound.closes_on < survey.opens_on)
        .order_by(SurveyRound.closes_on.desc(), SurveyRound.id.desc()).limit(1)
    )


def suggested(user: User, survey: SurveyRound) -> list[int]:
    """The departments people of `user`'s department rated in the previous round, most rated first."""
    before = previous_round(survey)
    if before is None:
        return []
    count = func.count()
    return list(db.session.scalars(
        select(SurveyResponse.supplier_department_id)
        .where(SurveyResponse.round_id == before.id, SurveyResponse.customer_department_id == user.department_id)
        .group_by(SurveyResponse.supplier_department_id)
        .order_by(count.desc(), SurveyResponse.supplier_department_id)
    ))


def screener(user: User, survey: SurveyRound) -> list[Choice]:
    """The departments `user` may rate: the suggested ones first (most rated first), then the rest by name."""
    paths = {node.id: node.path for node in tree()}
    allowed = {department.id for department in rateable(user, survey)}
    ticked = [d for d in suggested(user, survey) if d in allowed]
    rest = sorted(allowed - set(ticked), key=lambda d: paths.get(d, ""))
    return [Choice(d, paths.get(d, ""), True) for d in ticked] + [Choice(d, paths.get(d, ""), False) for d in rest]


def check_scores(survey: SurveyRound, scores: Mapping[str, int | None], comment: str | None) -> tuple[dict[str, int | None], str | None]:
    """The scores and comment to store, or Refused: each 1 to 5, blank only for the four elements."""
    clean: dict[str, int | None] = {}
    for question in rounds.questions(survey):
        value = scores.get(question.key)
        if value is None and not question.optional:
            raise Refused(_l("Give an overall rating from 1 to 5."))
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5):
            raise Refused(_l("Each rating is a number from 1 to 5."))
        clean[question.key] = value
    comment = (comment or "").strip() if rounds.comment_question(survey) else ""
    if len(comment) > MAX_COMMENT:
        raise Refused(_l("The comment can be at most %(num)d characters.", num=MAX_COMMENT))
    return clean, comment or None


def save_rating(user: User, survey: SurveyRound, department_id: int, scores: Mapping[str, int | None],
                comment: str | None, on: date) -> bool:
    """Save `user`'s rating of a department in an open round; return whether it was new.

    A second save of the same department (a double click, another device) changes nothing and
    returns False. Refused (with the reason) for a round not open on `on`, a department outside the
    round, the person's own department, or a score out of range. Commits.
    """
    if not user.active or rounds.state(survey, on) is not RoundState.OPEN:
        raise Refused(_l("This survey is closed: answers are no longer taken."))
    department = db.session.get(Department, department_id) if department_id in survey.department_ids else None
    if department is None:
        raise Refused(_l("This department is not rated in this survey."))
    if is_own(user, department):
        raise Refused(_l("You cannot rate your own department."))
    values, comment = check_scores(survey, scores, comment)
    if db.session.scalar(select(SurveyRound.sealed_at).where(SurveyRound.id == survey.id)) is not None:
        raise Refused(_l("This survey is closed: answers are no longer taken."))  # closed at midnight while this was sent
    created = db.session.execute(
        upsert(SurveyParticipation)
        .values(round_id=survey.id, user_id=user.id, department_id=department.id)
        .on_conflict_do_nothing()
        .returning(SurveyParticipation.user_id)  # a row only when inserted (rowcount is -1 on psycopg here)
    ).scalar() is not None
    if created:  # the participation is new, so no response of this person for this department exists
        db.session.add(SurveyResponse(
            round_id=survey.id, supplier_department_id=department.id, customer_department_id=user.department_id,
            comment=comment, **values,
        ))
    db.session.commit()
    return created


def seal_closed_rounds(on: date) -> int:
    """Seal every round closed before `on` and not yet sealed; return how many. Results read only sealed rounds."""
    due = db.session.scalars(select(SurveyRound.id).where(SurveyRound.closes_on < on, SurveyRound.sealed_at.is_(None))).all()
    return sum(seal(round_id) for round_id in due)


def seal(round_id: int) -> bool:
    """Rewrite a closed round's responses in one transaction, in random order and with new ids.

    While a round is open, a response and its participation are written by one transaction, and on
    PostgreSQL both rows carry its id (xmin) and sit side by side in the table's pages. Rewritten
    together, every response carries the same transaction id and a place that says nothing about
    when it was given. The first caller claims the round; any other finds it sealed and does nothing.
    The rows move through a temporary table inside the database: nothing is read into Python.
    """
    claimed = db.session.execute(
        update(SurveyRound).where(SurveyRound.id == round_id, SurveyRound.sealed_at.is_(None)).values(sealed_at=utcnow())
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return False
    names = ", ".join(c.name for c in SurveyResponse.__table__.columns if c.name != "id")
    db.session.execute(text(f"CREATE TEMPORARY TABLE sealing AS SELECT {names} FROM survey_response WHERE round_id = :round"),
                       {"round": round_id})
    db.session.execute(delete(SurveyResponse).where(SurveyResponse.round_id == round_id))
    db.session.execute(text(f"INSERT INTO survey_response (id, {names}) SELECT {_random_id()}, {names} FROM sealing ORDER BY random()"))
    db.session.execute(text("DROP TABLE sealing"))
    db.session.commit()
    return True


def _random_id() -> str:
    """SQL for a response id from the database's cryptographic random source, as `SurveyResponse.new_id` makes them."""
    if db.session.get_bind().dialect.name == "postgresql":
        return "replace(gen_random_uuid()::text, '-', '')"
    return "lower(hex(randomblob(16)))"
