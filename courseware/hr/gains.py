"""Learning gain: how a learner, and each department, did on each objective of the final assessment
compared with the diagnostic pre-test taken before the course.

An objective is a pool the pre-test and the final assessment share (the same id). A learner's score
on an objective is the mean of their questions' fractions in that pool: in their first submitted
pre-test, and in their best final attempt. Only learners who took both count; gains are in
percentage points. Everything is a few SQL aggregates, whatever the number of learners.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Select, case, func, literal, select

from ..content import Course
from ..content.quiz import Pool
from ..extensions import db
from ..models import QuizAnswer, QuizAttempt, User
from ..people.scope import in_departments


@dataclass(frozen=True)
class Gain:
    """Scores (0–1) on one objective before the course and in the final assessment."""

    objective: Pool
    before: float
    after: float
    people: int = 1

    @property
    def points(self) -> int:
        """The gain in percentage points."""
        return round(100 * (self.after - self.before))


def objectives(course: Course) -> tuple[Pool, ...]:
    """The final assessment's pools the pre-test measures too, in the final's order; () without a pre-test."""
    pretest, final = course.pretest, course.final_quiz
    if pretest is None or final is None:
        return ()
    measured = {pool.id for pool in pretest.pools}
    return tuple(pool for pool in final.pools if pool.id in measured)


def _objective_of(course: Course, shared: tuple[Pool, ...]):
    """SQL for the objective a question of the pre-test or the final belongs to (NULL for any other)."""
    ids = {pool.id for pool in shared}
    question_ids: dict[str, list[str]] = defaultdict(list)
    for quiz in (course.pretest, course.final_quiz):
        for pool in quiz.pools:
            if pool.id in ids:
                question_ids[pool.id] += pool.question_ids
    return case(*[(QuizAnswer.question_id.in_(qids), literal(objective)) for objective, qids in question_ids.items()])


def _chosen_attempts(quiz_id: str, first: bool, user_ids: list[int] | None):
    """Each learner's (of `user_ids`; None: everyone's) first submitted attempt (the pre-test) or best one
    (the final), as a subquery."""
    order = (QuizAttempt.submitted_at.asc(),) if first else (QuizAttempt.score.desc(), QuizAttempt.submitted_at.desc())
    ranked = (
        select(QuizAttempt.id, QuizAttempt.user_id,
               func.row_number().over(partition_by=QuizAttempt.user_id, order_by=order).label("rank"))
        .where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.status == "submitted",
               *([QuizAttempt.user_id.in_(user_ids)] if user_ids is not None else []))
        .subquery()
    )
    return select(ranked.c.id, ranked.c.user_id).where(ranked.c.rank == 1).subquery()


def _scores(course: Course, shared: tuple[Pool, ...], quiz_id: str, first: bool, user_ids: list[int] | None):
    """(user_id, objective, score) for one quiz, as a subquery."""
    chosen = _chosen_attempts(quiz_id, first, user_ids)
    objective = _objective_of(course, shared).label("objective")
    return (
        select(chosen.c.user_id, objective, func.avg(func.coalesce(QuizAnswer.fraction, 0.0)).label("score"))
        .join(QuizAnswer, QuizAnswer.attempt_id == chosen.c.id)
        .where(objective.is_not(None))
        .group_by(chosen.c.user_id, objective)
        .subquery()
    )


def _pairs(course: Course, user_ids: list[int] | None = None) -> tuple[tuple[Pool, ...], Select | None]:
    """Select (user_id, objective, before, after) for every learner (of `user_ids`) who took both quizzes."""
    shared = objectives(course)
    if not shared:
        return shared, None
    before = _scores(course, shared, course.pretest_quiz_id, True, user_ids)
    after = _scores(course, shared, course.final_quiz_id, False, user_ids)
    return shared, (
        select(before.c.user_id, before.c.objective, before.c.score.label("before"), after.c.score.label("after"))
        .join(after, (after.c.user_id == before.c.user_id) & (after.c.objective == before.c.objective))
    )


def of_learners(course: Course, user_ids: list[int]) -> dict[int, list[Gain]]:
    """Each of these learners' gains, objective by objective (one query)."""
    shared, pairs = _pairs(course, user_ids)
    if pairs is None or not user_ids:
        return {}
    pools = {pool.id: pool for pool in shared}
    found: dict[int, dict[str, Gain]] = defaultdict(dict)
    for row in db.session.execute(pairs):
        found[row.user_id][row.objective] = Gain(pools[row.objective], row.before, row.after)
    return {user_id: [gains[p.id] for p in shared if p.id in gains] for user_id, gains in found.items()}


def by_department(course: Course, department_ids: set[int] | None) -> dict[int, list[Gain]]:
    """Average gains of each department's learners (in HR's scope), objective by objective (one query)."""
    shared, pairs = _pairs(course)
    if pairs is None:
        return {}
    pairs = pairs.subquery()
    statement = in_departments(
        select(User.department_id, pairs.c.objective, func.avg(pairs.c.before), func.avg(pairs.c.after), func.count())
        .join(pairs, pairs.c.user_id == User.id)
        .group_by(User.department_id, pairs.c.objective),
        department_ids,
    )
    pools = {pool.id: pool for pool in shared}
    found: dict[int, dict[str, Gain]] = defaultdict(dict)
    for department_id, objective, before, after, people in db.session.execute(statement):
        found[department_id][objective] = Gain(pools[objective], before, after, people)
    return {department_id: [gains[p.id] for p in shared if p.id in gains] for department_id, gains in found.items()}
