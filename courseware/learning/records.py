"""The one door for writing learner activity.

Every action writes, in one transaction, append-only `LearningRecord`s and the learner's
`Progress` rows. Each record carries an idempotency key, so a double click, a retry or two
workers racing write it once. Quiz attempts and scenario runs are written here too.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, case, delete, exists, func, literal, null, or_, select, true, union_all, update

from .. import learner_gains, summaries
from ..content import Lesson, Quiz, Scenario
from ..content.model import Module
from ..extensions import db
from ..models import (
    Certificate,
    LearningRecord,
    LessonTime,
    Progress,
    QuizAnswer,
    QuizAttempt,
    ScenarioRun,
    ScenarioStep,
    Status,
    User,
    Verb,
    built_once_per_dialect,
    element_columns,
    upsert,
    utcnow,
)
from ..outbox import lrs
from ..publishing import LiveCourse
from ..statements import ANSWERS_IN_ATTEMPT
from . import certification, grading, learning_time, roleplay
from .progress import PROGRESS_ROWS, CourseProgress, as_read, is_completed, moment, progress_from_rows


class NoAttemptsLeft(Exception):
    """The learner has used every attempt the quiz allows."""


class TooEarly(Exception):
    """The lesson's minimum reading time is not credited yet; `remaining` seconds are missing."""

    def __init__(self, remaining: float):
        super().__init__(remaining)
        self.remaining = remaining


def _record(
    user_id: int,
    verb: str,
    object_id: str,
    object_kind: str,
    revision_id: int,
    key: str,
    now: datetime,
    result: dict[str, Any] | None = None,
    attempt_id: str | None = None,
) -> dict[str, Any]:
    """The row of a new record, for `_append_records`."""
    return dict(
        statement_id=_statement_id(), idempotency_key=key, user_id=user_id, verb=verb, object_id=object_id,
        object_kind=object_kind, revision_id=revision_id, attempt_id=attempt_id, result=result, timestamp=now,
    )


@built_once_per_dialect
def _new_records():
    records = LearningRecord.__table__  # the table, not the model: rows go as they are, without ORM bookkeeping
    return (
        upsert(records).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(records.c.statement_id)
    )


def _statement_id() -> str:
    """A new statement id: a random UUID in version 4's format whose first 48 bits are the time in
    milliseconds (the layout of version 7, which LRSs that accept only versions 1 to 5 refuse).

    New ids then sort after the old ones, so each record adds to the end of the index on them
    instead of a random page of it: a quiz submit's dozen records write a few pages, not a dozen.
    """
    milliseconds = time.time_ns() // 1_000_000 % (1 << 48)
    return str(uuid.UUID(int=milliseconds << 80 | int.from_bytes(os.urandom(10), "big"), version=4))


def _append_records(rows: list[dict[str, Any]], answered: int = 0) -> set[str]:
    """Append, in one statement, the records whose keys are new; return the statement ids written.

    Every record goes through here, so this is the one place that knows what a transaction wrote.
    `answered` is how many answered statements a quiz result among them stands for.
    """
    written = db.session.connection().execute(_new_records(), rows).scalars().all()
    lrs.forward(written, answered)
    return set(written)


def _append_record(user: User, *fields: Any, **named: Any) -> bool:
    """Append a record (the fields after the user as `_record` takes them) unless one with the same key exists;
    tell whether it was written."""
    return bool(_append_records([_record(user.id, *fields, **named)]))


def _mark(
    user: User,
    activity_id: str,
    kind: str,
    module_id: str | None,
    revision_id: int,
    status: Status,
    now: datetime,
    score: float | None = None,
    attempts: int | None = None,
    before: summaries.Before | None = None,
) -> None:
    """Move a Progress row forward to `status` (completed stays completed); update score and attempts.

    The department's progress tallies follow in the same transaction (`summaries`), from `before` when the
    caller has read it (locking the learner as `summaries.before_write` does)."""
    completed = status is Status.COMPLETED
    row = dict(
        user_id=user.id, activity_id=activity_id, kind=kind, module_id=module_id, status=status.value,
        revision_id=revision_id, score=score, attempts=attempts or 0, started_at=now,
        completed_at=now if completed else None, updated_at=now,
    )
    moves = completed or score is not None or attempts is not None
    before = before or summaries.before_write(user.id, activity_id)
    after = db.session.connection().execute(_move_progress() if moves else _start_progress(), row).one_or_none()
    summaries.after_write(before, activity_id, kind, after and tuple(after))


_PROGRESS = Progress.__table__
_PROGRESS_KEY = ["user_id", "activity_id"]


@built_once_per_dialect
def _start_progress():
    """Insert a Progress row unless the learner has one on the activity already."""
    return (
        upsert(_PROGRESS).on_conflict_do_nothing(index_elements=_PROGRESS_KEY)
        .returning(_PROGRESS.c.status, _PROGRESS.c.score)
    )


@built_once_per_dialect
def _move_progress():
    """Insert a Progress row, or move the learner's row forward (a completion stays); return its status and score."""
    statement = upsert(_PROGRESS)
    excluded, current = statement.excluded, _PROGRESS.c
    done = current.status == Status.COMPLETED.value
    return statement.on_conflict_do_update(
        index_elements=_PROGRESS_KEY,
        set_=dict(
            status=case((done, current.status), else_=excluded.status),
            completed_at=func.coalesce(current.completed_at, excluded.completed_at),
            revision_id=case((done, current.revision_id), else_=excluded.revision_id),
            score=func.coalesce(excluded.score, current.score),
            attempts=case((excluded.attempts > 0, excluded.attempts), else_=current.attempts),
            updated_at=excluded.updated_at,
        ),
    ).returning(current.status, current.score)


_RENEWALS = certification.RENEWALS  # the round's rule, for the statements below that read the round with more


def _round(user: User, live: LiveCourse) -> int:
    """The learner's round of the course: 1, or more after each recertification opened."""
    return certification.cycle_of(user.id, live.course.id)[0]


def _once(verb: str, user: User, activity_id: str, round_: int) -> str:
    """Idempotency key for something a learner does once per round of the course."""
    key = f"{verb}:{user.id}:{activity_id}"
    return key if round_ == 1 else f"{key}:r{round_}"


def _start(user: User, live: LiveCourse, module: Module | None, activity_id: str, kind: str, now: datetime) -> None:
    """Mark the course, the module and the activity as in progress (never moving them back)."""
    marks = [(live.course.id, "course", None)]
    if module is not None:
        marks.append((module.id, "module", None))
    marks.append((activity_id, kind, module.id if module else None))
    for mark_id, mark_kind, module_id in marks:
        _mark(user, mark_id, mark_kind, module_id, live.revision_id, Status.IN_PROGRESS, now)


def _finish(user: User, live: LiveCourse, activity_id: str, kind: str, now: datetime, round_: int) -> None:
    _append_record(
        user, Verb.COMPLETED, activity_id, kind, live.revision_id, _once(Verb.COMPLETED, user, activity_id, round_), now
    )
    _mark(user, activity_id, kind, None, live.revision_id, Status.COMPLETED, now)


def _wait_for_other_writes(user: User) -> None:
    """Wait for the learner's other write transactions, so that what is read next includes them.

    Finishing a module's last lesson in one tab while passing its quiz in another must complete
    the module: each rollup has to see the other's work. On PostgreSQL this locks the learner's
    row (FOR NO KEY UPDATE, which the inserts that reference the learner do not wait on) until
    commit, which the transaction's first progress write has done already; SQLite runs one write
    transaction at a time already and renders no lock.
    """
    summaries.lock_learner(user.id)


def _complete_rollups(user: User, live: LiveCourse, module: Module | None, now: datetime, round_: int) -> None:
    """Complete the module and the course when their rules now hold."""
    _wait_for_other_writes(user)
    completed = set(
        db.session.scalars(
            select(Progress.activity_id).where(
                Progress.user_id == user.id, Progress.status == Status.COMPLETED.value
            )
        )
    )
    if module is not None and module.id not in completed and module.completion.is_met(module, completed):
        _finish(user, live, module.id, "module", now, round_)
        completed.add(module.id)
    course = live.course
    if course.id not in completed and course.is_complete(completed):
        _finish(user, live, course.id, "course", now, round_)
        issue_certificate(user, live, now)


def issue_certificate(user: User, live: LiveCourse, now: datetime) -> None:
    """Issue the course certificate (once per round of the course; a retry writes nothing)."""
    course = live.course
    final = course.final_quiz_id
    score = db.session.scalar(
        select(Progress.score).where(Progress.user_id == user.id, Progress.activity_id == final)
    ) if final else db.session.scalar(
        select(func.avg(Progress.score)).where(Progress.user_id == user.id, Progress.kind == "quiz")
    )
    cycle = certification.cycle_of(user.id, course.id)[0]
    db.session.execute(
        upsert(Certificate)
        .values(
            code=certification.new_code(), user_id=user.id, course_id=course.id, course_title=course.title,
            cycle=cycle, revision_id=live.revision_id, score=score, issued_at=now,
            learning_seconds=learning_time.seconds_in_round(user.id, cycle),
            expires_at=now + timedelta(days=course.valid_for_days) if course.valid_for_days else None,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "course_id", "cycle"])
    )


def start_new_round(certificate: Certificate, live: LiveCourse) -> bool:
    """Open the holder's next round of the course once (False if another worker was first).

    The certificate is marked as renewing and the holder's progress on the course is cleared, so
    they take it again; every record and earlier certificate stays. The caller commits.
    """
    claimed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.renewal_opened_at.is_(None))
        .values(renewal_opened_at=utcnow())
    ).rowcount
    if claimed != 1:
        return False
    course = live.course
    activity_ids = [course.id, *(m.id for m in course.modules), *(a.id for a in course.activities)]
    summaries.forget(certificate.user_id, activity_ids)
    db.session.execute(
        delete(Progress).where(Progress.user_id == certificate.user_id, Progress.activity_id.in_(activity_ids))
    )
    return True


# --- lessons ------------------------------------------------------------------------------


def open_lesson(user: User, live: LiveCourse, lesson: Lesson) -> bool:
    """Record that the learner opened a lesson (the first time only)."""
    now, round_ = utcnow(), _round(user, live)
    module = live.course.module(lesson.module_id)
    _start(user, live, module, lesson.id, "lesson", now)
    created = _append_record(
        user, Verb.EXPERIENCED, lesson.id, "lesson", live.revision_id, _once(Verb.EXPERIENCED, user, lesson.id, round_), now
    )
    db.session.commit()
    return created


def visit_lesson(user: User, live: LiveCourse, lesson: Lesson) -> tuple[CourseProgress, float]:
    """What a lesson view reads and writes: the learner's progress as the view found it, and the seconds
    credited on the lesson once the view is counted (the first open recorded, the clock started or moved).

    Every lesson view needs both, so the progress and the clock are read in one statement.
    """
    params = {"user_id": user.id, "course_id": live.course.id, "lesson_id": lesson.id}
    rows = db.session.connection().execute(_PROGRESS_AND_CLOCK, params).all()
    progress = progress_from_rows(live.course, [row for row in rows if row.activity_id is not None])
    _, _, last_seen_at, _, seconds, round_ = next(row for row in rows if row.activity_id is None)
    if progress.state(lesson.id).status is Status.NOT_STARTED:
        open_lesson(user, live, lesson)
    return progress, _apply_to_clock(user, lesson, _Clock(round_, seconds, moment(last_seen_at)), "open")


def time_lesson(user: User, live: LiveCourse, lesson: Lesson, event: str) -> float:
    """Apply a page event ('open', 'beat', 'hide', 'show') to the learner's clock on a lesson.

    Returns the seconds credited on the lesson in this round of the course.
    """
    clock = db.session.connection().execute(
        _ROUND_AND_CLOCK, {"user_id": user.id, "course_id": live.course.id, "lesson_id": lesson.id}
    ).one()
    return _apply_to_clock(user, lesson, _Clock(*clock), event)


class _Clock(NamedTuple):
    round: int
    seconds: float | None
    last_seen_at: datetime | None


def _apply_to_clock(user: User, lesson: Lesson, clock: _Clock, event: str) -> float:
    now = utcnow()
    if event == "open" and (unchanged := _reopened(clock, lesson, now)) is not None:
        return unchanged
    credited = _clock(user, lesson, clock.round, event, now)
    db.session.commit()
    return credited


# Built once: the learner's round of the course and their clock on the lesson in that round, in one statement.
_CLOCK_IN_ROUND = _RENEWALS.outerjoin(LessonTime, and_(
    LessonTime.user_id == bindparam("user_id"), LessonTime.lesson_id == bindparam("lesson_id"),
    LessonTime.cycle == _RENEWALS.c.renewals + 1,
))
_ROUND_AND_CLOCK = select(
    (_RENEWALS.c.renewals + 1).label("round"), LessonTime.seconds, LessonTime.last_seen_at
).select_from(_CLOCK_IN_ROUND)
# A lesson view's read: the learner's progress rows, then one row with no activity holding the clock as
# (last seen, seconds, round) where the progress rows have their start, score and attempts.
_PROGRESS_AND_CLOCK = union_all(
    PROGRESS_ROWS,
    select(
        null(), null(), as_read(LessonTime.last_seen_at), null(), LessonTime.seconds, _RENEWALS.c.renewals + 1
    ).select_from(_CLOCK_IN_ROUND),
)


def _reopened(clock, lesson: Lesson, now: datetime) -> float | None:
    """The seconds credited when opening the lesson changes nothing on its clock (a reload within a visit), else None.

    Read without a lock: such an open writes nothing, so there is nothing for another tab to race with.
    """
    if clock.last_seen_at is None:
        return None
    credit, last_seen = learning_time.step("open", clock.last_seen_at, now, lesson, learning_time.heartbeat_seconds())
    return clock.seconds if credit == 0 and last_seen == clock.last_seen_at else None


def _clock(user: User, lesson: Lesson, round_: int, event: str, now: datetime) -> float:
    """Move the learner's clock on `lesson` by `event`; return the seconds credited in all."""
    theirs = dict(user_id=user.id, lesson_id=lesson.id, cycle=round_)
    db.session.execute(
        upsert(LessonTime).values(**theirs, seconds=0.0)
        .on_conflict_do_nothing(index_elements=["user_id", "lesson_id", "cycle"])
    )
    # Two tabs beating at once must not both credit the same interval: the second waits for the
    # first's commit and then reads the time it left (SQLite already holds its one write lock).
    clock = db.session.scalars(
        select(LessonTime).filter_by(**theirs).with_for_update().execution_options(populate_existing=True)
    ).one()
    credit, clock.last_seen_at = learning_time.step(event, clock.last_seen_at, now, lesson, learning_time.heartbeat_seconds())
    clock.seconds = min(clock.seconds + credit, max(clock.seconds, learning_time.ceiling_seconds(lesson)))
    db.session.flush()
    return clock.seconds


def complete_lesson(user: User, live: LiveCourse, lesson: Lesson) -> bool:
    """Record a completed lesson, then the module and course if their rules now hold.

    Returns whether the lesson's completion was new. Raises `TooEarly` (after crediting the time
    since the lesson was last seen) while its minimum reading time is not reached; a lesson
    completed already stays completed, so a double click or a retry never meets the minimum again.
    """
    now, round_ = utcnow(), _round(user, live)
    if not is_completed(user.id, lesson.id):
        remaining = learning_time.required_seconds(lesson) - _clock(user, lesson, round_, "complete", now)
        if remaining > 0:
            db.session.commit()
            raise TooEarly(remaining)
    module = live.course.module(lesson.module_id)
    _start(user, live, module, lesson.id, "lesson", now)
    _append_record(
        user, Verb.EXPERIENCED, lesson.id, "lesson", live.revision_id, _once(Verb.EXPERIENCED, user, lesson.id, round_), now
    )
    created = _append_record(
        user, Verb.COMPLETED, lesson.id, "lesson", live.revision_id, _once(Verb.COMPLETED, user, lesson.id, round_), now
    )
    _mark(user, lesson.id, "lesson", module.id, live.revision_id, Status.COMPLETED, now)
    _complete_rollups(user, live, module, now, round_)
    db.session.commit()
    return created


# --- quizzes ------------------------------------------------------------------------------


def current_attempt(user: User, quiz_id: str) -> QuizAttempt | None:
    return db.session.scalar(
        select(QuizAttempt).where(
            QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz_id, QuizAttempt.status == "in_progress"
        )
    )


def attempts_of(user: User, quiz_id: str, since: datetime | None = None) -> list[QuizAttempt]:
    """The learner's attempts at a quiz, oldest first (only those since `since`, when given)."""
    statement = select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz_id)
    if since is not None:
        statement = statement.where(QuizAttempt.started_at >= since)
    return list(db.session.scalars(statement.order_by(QuizAttempt.number)))


def attempts_this_round(user: User, live: LiveCourse, quiz_id: str) -> list[QuizAttempt]:
    """Attempts that count against the quiz's limit: those since the current round began."""
    return attempts_of(user, quiz_id, certification.cycle_of(user.id, live.course.id)[1])


def _begin(
    model: type, column: str, user: User, live: LiveCourse, activity: Quiz | Scenario, kind: str,
    row_id: str | None = None, extra: dict[str, Any] | None = None,
) -> str | None:
    """Open the learner's next attempt or run; return its id, or None if one is open already.

    One statement both checks that nothing is open and numbers the new row, so two clicks that
    race cannot open two: the loser either sees the winner's row or collides on its number.
    `extra` holds further columns of the new row.
    """
    row_id, now = row_id or str(uuid.uuid4()), utcnow()
    theirs = (model.user_id == user.id) & (getattr(model, column) == activity.id)
    number = select(func.coalesce(func.max(model.number), 0) + 1).where(theirs).scalar_subquery()
    values = {
        "id": literal(row_id), "user_id": literal(user.id), "number": number,
        "revision_id": literal(live.revision_id), "status": literal("in_progress"),
        "started_at": literal(now, model.started_at.type), column: literal(activity.id),
        **{name: literal(value, getattr(model, name).type) for name, value in (extra or {}).items()},
    }
    open_already = exists().where(theirs, model.status == "in_progress")
    inserted = db.session.execute(
        upsert(model)
        .from_select(list(values), select(*values.values()).where(~open_already))
        .on_conflict_do_nothing()
        .returning(model.id)
    ).scalar()
    if inserted is None:
        db.session.rollback()
        return None
    module = live.course.module(activity.module_id) if activity.module_id else None
    _start(user, live, module, activity.id, kind, now)
    _append_record(
        user, Verb.ATTEMPTED, activity.id, kind, live.revision_id, f"attempted:{row_id}", now, attempt_id=row_id
    )
    db.session.commit()
    return row_id


def start_attempt(user: User, live: LiveCourse, quiz: Quiz) -> QuizAttempt:
    """Resume the attempt in progress, or start the next one if the quiz allows it."""
    for _ in range(3):  # a lost race with another tab means: resume what that tab started
        attempt = current_attempt(user, quiz.id)
        if attempt is not None:
            return attempt
        if quiz.attempts and len(attempts_this_round(user, live, quiz.id)) >= quiz.attempts:
            raise NoAttemptsLeft(quiz.id)
        attempt_id = str(uuid.uuid4())  # also the seed of the questions it draws from the pools
        drawn = {"question_ids": list(quiz.draw(attempt_id))}
        if _begin(QuizAttempt, "quiz_id", user, live, quiz, "quiz", attempt_id, drawn):
            return db.session.get(QuizAttempt, attempt_id)
    raise RuntimeError("could not start an attempt")  # pragma: no cover - three lost races


def save_answers(attempt: QuizAttempt, answers: dict[str, Any]) -> bool:
    """Keep the learner's answers so far; tell whether the attempt was still open to changes."""
    rows = _answer_rows(attempt.id, answers, utcnow())
    if not _lock_if_open(_HOLD, attempt.id):
        return False
    if rows:
        db.session.connection().execute(_saved_answers_upsert(), rows)
    db.session.commit()
    return True


_ATTEMPTS = QuizAttempt.__table__  # plain UPDATEs: the commit that follows expires the loaded attempt anyway
_IF_OPEN = (_ATTEMPTS.c.id == bindparam("attempt_id")) & (_ATTEMPTS.c.status == "in_progress")
_HOLD = update(_ATTEMPTS).where(_IF_OPEN).values(status=_ATTEMPTS.c.status)
_CLOSE = update(_ATTEMPTS).where(_IF_OPEN).values(
    status="submitted", submitted_at=bindparam("now"), score=bindparam("new_score"), passed=bindparam("new_passed")
)
_SCORE = update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("attempt_id")).values(
    score=bindparam("new_score"), passed=bindparam("new_passed")
)


def _lock_if_open(statement: Any, attempt_id: str, **values: Any) -> bool:
    """Lock the attempt's row with `statement` (`_HOLD` or `_CLOSE` and its `values`) if it is still in
    progress; otherwise roll back.

    Saves and submits both take this lock before they write answers, so an autosave racing a
    submit lands before the grading or not at all, and the two never wait on each other's rows.
    """
    held = db.session.connection().execute(statement, {"attempt_id": attempt_id, **values}).rowcount == 1
    if not held:
        db.session.rollback()
    return held


def _answer_rows(
    attempt_id: str, answers: dict[str, Any], now: datetime, fractions: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    """The attempt's answer rows; when grading, each with its `fractions` entry (None: not drawn)."""
    rows = [{"attempt_id": attempt_id, "question_id": qid, "answer": answer, "updated_at": now} for qid, answer in answers.items()]
    if fractions is not None:
        for row in rows:
            row["fraction"] = fractions.get(row["question_id"])
    return rows


def _answers_upsert(*columns: str) -> Any:
    statement = upsert(QuizAnswer.__table__)
    return statement.on_conflict_do_update(
        index_elements=["attempt_id", "question_id"], set_={column: statement.excluded[column] for column in columns}
    )


_saved_answers_upsert = built_once_per_dialect(lambda: _answers_upsert("answer", "updated_at"))
_graded_answers_upsert = built_once_per_dialect(lambda: _answers_upsert("answer", "fraction", "updated_at"))


class _Graded(NamedTuple):
    """What the progress needs of a submitted attempt."""

    id: str
    revision_id: int
    score: float | None
    passed: bool | None


class _Submission(NamedTuple):
    """What a submit writes once it holds the attempt."""

    result: grading.QuizResult
    answers: list[dict[str, Any]]
    records: list[dict[str, Any]]
    completion_id: str | None  # the statement id of the quiz's completion, when the learner has passed it
    kept: _Graded  # the attempt whose score the progress shows
    tries: int
    round: int
    before: summaries.Before  # the learner's progress on the quiz before the submit


def submit_attempt(user: User, live: LiveCourse, attempt: QuizAttempt, quiz: Quiz, answers: dict[str, Any]) -> QuizAttempt:
    """Grade and close an attempt exactly once; a second submit returns the first result.

    The answers are graded before the attempt is locked, so the writes that follow hold the database's
    write lock briefly: close the attempt with its score, read in one statement what the progress needs
    (locking the learner), write the answers with their fractions, append the records, move the progress
    (and the module and course only when the quiz's completion is new). An attempt left with blanks is
    graded once locked, with the answers saved earlier, which no autosave can change any more.
    """
    now = utcnow()
    complete = all(question.id in answers for question in quiz.drawn(attempt.question_ids))
    result = grading.grade(quiz, answers, attempt.question_ids) if complete else None
    closing = {"now": now, "new_score": result and result.scaled, "new_passed": result and result.passed}
    if not _lock_if_open(_CLOSE, attempt.id, **closing):
        return db.session.get(QuizAttempt, attempt.id, populate_existing=True)
    if result is None:
        answers = {**_saved_answers(attempt.id), **answers}
        result = grading.grade(quiz, answers, attempt.question_ids)
        db.session.connection().execute(_SCORE, {"attempt_id": attempt.id, "new_score": result.scaled, "new_passed": result.passed})
    submission = _submission(user, live, attempt, quiz, answers, result, now)
    _write_submission(user, live, quiz, submission, now)
    db.session.commit()
    return attempt


def _submission(
    user: User, live: LiveCourse, attempt: QuizAttempt, quiz: Quiz, answers: dict[str, Any], result: grading.QuizResult,
    now: datetime,
) -> _Submission:
    """Read what the progress needs of the closed attempt, locking the learner, and put together the rows to write."""
    before, round_, earlier = _submitting(user.id, live.course.id, quiz.id, attempt.id)
    rows = _answer_rows(attempt.id, answers, now, {item.question.id: item.fraction for item in result.questions})
    tried = [*earlier, _Graded(attempt.id, attempt.revision_id, result.scaled, result.passed)]
    kept = max(tried, key=lambda a: a.score or 0) if quiz.keep == "best" else tried[-1]
    outcome = _record(
        user.id, Verb.PASSED if result.passed else Verb.FAILED, quiz.id, "quiz", attempt.revision_id,
        f"result:{attempt.id}", now, attempt_id=attempt.id,
        result={
            "success": result.passed,
            "completion": True,
            "score": {"scaled": round(result.scaled, 4), "raw": result.earned, "min": 0, "max": result.possible},
            ANSWERS_IN_ATTEMPT: True,  # each question's statement is read from the answers (statements.expand)
        },
    )
    completion = _record(
        user.id, Verb.COMPLETED, quiz.id, "quiz", kept.revision_id, _once(Verb.COMPLETED, user, quiz.id, round_), now,
        result={"success": True, "score": {"scaled": round(kept.score or 0, 4)}}, attempt_id=kept.id,
    ) if any(a.passed for a in tried) else None
    records = [outcome, *([completion] if completion else [])]
    return _Submission(result, rows, records, completion and completion["statement_id"], kept, len(tried), round_, before)


def _write_submission(user: User, live: LiveCourse, quiz: Quiz, submission: _Submission, now: datetime) -> None:
    """Write what `_submission` put together, the attempt locked."""
    if submission.answers:
        db.session.connection().execute(_graded_answers_upsert(), submission.answers)
    written = _append_records(submission.records, len(submission.result.questions))
    passed = submission.completion_id is not None
    kept = submission.kept
    _mark(
        user, quiz.id, "quiz", quiz.module_id, kept.revision_id, Status.COMPLETED if passed else Status.IN_PROGRESS, now,
        score=kept.score, attempts=submission.tries, before=submission.before,
    )
    if passed and submission.completion_id in written:  # completed just now: the module and course may be too
        module = live.course.module(quiz.module_id) if quiz.module_id else None
        _complete_rollups(user, live, module, now, submission.round)
    if learner_gains.is_measured_by(live.course, quiz.id):
        learner_gains.refresh_learner(live.course, live.revision_id, user.id)


# Built once: what a submit reads once it holds the attempt, in one statement: `summaries.BEFORE` on the quiz (the
# learner locked), with the round's renewals and the learner's other attempts at the quiz submitted in that round,
# a row for each, oldest first (a row of NULL attempt when there is none).
_SUBMITTING = summaries.BEFORE.add_columns(
    _RENEWALS.c.renewals, QuizAttempt.id, QuizAttempt.revision_id, QuizAttempt.score, QuizAttempt.passed,
).join(_RENEWALS, true()).outerjoin(QuizAttempt, and_(
    QuizAttempt.user_id == User.id, QuizAttempt.quiz_id == bindparam("activity_id"), QuizAttempt.status == "submitted",
    QuizAttempt.id != bindparam("attempt_id"),
    or_(_RENEWALS.c.since.is_(None), QuizAttempt.started_at >= _RENEWALS.c.since),
)).order_by(QuizAttempt.number)


def _submitting(user_id: int, course_id: str, quiz_id: str, attempt_id: str) -> tuple[summaries.Before, int, list[_Graded]]:
    """Lock the learner; their progress on the quiz before the submit, their round of the course, and their
    other attempts at the quiz submitted in that round, oldest first."""
    rows = db.session.connection().execute(
        _SUBMITTING, {"user_id": user_id, "course_id": course_id, "activity_id": quiz_id, "attempt_id": attempt_id}
    ).all()
    first = rows[0]
    return summaries.read_before(user_id, first), first.renewals + 1, [_Graded(*row[5:]) for row in rows if row[5] is not None]


def _saved_answers(attempt_id: str) -> dict[str, Any]:
    return dict(db.session.execute(
        select(QuizAnswer.question_id, QuizAnswer.answer).where(QuizAnswer.attempt_id == attempt_id)
    ).all())


# --- role-play scenarios ------------------------------------------------------------------


def current_run(user: User, scenario_id: str) -> ScenarioRun | None:
    return db.session.scalar(
        select(ScenarioRun).where(
            ScenarioRun.user_id == user.id,
            ScenarioRun.scenario_id == scenario_id,
            ScenarioRun.status == "in_progress",
        )
    )


def runs_of(user: User, scenario_id: str) -> list[ScenarioRun]:
    return list(
        db.session.scalars(
            select(ScenarioRun)
            .where(ScenarioRun.user_id == user.id, ScenarioRun.scenario_id == scenario_id)
            .order_by(ScenarioRun.number)
        )
    )


def start_run(user: User, live: LiveCourse, scenario: Scenario, *, fresh: bool = False) -> ScenarioRun:
    """Resume the run in progress, or start a new one; `fresh` abandons an unfinished run (replay).

    Starting again a run with no choice made yet is that run, so a double click on "start again"
    opens one new run, not two.
    """
    for _ in range(3):
        run = current_run(user, scenario.id)
        if run is not None and (not fresh or not run.steps):
            return run
        if run is not None:
            db.session.execute(
                update(ScenarioRun).where(ScenarioRun.id == run.id, ScenarioRun.status == "in_progress")
                .values(status="abandoned", finished_at=utcnow())
            )
            fresh = False
        if run_id := _begin(ScenarioRun, "scenario_id", user, live, scenario, "scenario"):
            return db.session.get(ScenarioRun, run_id)
    raise RuntimeError("could not start a run")  # pragma: no cover - three lost races


def choose(user: User, live: LiveCourse, run: ScenarioRun, scenario: Scenario, step: int, choice_id: str) -> roleplay.Play:
    """Record the learner's choice at `step`; a repeated or stale submit changes nothing.

    Raises `roleplay.InvalidChoice` when the choice is not offered at the current node.
    """
    choices = run.choice_ids
    if run.status != "in_progress" or step != len(choices):
        return roleplay.play(scenario, choices)
    state = roleplay.play(scenario, [*choices, choice_id])
    now = utcnow()
    taken = state.steps[-1]
    inserted = db.session.execute(
        upsert(ScenarioStep)
        .values(run_id=run.id, step=step, node_id=taken.node.id, choice_id=choice_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["run_id", "step"])
        .returning(ScenarioStep.id)
    ).scalar()
    if inserted is None:
        db.session.rollback()
        db.session.expire(run)
        return roleplay.play(scenario, run.choice_ids)
    _append_record(
        user, Verb.RESPONDED, f"{scenario.id}/{taken.node.id}", "interaction", run.revision_id,
        f"responded:{run.id}:{step}", now, result={"response": choice_id}, attempt_id=run.id,
    )
    if state.finished:
        profile = state.profile
        db.session.execute(
            update(ScenarioRun).where(ScenarioRun.id == run.id)
            .values(status="finished", finished_at=now, ending_id=state.node.id, **element_columns(profile))
        )
        summaries.run_finished(user.id, scenario.id, element_columns(profile))
        _append_record(
            user, Verb.COMPLETED, scenario.id, "scenario", run.revision_id, f"finished:{run.id}", now,
            result={"completion": True, "response": state.node.id, "extensions": {"profile": profile}},
            attempt_id=run.id,
        )
        module = live.course.module(scenario.module_id) if scenario.module_id else None
        _mark(user, scenario.id, "scenario", scenario.module_id, run.revision_id, Status.COMPLETED, now)
        _complete_rollups(user, live, module, now, _round(user, live))
    db.session.commit()
    db.session.expire(run)
    return state
