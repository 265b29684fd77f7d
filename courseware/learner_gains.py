"""Learning gains kept current: each learner's score on each objective in their first pre-test and in their
best final assessment, rewritten in the transaction of every submission of either quiz and of every publish
that changes which questions measure which objective; so HR's gains cost the same at any number of learners.

An objective is a pool the pre-test and the final assessment share (the same id). A learner's score on it is
the mean of their answers' fractions on that pool's questions: in their first submitted pre-test, and in
their best final attempt (the latest of equal scores). Only learners who took both have scores.
`from_scratch` is that definition over the attempts; the kept rows (`LearnerGain`) always equal it for the
live course, and the department tallies (`summaries`) follow each change.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, case, delete, func, insert, literal, select, text

from . import summaries
from .content import Course
from .content.quiz import Pool
from .extensions import db
from .models import LearnerGain, QuizAnswer, QuizAttempt

Scores = dict[str, tuple[float, float]]  # objective: (pre-test score, final score)


def objectives(course: Course) -> tuple[Pool, ...]:
    """The final assessment's pools the pre-test measures too, in the final's order; () without a pre-test."""
    pretest, final = course.pretest, course.final_quiz
    if pretest is None or final is None:
        return ()
    measured = {pool.id for pool in pretest.pools}
    return tuple(pool for pool in final.pools if pool.id in measured)


def basis(course: Course) -> tuple:
    """What the scores depend on in the course: the two quizzes and each objective's questions."""
    shared = {pool.id for pool in objectives(course)}
    questions = sorted(
        (pool.id, quiz.id, pool.question_ids)
        for quiz in (course.pretest, course.final_quiz) if quiz is not None
        for pool in quiz.pools if pool.id in shared
    )
    return course.pretest_quiz_id, course.final_quiz_id, tuple(questions)


def is_measured_by(course: Course, quiz_id: str) -> bool:
    """Whether submitting `quiz_id` can change a learner's gains."""
    return bool(objectives(course)) and quiz_id in (course.pretest_quiz_id, course.final_quiz_id)


def _objective_of(course: Course, shared: tuple[Pool, ...]):
    """SQL for the objective a question of the pre-test or the final belongs to (NULL for any other)."""
    ids = {pool.id for pool in shared}
    question_ids: dict[str, list[str]] = defaultdict(list)
    for quiz in (course.pretest, course.final_quiz):
        for pool in quiz.pools:
            if pool.id in ids:
                question_ids[pool.id] += pool.question_ids
    return case(*[(QuizAnswer.question_id.in_(qids), literal(objective)) for objective, qids in question_ids.items()])


def _chosen_attempts(quiz_id: str, first: bool, user_id: int | None):
    """Each learner's (or only `user_id`'s) first submitted attempt (the pre-test) or best one (the final)."""
    order = (QuizAttempt.submitted_at.asc(),) if first else (QuizAttempt.score.desc(), QuizAttempt.submitted_at.desc())
    ranked = (
        select(QuizAttempt.id, QuizAttempt.user_id,
               func.row_number().over(partition_by=QuizAttempt.user_id, order_by=order).label("rank"))
        .where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.status == "submitted",
               *([QuizAttempt.user_id == user_id] if user_id is not None else []))
        .subquery()
    )
    return select(ranked.c.id, ranked.c.user_id).where(ranked.c.rank == 1).subquery()


def _scores(course: Course, shared: tuple[Pool, ...], quiz_id: str, first: bool, user_id: int | None):
    """(user_id, objective, score) for one quiz, as a subquery."""
    chosen = _chosen_attempts(quiz_id, first, user_id)
    objective = _objective_of(course, shared).label("objective")
    return (
        select(chosen.c.user_id, objective, func.avg(func.coalesce(QuizAnswer.fraction, 0.0)).label("score"))
        .join(QuizAnswer, QuizAnswer.attempt_id == chosen.c.id)
        .where(objective.is_not(None))
        .group_by(chosen.c.user_id, objective)
        .subquery()
    )


def _pairs(course: Course, user_id: int | None = None) -> Select | None:
    """Select (user_id, objective, pre-test score, final score) of everyone (or `user_id`) who took both quizzes;
    None when the course has no pre-test."""
    shared = objectives(course)
    if not shared:
        return None
    before = _scores(course, shared, course.pretest_quiz_id, True, user_id)
    after = _scores(course, shared, course.final_quiz_id, False, user_id)
    return (
        select(before.c.user_id, before.c.objective, before.c.score, after.c.score)
        .join(after, (after.c.user_id == before.c.user_id) & (after.c.objective == before.c.objective))
    )


def refresh_learner(course: Course, user_id: int) -> None:
    """Rewrite the learner's scores after they submitted the pre-test or the final; the caller commits.

    Their old scores are taken out first (waiting for a publish recomputing everyone's to finish), then the
    new ones computed from their attempts; the department tallies move by the difference.
    """
    old = {
        objective: (pretest, final)
        for objective, pretest, final in db.session.execute(
            delete(LearnerGain).where(LearnerGain.user_id == user_id)
            .returning(LearnerGain.objective, LearnerGain.pretest_score, LearnerGain.final_score)
        )
    }
    pairs = _pairs(course, user_id)
    new: Scores = {row[1]: (row[2], row[3]) for row in db.session.execute(pairs)} if pairs is not None else {}
    if new:
        db.session.execute(insert(LearnerGain), [
            {"user_id": user_id, "objective": objective, "pretest_score": pretest, "final_score": final}
            for objective, (pretest, final) in new.items()
        ])
    if new != old:
        summaries.gains_changed(user_id, old, new)


def refresh_all(course: Course) -> int:
    """Recompute every learner's scores for `course` and the department tallies on them; the caller commits.

    On PostgreSQL, submissions that would change someone's scores wait meanwhile."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE learner_gain IN SHARE ROW EXCLUSIVE MODE"))
    db.session.execute(delete(LearnerGain))
    pairs = _pairs(course)
    written = 0
    if pairs is not None:
        columns = ["user_id", "objective", "pretest_score", "final_score"]
        written = db.session.execute(insert(LearnerGain).from_select(columns, pairs)).rowcount
    summaries.recount_gains()
    return written


def from_scratch(course: Course) -> dict[tuple[int, str], tuple[float, float]]:
    """Everyone's scores computed from the attempts now: {(user_id, objective): (pre-test, final)}."""
    pairs = _pairs(course)
    return {} if pairs is None else {(row[0], row[1]): (row[2], row[3]) for row in db.session.execute(pairs)}


def current() -> dict[tuple[int, str], tuple[float, float]]:
    """The kept scores, in the shape of `from_scratch`."""
    return {
        (user_id, objective): (pretest, final)
        for user_id, objective, pretest, final in db.session.execute(
            select(LearnerGain.user_id, LearnerGain.objective, LearnerGain.pretest_score, LearnerGain.final_score)
        )
    }
