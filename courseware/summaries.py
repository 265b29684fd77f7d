"""Progress tallies: HR's counts kept current in the transaction of every write, never recomputed per page.

A `ProgressTally` row counts the learners of one department (active or not) at one status on one
activity, with the sum of their scores; the rows on `PEOPLE` count the people themselves, and those with a
`RUN` status the finished role-play runs and their totals on each core element. What moves them:

- a progress write: `records._mark` reads the row before (`before_write`, which also locks the learner
  so their other writes wait, once per transaction: `lock_learner`) and reports what the upsert returned
  (`after_write`);
- progress cleared for a new round of the course (`forget`); a role-play run finished (`run_finished`); a
  learner's gains rewritten (`gains_changed`);
- people created, moved to another department, (de)activated: caught at every ORM flush, wherever in the
  app it happens (the moved person's row is locked and their progress recounted where they end up);
  bulk inserts of people say so with `people_added`.

Changes are collected per session and applied when it commits, as one atomic increment per row in key
order, so two workers updating the same rows never lose an update nor deadlock. `rebuild` recomputes
everything from scratch (`flask reports rebuild`); `from_scratch` is the aggregate the tallies always equal.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, event, func, insert, inspect, literal, select, text, union_all
from sqlalchemy.orm import Session

from .extensions import db
from .models import (
    ELEMENT_COLUMNS,
    LearnerGain,
    Progress,
    ProgressTally,
    ScenarioRun,
    User,
    built_once_per_dialect,
    upsert,
)

PEOPLE = ""  # the activity (and status) of the rows that count people, whatever their progress
RUN = "r:"  # + an element column: the status of the rows that sum finished role-play runs' totals on that element
GAIN = "g:"  # + an objective: the activity of the rows that sum learners' gains, at status PRETEST or FINAL
PRETEST, FINAL = "pretest", "final"
PENDING = "progress_tally_pending"
MOVING = "progress_tally_moving"
LOCKED = "progress_tally_locked"  # {learner: (department, active)} locked by the session's transaction
CHUNK = 500

Key = tuple[int, bool, str, str]  # department, active, activity, status


@dataclass(frozen=True)
class Before:
    """The learner's department and state, and their row on one activity, before a write."""

    department_id: int
    active: bool
    status: str | None
    score: float | None


def _pending(session: Session) -> dict[Key, list]:
    """{key: [kind, learners, scored, score sum]} still to be added when `session` commits."""
    return session.info.setdefault(PENDING, defaultdict(lambda: [PEOPLE, 0, 0, 0.0]))


def _add(session: Session, key: Key, kind: str, learners: int, scored: int, score_sum: float) -> None:
    entry = _pending(session)[key]
    entry[0] = kind
    entry[1] += learners
    entry[2] += scored
    entry[3] += score_sum


def lock_learner(user_id: int) -> tuple[int, bool]:
    """Lock the learner until this transaction ends, so their other writes wait; return their department and
    active flag. The lock is taken once per transaction: later calls return what the first one read."""
    locked = _locked(db.session())
    if user_id not in locked:
        locked[user_id] = tuple(db.session.execute(_LEARNER, {"user_id": user_id}).one())
    return locked[user_id]


def before_write(user_id: int, activity_id: str) -> Before:
    """Lock the learner (`lock_learner`) and read their row on `activity_id`, in one statement the first time."""
    locked = _locked(db.session())
    if user_id in locked:
        row = db.session.execute(_ROW, {"user_id": user_id, "activity_id": activity_id}).one_or_none()
        return Before(*locked[user_id], *(row or (None, None)))
    return read_before(user_id, db.session.execute(BEFORE, {"user_id": user_id, "activity_id": activity_id}).one())


def read_before(user_id: int, row) -> Before:
    """The `Before` in a row of `BEFORE` (or of a statement built on it, its first four columns), the learner
    now locked for the rest of the transaction."""
    department_id, active, status, score = row[:4]
    _locked(db.session())[user_id] = (department_id, active)
    return Before(department_id, active, status, score)


def _locked(session: Session) -> dict[int, tuple[int, bool]]:
    return session.info.setdefault(LOCKED, {})


# Built once: every progress write reads one of them.
_LEARNER = select(User.department_id, User.active).where(User.id == bindparam("user_id")).with_for_update(key_share=True)
_ROW = select(Progress.status, Progress.score).where(
    Progress.user_id == bindparam("user_id"), Progress.activity_id == bindparam("activity_id")
)
# The learner's department, active flag and row on `:activity_id`, the learner locked: a statement that needs more
# with it (a quiz submit) adds to this one.
BEFORE = (
    select(User.department_id, User.active, Progress.status, Progress.score)
    .select_from(User)
    .outerjoin(Progress, (Progress.user_id == User.id) & (Progress.activity_id == bindparam("activity_id")))
    .where(User.id == bindparam("user_id"))
    .with_for_update(key_share=True, of=User)
)


def after_write(before: Before, activity_id: str, kind: str, after: tuple[str, float | None] | None) -> None:
    """Count the change from `before` to `after` (the upsert's returned status and score; None: nothing written)."""
    if after is None or tuple(after) == (before.status, before.score):
        return
    session = db.session()
    home = (before.department_id, before.active, activity_id)
    if before.status is not None:
        _add(session, (*home, before.status), kind, -1, -(before.score is not None), -(before.score or 0.0))
    _add(session, (*home, after[0]), kind, 1, after[1] is not None, after[1] or 0.0)


def forget(user_id: int, activity_ids: Iterable[str]) -> None:
    """Uncount the learner's rows on `activity_ids`, about to be deleted."""
    lock_learner(user_id)
    _count(db.session(), [user_id], -1, list(activity_ids))


def run_finished(user_id: int, scenario_id: str, totals: dict[str, int]) -> None:
    """Count a role-play run that just finished with these element totals (`element_columns`)."""
    department_id, active = lock_learner(user_id)
    for column, total in totals.items():
        _add(db.session(), (department_id, active, scenario_id, RUN + column), "run", 1, total is not None, total or 0.0)


def gains_changed(user_id: int, old: dict[str, tuple[float, float]], new: dict[str, tuple[float, float]]) -> None:
    """Count a learner's gains going from `old` to `new` ({objective: (pre-test score, final score)})."""
    department_id, active = lock_learner(user_id)
    session = db.session()
    for sign, scores in ((-1, old), (1, new)):
        for objective, both in scores.items():
            for status, score in zip((PRETEST, FINAL), both):
                _add(session, (department_id, active, GAIN + objective, status), "gain", sign, sign, sign * score)


def people_added(user_ids: Iterable[int]) -> None:
    """Count people inserted in bulk, past the ORM."""
    _count(db.session(), sorted(user_ids), 1)


def _count(session: Session, user_ids: list[int], sign: int, only_activities: list[str] | None = None) -> None:
    for start in range(0, len(user_ids), CHUNK):
        rows = session.execute(_aggregate(user_ids[start:start + CHUNK], only_activities))
        for department_id, active, activity_id, status, kind, learners, scored, score_sum in rows:
            key = (department_id, active, activity_id, status)
            _add(session, key, kind, sign * learners, sign * scored, sign * (score_sum or 0.0))


def _gains(user_ids: list[int] | None = None) -> list:
    """Select the rows summing learners' gains (of `user_ids`; default: everyone), one statement per status."""
    statements = [
        select(User.department_id, User.active, literal(GAIN) + LearnerGain.objective, literal(status),
               literal("gain"), func.count(), func.count(), func.sum(column))
        .join(User, User.id == LearnerGain.user_id)
        .group_by(User.department_id, User.active, LearnerGain.objective)
        for status, column in ((PRETEST, LearnerGain.pretest_score), (FINAL, LearnerGain.final_score))
    ]
    return statements if user_ids is None else [s.where(LearnerGain.user_id.in_(user_ids)) for s in statements]


def _aggregate(user_ids: list[int] | None = None, only_activities: list[str] | None = None):
    """Select (department, active, activity, status, kind, learners, scored, score sum): the progress of
    `user_ids` (default: everyone), and unless `only_activities` the rows counting the people themselves,
    their finished role-play runs (one row per element: runs, runs with a total, sum of the totals) and their
    learning gains."""
    progress = (
        select(User.department_id, User.active, Progress.activity_id, Progress.status, func.min(Progress.kind),
               func.count(), func.count(Progress.score), func.sum(Progress.score))
        .join(User, User.id == Progress.user_id)
        .group_by(User.department_id, User.active, Progress.activity_id, Progress.status)
    )
    if user_ids is not None:
        progress = progress.where(Progress.user_id.in_(user_ids))
    if only_activities is not None:
        return progress.where(Progress.activity_id.in_(only_activities))
    people = (
        select(User.department_id, User.active, literal(PEOPLE), literal(PEOPLE), literal(PEOPLE),
               func.count(), literal(0), literal(0.0))
        .group_by(User.department_id, User.active)
    )
    runs = [
        select(User.department_id, User.active, ScenarioRun.scenario_id, literal(RUN + column), literal("run"),
               func.count(), func.count(getattr(ScenarioRun, column)), func.sum(getattr(ScenarioRun, column)))
        .join(User, User.id == ScenarioRun.user_id)
        .where(ScenarioRun.status == "finished")
        .group_by(User.department_id, User.active, ScenarioRun.scenario_id)
        for column in ELEMENT_COLUMNS.values()
    ]
    if user_ids is not None:
        people = people.where(User.id.in_(user_ids))
        runs = [statement.where(ScenarioRun.user_id.in_(user_ids)) for statement in runs]
    return union_all(progress, people, *runs, *_gains(user_ids))


def _moves(user: User) -> bool:
    attrs = inspect(user).attrs
    return any(attrs[name].history.has_changes() for name in ("department_id", "department", "active"))


@event.listens_for(Session, "before_flush")
def _uncount_movers(session: Session, _context, _instances) -> None:
    """Before people's department or active flag changes: lock them and uncount them where they were."""
    moving = sorted(u.id for u in session.dirty if isinstance(u, User) and u.id is not None and _moves(u))
    if not moving:
        return
    locked = _locked(session)
    for user_id in moving:  # they are counted where they end up, not where they were when locked
        locked.pop(user_id, None)
    for start in range(0, len(moving), CHUNK):
        chunk = moving[start:start + CHUNK]
        session.execute(select(User.id).where(User.id.in_(chunk)).order_by(User.id).with_for_update(key_share=True))
    _count(session, moving, -1)
    session.info.setdefault(MOVING, []).extend(moving)


@event.listens_for(Session, "after_flush")
def _count_arrivals(session: Session, _context) -> None:
    """Count people created by this flush, and those moved, where they are now; and progress rows added as objects
    (not the app's way, which is `records._mark`, but tests and scripts do)."""
    arrived = session.info.pop(MOVING, []) + [u.id for u in session.new if isinstance(u, User)]
    if arrived:
        _count(session, sorted(arrived), 1)
    recounted = set(arrived)
    for row in (p for p in session.new if isinstance(p, Progress) and p.user_id not in recounted):
        learner = session.get(User, row.user_id)
        key = (learner.department_id, learner.active, row.activity_id, row.status)
        _add(session, key, row.kind, 1, row.score is not None, row.score or 0.0)


@event.listens_for(Session, "before_commit")
def _apply(session: Session) -> None:
    session.flush()
    pending = session.info.pop(PENDING, None)
    rows = [
        {"department_id": key[0], "active": key[1], "activity_id": key[2], "status": key[3], "kind": kind,
         "learners": learners, "scored": scored, "score_sum": score_sum}
        for key, (kind, learners, scored, score_sum) in sorted((pending or {}).items())
        if learners or scored or score_sum
    ]
    if rows:
        session.connection().execute(_increments(), rows)


@built_once_per_dialect
def _increments():
    """Add rows' counts to the tallies."""
    tallies = ProgressTally.__table__
    statement = upsert(tallies)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["department_id", "active", "activity_id", "status"],
        set_={column: tallies.c[column] + excluded[column] for column in ("learners", "scored", "score_sum")},
    )


@event.listens_for(Session, "after_transaction_end")
def _unlock(session: Session, transaction) -> None:
    """The database lets go of the learners' locks when the transaction ends, however it ends (a close too)."""
    if transaction.parent is None:
        session.info.pop(LOCKED, None)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(MOVING, None)


def people(department_ids: set[int] | None) -> dict[int, int]:
    """Active people per department in `department_ids` (None: all), from the tallies."""
    statement = select(ProgressTally.department_id, ProgressTally.learners).where(
        ProgressTally.active.is_(True), ProgressTally.activity_id == PEOPLE, ProgressTally.learners != 0
    )
    if department_ids is not None:
        statement = statement.where(ProgressTally.department_id.in_(department_ids or {-1}))
    return dict(db.session.execute(statement).all())


def from_scratch() -> dict[Key, tuple[int, int, float]]:
    """The tallies computed from Progress and User now: {key: (learners, scored, score sum)}."""
    return {
        (department_id, active, activity_id, status): (learners, scored, score_sum or 0.0)
        for department_id, active, activity_id, status, _kind, learners, scored, score_sum
        in db.session.execute(_aggregate())
    }


def current() -> dict[Key, tuple[int, int, float]]:
    """The stored tallies, rows counting nobody left out."""
    return {
        (row.department_id, row.active, row.activity_id, row.status): (row.learners, row.scored, row.score_sum)
        for row in db.session.scalars(select(ProgressTally))
        if row.learners or row.scored
    }


def rebuild() -> int:
    """Recompute every tally from scratch (writers wait meanwhile on PostgreSQL); the caller commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE progress_tally IN SHARE ROW EXCLUSIVE MODE"))
    db.session.info.pop(PENDING, None)
    db.session.execute(delete(ProgressTally))
    return _insert(_aggregate())


def recount_gains() -> int:
    """Recompute the tallies of learning gains from the learners' kept gains; the caller commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE progress_tally IN SHARE ROW EXCLUSIVE MODE"))
    pending = db.session.info.get(PENDING, {})
    for key in [key for key in pending if key[2].startswith(GAIN)]:
        del pending[key]
    db.session.execute(delete(ProgressTally).where(ProgressTally.activity_id.startswith(GAIN)))
    return _insert(union_all(*_gains()))


def _insert(aggregate) -> int:
    aggregate = aggregate.subquery()
    columns = ["department_id", "active", "activity_id", "status", "kind", "learners", "scored", "score_sum"]
    source = select(*list(aggregate.c)[:7], func.coalesce(list(aggregate.c)[7], 0.0))
    return db.session.execute(insert(ProgressTally).from_select(columns, source)).rowcount
