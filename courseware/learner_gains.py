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
from statistics import fmean

from sqlalchemy import Select, bindparam, case, delete, func, insert, literal, or_, select, text

from . import summaries
from .content import Course
from .content.quiz import Pool
from .extensions import db
from .models import ContentRevision, LearnerGain, QuizAnswer, QuizAttempt

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


def _questions_of(course: Course, shared: tuple[Pool, ...]) -> dict[str, list[str]]:
    """Each objective's questions in the pre-test and the final."""
    ids = {pool.id for pool in shared}
    question_ids: dict[str, list[str]] = defaultdict(list)
    for quiz in (course.pretest, course.final_quiz):
        for pool in quiz.pools:
            if pool.id in ids:
                question_ids[pool.id] += pool.question_ids
    return question_ids


def _objective_of(course: Course, shared: tuple[Pool, ...]):
    """SQL for the objective a question of the pre-test or the final belongs to (NULL for any other)."""
    questions = _questions_of(course, shared)
    return case(*[(QuizAnswer.question_id.in_(qids), literal(objective)) for objective, qids in questions.items()])


# The order that picks the attempt counting for the gains: the pre-test's first, the final's best (the latest of equal
# scores); the attempt's number decides between equal times.
FIRST = (QuizAttempt.submitted_at.asc(), QuizAttempt.number.asc())
BEST = (QuizAttempt.score.desc(), QuizAttempt.submitted_at.desc(), QuizAttempt.number.desc())


def _chosen_attempts(quiz_id: str, first: bool):
    """Each learner's first submitted attempt (the pre-test) or best one (the final)."""
    ranked = (
        select(QuizAttempt.id, QuizAttempt.user_id,
               func.row_number().over(partition_by=QuizAttempt.user_id, order_by=FIRST if first else BEST).label("rank"))
        .where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.status == "submitted")
        .subquery()
    )
    return select(ranked.c.id, ranked.c.user_id).where(ranked.c.rank == 1).subquery()


def _scores(course: Course, shared: tuple[Pool, ...], quiz_id: str, first: bool):
    """(user_id, objective, score) for one quiz, as a subquery."""
    chosen = _chosen_attempts(quiz_id, first)
    objective = _objective_of(course, shared).label("objective")
    return (
        select(chosen.c.user_id, objective, func.avg(func.coalesce(QuizAnswer.fraction, 0.0)).label("score"))
        .join(QuizAnswer, QuizAnswer.attempt_id == chosen.c.id)
        .where(objective.is_not(None))
        .group_by(chosen.c.user_id, objective)
        .subquery()
    )


def _pairs(course: Course) -> Select | None:
    """Select (user_id, objective, pre-test score, final score) of everyone who took both quizzes;
    None when the course has no pre-test."""
    shared = objectives(course)
    if not shared:
        return None
    before = _scores(course, shared, course.pretest_quiz_id, True)
    after = _scores(course, shared, course.final_quiz_id, False)
    return (
        select(before.c.user_id, before.c.objective, before.c.score, after.c.score)
        .join(after, (after.c.user_id == before.c.user_id) & (after.c.objective == before.c.objective))
    )


def refresh_learner(course: Course, revision_id: int, user_id: int) -> None:
    """Rewrite the learner's scores after they submitted the pre-test or the final; the caller commits.

    `course` is the live course as this worker knows it, `revision_id` its revision. Their old scores are taken
    out first (waiting for a publish recomputing everyone's to finish), then the new ones computed from their
    attempts, with the course of the revision live by then: a publish this worker has not seen yet may have
    changed which questions measure which objective. The department tallies move by the difference.
    """
    old = {
        objective: (pretest, final)
        for objective, pretest, final in db.session.execute(
            delete(LearnerGain).where(LearnerGain.user_id == user_id)
            .returning(LearnerGain.objective, LearnerGain.pretest_score, LearnerGain.final_score)
        )
    }
    rows = _answers_of_learner(course, user_id)
    live = rows[0].live_revision if rows else revision_id
    if live != revision_id:
        course = Course.from_dict(db.session.scalar(select(ContentRevision.compiled).where(ContentRevision.id == live)))
        rows = _answers_of_learner(course, user_id)
    new = _learner_scores(course, rows)
    if new:
        db.session.execute(insert(LearnerGain), [
            {"user_id": user_id, "objective": objective, "pretest_score": pretest, "final_score": final}
            for objective, (pretest, final) in new.items()
        ])
    if new != old:
        summaries.gains_changed(user_id, old, new)


# A learner's submitted attempts at the two quizzes, each with its answers (a row of NULL answer when it has none),
# and on each row the revision live now.
_ANSWERS_OF_LEARNER = (
    select(QuizAttempt.quiz_id, QuizAttempt.id, QuizAttempt.score, QuizAttempt.submitted_at, QuizAttempt.number,
           QuizAnswer.question_id, QuizAnswer.fraction,
           ContentRevision.live(ContentRevision.id).scalar_subquery().label("live_revision"))
    .outerjoin(QuizAnswer, QuizAnswer.attempt_id == QuizAttempt.id)
    .where(QuizAttempt.user_id == bindparam("user_id"), QuizAttempt.status == "submitted",
           or_(QuizAttempt.quiz_id == bindparam("pretest"), QuizAttempt.quiz_id == bindparam("final")))
)


def _answers_of_learner(course: Course, user_id: int) -> list:
    return db.session.execute(
        _ANSWERS_OF_LEARNER, {"user_id": user_id, "pretest": course.pretest_quiz_id, "final": course.final_quiz_id}
    ).all()


_OBJECTIVE_BY_QUESTION: dict[tuple, dict[str, str]] = {}  # by the course's `basis`: hashing a Course reads all of it


def _objective_by_question(course: Course) -> dict[str, str]:
    """Which objective each question of the two quizzes measures; the first, as in `_objective_of`'s CASE."""
    key = basis(course)
    if (found := _OBJECTIVE_BY_QUESTION.get(key)) is None:
        found = {}
        for objective, question_ids in _questions_of(course, objectives(course)).items():
            for question_id in question_ids:
                found.setdefault(question_id, objective)
        if len(_OBJECTIVE_BY_QUESTION) > 8:  # a trainer republishing all day
            _OBJECTIVE_BY_QUESTION.clear()
        _OBJECTIVE_BY_QUESTION[key] = found
    return found


def _learner_scores(course: Course, rows) -> Scores:
    """One learner's scores by the definition `_pairs` writes in SQL, from their attempts' answers (`_ANSWERS_OF_LEARNER`).

    Built in Python: the SQL for everyone costs a submit milliseconds to build and send, for a few rows."""
    if not objectives(course):
        return {}
    attempts = {(row.quiz_id, row.id): row for row in rows}
    pretests = [row for (quiz_id, _id), row in attempts.items() if quiz_id == course.pretest_quiz_id]
    finals = [row for (quiz_id, _id), row in attempts.items() if quiz_id == course.final_quiz_id]
    if not pretests or not finals:
        return {}
    first = min(pretests, key=lambda row: (row.submitted_at, row.number)).id
    best = max(finals, key=lambda row: (row.score or 0.0, row.submitted_at, row.number)).id
    objective_of = _objective_by_question(course)
    fractions: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        if row.id in (first, best) and (objective := objective_of.get(row.question_id)) is not None:
            fractions[row.id, objective].append(row.fraction or 0.0)
    return {
        objective: (fmean(fractions[first, objective]), fmean(fractions[best, objective]))
        for objective in dict.fromkeys(objective for _attempt, objective in fractions)
        if (first, objective) in fractions and (best, objective) in fractions
    }


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
