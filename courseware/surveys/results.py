"""What a survey round found, as SQL aggregates that never show a figure drawn from too few answers.

Every number and comment passes `meets_threshold`: below the round's threshold there is no mean,
no count, no comment and no customer department, only "fewer than N answers". A cell of the
interface matrix that meets the threshold is still hidden when the hidden rest of its row would be
a group smaller than the threshold, since the department's own figure minus the shown cells would
otherwise give that group away (secondary suppression).

Queries group in the database (one per question asked, whatever the number of answers); nothing
here loads responses one by one except a department's comments.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select

from ..extensions import db
from ..hr import gains, reports
from ..models import SCORES, SurveyResponse, SurveyRound, SurveyRoundDepartment
from ..people.departments import DepartmentNode
from . import answering

ELEMENTS = SCORES[:4]  # the four core elements; SCORES[4] is the overall rating


def meets_threshold(count: int | None, threshold: int) -> bool:
    """Whether a group of `count` answers is large enough to show anything drawn from it."""
    return count is not None and count >= max(threshold, 1)


@dataclass(frozen=True)
class Figure:
    """A mean and how many answers it rests on; both None when the group is under the threshold."""

    mean: float | None = None
    count: int | None = None

    @property
    def shown(self) -> bool:
        return self.count is not None


HIDDEN = Figure()


def figure(mean, count: int | None, threshold: int) -> Figure:
    """The figure as it may be shown: the numbers, or nothing at all."""
    if not meets_threshold(count, threshold) or mean is None:
        return HIDDEN
    return Figure(float(mean), count)


@dataclass(frozen=True)
class Scores:
    """The answers behind a department or an interface, and the mean of each question."""

    answers: Figure  # `mean` unused: how many responses, when shown
    scores: dict[str, Figure] = field(default_factory=dict)

    @property
    def overall(self) -> Figure:
        return self.scores.get("overall", HIDDEN)


HIDDEN_SCORES = Scores(HIDDEN, {name: HIDDEN for name in SCORES})


def _aggregates() -> list:
    """count(*), then avg and count of every score column."""
    columns = [func.count().label("answers")]
    for name in SCORES:
        column = getattr(SurveyResponse, name)
        columns += [func.avg(column).label(f"{name}_mean"), func.count(column).label(f"{name}_count")]
    return columns


def _scores(row, threshold: int) -> Scores:
    answers = Figure(None, row.answers) if meets_threshold(row.answers, threshold) else HIDDEN
    if not answers.shown:
        return HIDDEN_SCORES
    return Scores(answers, {
        name: figure(getattr(row, f"{name}_mean"), getattr(row, f"{name}_count"), threshold) for name in SCORES
    })


def _only(statement: Select, department_ids: set[int] | None) -> Select:
    if department_ids is None:
        return statement
    return statement.where(SurveyResponse.supplier_department_id.in_(department_ids or {-1}))


def rated_department_ids(survey: SurveyRound, department_ids: set[int] | None) -> list[int]:
    """The departments rated in the round that the viewer may see (None: all)."""
    ids = sorted(survey.department_ids)
    return ids if department_ids is None else [i for i in ids if i in department_ids]


def scorecards(survey: SurveyRound, department_ids: set[int] | None) -> dict[int, Scores]:
    """Each rated department's answers and mean per question in the round (one query)."""
    statement = _only(
        select(SurveyResponse.supplier_department_id, *_aggregates())
        .where(SurveyResponse.round_id == survey.id)
        .group_by(SurveyResponse.supplier_department_id),
        department_ids,
    )
    found = {row.supplier_department_id: _scores(row, survey.threshold) for row in db.session.execute(statement)}
    return {department_id: found.get(department_id, HIDDEN_SCORES) for department_id in rated_department_ids(survey, department_ids)}


@dataclass(frozen=True)
class Matrix:
    """Supplier (rated) × customer (raters' department) cells of one round."""

    suppliers: list[int]
    customers: list[int]
    cells: dict[tuple[int, int], Scores]

    def cell(self, supplier_id: int, customer_id: int) -> Scores:
        return self.cells.get((supplier_id, customer_id), HIDDEN_SCORES)


def interface_matrix(survey: SurveyRound, department_ids: set[int] | None) -> Matrix:
    """The round's interface matrix for the rated departments the viewer may see (one query)."""
    statement = _only(
        select(SurveyResponse.supplier_department_id, SurveyResponse.customer_department_id, *_aggregates())
        .where(SurveyResponse.round_id == survey.id)
        .group_by(SurveyResponse.supplier_department_id, SurveyResponse.customer_department_id),
        department_ids,
    )
    rows = db.session.execute(statement).all()
    raw = {(row.supplier_department_id, row.customer_department_id): row.answers for row in rows}
    shown = _suppress_residuals(raw, survey.threshold)
    cells = {
        (row.supplier_department_id, row.customer_department_id): _scores(row, survey.threshold)
        for row in rows if (row.supplier_department_id, row.customer_department_id) in shown
    }
    return Matrix(
        suppliers=rated_department_ids(survey, department_ids),
        customers=sorted({customer for _supplier, customer in raw}),
        cells=cells,
    )


def _suppress_residuals(counts: dict[tuple[int, int], int], threshold: int) -> set[tuple[int, int]]:
    """The cells that may be shown: those meeting the threshold, less the smallest ones of a row
    until the row's hidden answers are none or at least the threshold together."""
    rows: dict[int, list[tuple[int, tuple[int, int]]]] = defaultdict(list)
    for key, count in counts.items():
        rows[key[0]].append((count, key))
    shown: set[tuple[int, int]] = set()
    for cells in rows.values():
        visible = sorted((c for c in cells if meets_threshold(c[0], threshold)), reverse=True)
        hidden = sum(count for count, _key in cells) - sum(count for count, _key in visible)
        while visible and 0 < hidden and not meets_threshold(hidden, threshold):
            hidden += visible.pop()[0]
        shown.update(key for _count, key in visible)
    return shown


@dataclass(frozen=True)
class Comment:
    text: str
    customer_id: int | None  # None: the customer department's group is under the threshold


def comments(survey: SurveyRound, supplier_id: int, matrix: Matrix) -> list[Comment]:
    """The department's comments in random order; none when it has fewer answers than the threshold.

    A comment names its customer department only where that interface's cell is shown.
    """
    total = db.session.scalar(
        select(func.count()).where(SurveyResponse.round_id == survey.id, SurveyResponse.supplier_department_id == supplier_id)
    )
    if not meets_threshold(total, survey.threshold):
        return []
    rows = db.session.execute(
        select(SurveyResponse.comment, SurveyResponse.customer_department_id).where(
            SurveyResponse.round_id == survey.id, SurveyResponse.supplier_department_id == supplier_id,
            SurveyResponse.comment.is_not(None), SurveyResponse.comment != "",
        )
    ).all()
    found = [Comment(text, customer if matrix.cell(supplier_id, customer).answers.shown else None) for text, customer in rows]
    random.SystemRandom().shuffle(found)
    return found


def closed(survey: SurveyRound, on: date) -> bool:
    """Whether a round's results may be read, sealing it first if it has just closed. Results are read
    only once a round has closed: figures that moved with each new answer would let someone watching
    tell what that one person said."""
    if survey.closes_on >= on:
        return False
    if survey.sealed_at is None:
        answering.seal(survey.id)
        db.session.refresh(survey)
    return survey.sealed_at is not None


def rounds_rating(department_ids: set[int] | None, until: date | None = None) -> list[SurveyRound]:
    """Rounds closed before `until` (default: any round) that rate one of `department_ids`, oldest first.

    With `until`, rounds that closed are sealed first (`answering.seal`), and only sealed ones are read.
    """
    statement = select(SurveyRound).order_by(SurveyRound.opens_on, SurveyRound.id)
    if until is not None:
        answering.seal_closed_rounds(until)
        statement = statement.where(SurveyRound.closes_on < until, SurveyRound.sealed_at.is_not(None))
    if department_ids is not None:
        statement = statement.where(SurveyRound.id.in_(
            select(SurveyRoundDepartment.round_id).where(SurveyRoundDepartment.department_id.in_(department_ids or {-1}))
        ))
    return list(db.session.scalars(statement))


def trends(rounds: list[SurveyRound], department_ids: set[int] | None) -> dict[int, list[tuple[SurveyRound, Scores]]]:
    """Each department's scores in every round of `rounds` that rated it, oldest first (one query)."""
    by_id = {survey.id: survey for survey in rounds}
    if not by_id:
        return {}
    statement = _only(
        select(SurveyResponse.round_id, SurveyResponse.supplier_department_id, *_aggregates())
        .where(SurveyResponse.round_id.in_(by_id))
        .group_by(SurveyResponse.round_id, SurveyResponse.supplier_department_id),
        department_ids,
    )
    found = {(row.round_id, row.supplier_department_id): row for row in db.session.execute(statement)}
    result: dict[int, list[tuple[SurveyRound, Scores]]] = defaultdict(list)
    for survey in rounds:
        for department_id in rated_department_ids(survey, department_ids):
            row = found.get((survey.id, department_id))
            result[department_id].append((survey, _scores(row, survey.threshold) if row else HIDDEN_SCORES))
    return dict(result)


def previous_round(survey: SurveyRound, supplier_id: int) -> SurveyRound | None:
    """The latest round before `survey` that rated `supplier_id`."""
    earlier = [r for r in rounds_rating({supplier_id}) if (r.opens_on, r.id) < (survey.opens_on, survey.id)]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class Change:
    """A department's overall rating in its last two rounds that met the threshold."""

    before: Figure
    after: Figure
    before_round: SurveyRound
    after_round: SurveyRound

    @property
    def points(self) -> float:
        return self.after.mean - self.before.mean


def rating_changes(trend: dict[int, list[tuple[SurveyRound, Scores]]]) -> dict[int, Change]:
    """Per department, the change in overall rating between its last two rounds that show one."""
    changes = {}
    for department_id, rounds in trend.items():
        shown = [(survey, scores.overall) for survey, scores in rounds if scores.overall.shown]
        if len(shown) >= 2:
            (first_round, before), (last_round, after) = shown[-2], shown[-1]
            changes[department_id] = Change(before, after, first_round, last_round)
    return changes


@dataclass(frozen=True)
class Impact:
    """One department's rating change beside its training: course completion and quiz gain."""

    node: DepartmentNode
    change: Change | None
    completion: int | None  # percent of its learners who completed the course
    gain: int | None  # the pre-test → final gain in points, averaged over the objectives


def training_impact(nodes: list[DepartmentNode], department_ids: set[int] | None, rounds: list[SurveyRound],
                    completion: list[reports.DepartmentRate], gained: dict[int, list[gains.Gain]]) -> list[Impact]:
    """Per department in scope whose rating changed between two of `rounds` (`rounds_rating`): that change
    beside its course completion (`reports.completion_by_department`) and quiz gain (`gains.by_department`)."""
    changes = rating_changes(trends(rounds, department_ids)) if len(rounds) >= 2 else {}
    percent = {rate.node.id: rate.percent for rate in completion}
    impacts = []
    for node in nodes:
        if node.id in changes:
            points = [gain.points for gain in gained.get(node.id, ())]
            impacts.append(Impact(node, changes[node.id], percent.get(node.id), round(sum(points) / len(points)) if points else None))
    return impacts
