"""Fill a database with a realistic organisation for benchmarks: departments, learners, progress.

    python bench/generate.py --database-url sqlite:///bench/data/bench.db --learners 10000

Learners follow personas (not started, partway, finished, finished and certified); each finished
lesson, quiz attempt and role-play run is written as the app writes it (records, progress rows,
attempts with answers, runs with steps), in bulk. Deterministic for a given --seed.

Past the first --detail learners (default: all of them), only what HR's pages read is written: people,
progress rows, certificates, quiz attempts with their scores and role-play runs with their totals, but no
records, answers or steps, so that 100,000 learners take minutes:

    python bench/generate.py --database-url sqlite:///bench/data/hr-100000.db --learners 100000 --detail 0

The progress tallies are rebuilt from the rows at the end (`flask reports rebuild`).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BENCH_DATA", ROOT / "bench" / "data"))  # as in bench/run.py
sys.path.insert(0, str(ROOT))

from sqlalchemy import JSON, insert, text  # noqa: E402
from sqlalchemy.schema import AddConstraint, DropConstraint  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from courseware import create_app, learner_gains, summaries  # noqa: E402
from courseware.content import Course, Question, Scenario, read_sources  # noqa: E402
from courseware.extensions import db  # noqa: E402
from courseware.learning.grading import grade  # noqa: E402
from courseware.learning.roleplay import model_path, play  # noqa: E402
from courseware.models import (  # noqa: E402
    Assignment,
    Certificate,
    Department,
    DueDateExtension,
    LearningRecord,
    Progress,
    ProgressTally,
    QuizAnswer,
    QuizAttempt,
    Role,
    ScenarioRun,
    ScenarioStep,
    User,
    UserRole,
    element_columns,
)
from courseware.models.base import UTCDateTime  # noqa: E402
from courseware.publishing import publish  # noqa: E402
from courseware.statements import ANSWERS_IN_ATTEMPT  # noqa: E402

PASSWORD = "bench-password"
DEPARTMENTS = {
    "销售部": ["华东区", "华南区", "华北区", "大客户组"],
    "生产部": ["冲压车间", "焊接车间", "涂装车间", "总装车间"],
    "质量部": ["来料检验", "过程检验"],
    "人力资源部": ["招聘组", "培训组"],
    "财务部": ["应收组", "应付组"],
    "信息技术部": ["运维组", "开发组"],
    "采购部": [],
    "客服部": ["热线组", "售后组"],
}
PERSONAS = [("none", 0.12), ("partway", 0.48), ("finished", 0.40)]
CHUNK = 5000


class Writer:
    """Collect rows per table and insert them in large batches; while `light`, drop what HR's pages never read.

    Rows go straight to the driver (SQLite: executemany; PostgreSQL: COPY), each value stored as SQLAlchemy
    would store it: JSON columns serialised with `json.dumps` (None as JSON null), and on SQLite datetimes in
    its storage format (they are all UTC here)."""

    DETAIL = {LearningRecord, QuizAnswer, ScenarioStep}
    TABLES = [LearningRecord, Progress, QuizAttempt, QuizAnswer, ScenarioRun, ScenarioStep, Certificate]  # what `add` is given

    def __init__(self) -> None:
        self.rows: dict[Any, list[tuple]] = {}
        self.makers: dict[Any, tuple[list[str], Callable[[dict[str, Any]], tuple]]] = {}
        self.counts: dict[str, int] = {}
        self.light = False
        self.postgresql = db.session.get_bind().dialect.name == "postgresql"
        if not self.postgresql:
            db.session.execute(text("PRAGMA cache_size=-400000"))  # 400 MB: the indexes being filled stay in memory

    def add(self, model: Any, **values: Any) -> None:
        if self.light and model in self.DETAIL:
            return
        if model not in self.makers:
            self.makers[model] = (list(values), self._row_maker(model, list(values)))
        batch = self.rows.setdefault(model, [])
        batch.append(self.makers[model][1](values))
        if len(batch) >= CHUNK:
            self.flush()

    def _row_maker(self, model: Any, names: list[str]) -> Callable[[dict[str, Any]], tuple]:
        """A function turning one row's values (keyword arguments, always the same keys) into a driver tuple."""
        columns = model.__table__.columns
        missing = [c.name for c in columns if c.name not in names and (c.default is not None or not (c.nullable or c.primary_key))]
        if missing:
            raise ValueError(f"{model.__tablename__}: give {missing}")
        dumps = json.dumps
        converters: list[tuple[str, Callable[[Any], Any] | None]] = []
        for name in names:
            column_type = columns[name].type
            if isinstance(column_type, JSON):
                converters.append((name, lambda value: None if value is None else dumps(value)))
            elif isinstance(column_type, UTCDateTime) and not self.postgresql:
                converters.append((name, _sqlite_datetime))
            else:
                converters.append((name, None))
        return lambda values: tuple(values[name] if convert is None else convert(values[name]) for name, convert in converters)

    def flush(self) -> None:
        """Insert every batch, parents first (tables are kept in the order they were first used)."""
        cursor = db.session.connection().connection.driver_connection.cursor()
        for table, batch in self.rows.items():
            if not batch:
                continue
            names, _maker = self.makers[table]
            columns = ", ".join(f'"{name}"' for name in names)
            if self.postgresql:
                with cursor.copy(f'COPY "{table.__tablename__}" ({columns}) FROM STDIN') as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                cursor.executemany(f'INSERT INTO "{table.__tablename__}" ({columns}) VALUES ({", ".join("?" * len(names))})', batch)
            self.counts[table.__tablename__] = self.counts.get(table.__tablename__, 0) + len(batch)
            self.rows[table] = []
        cursor.close()


def _sqlite_datetime(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(" ", "microseconds")[:26]


def wrong_answer(question: Question, rng: random.Random) -> Any:
    kind = question.kind
    if kind == "single":
        return rng.choice([o.id for o in question.options if not o.correct])
    if kind == "multiple":
        return sorted({rng.choice([o.id for o in question.options])})
    if kind == "true_false":
        return not question.answer
    if kind == "ordering":
        order = question.correct_answer()
        return order[1:] + order[:1]
    if kind == "matching":
        right = question.correct_answer()
        lefts, values = list(right), list(right.values())
        return dict(zip(lefts, values[1:] + values[:1], strict=True))
    return "不清楚"


def generate(database_url: str, learners: int, seed: int = 1, course_dir: Path = ROOT / "lessons", detail: int | None = None) -> dict[str, int]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(DATA / "instance")})
    rng = random.Random(seed)
    with app.app_context():
        db.drop_all()
        db.create_all()
        revision = publish(read_sources(course_dir), note="bench").revision
        course = Course.from_dict(revision.compiled)
        departments = _departments()
        writer = Writer()
        password_hash = generate_password_hash(PASSWORD, method="scrypt")
        now = datetime.now(timezone.utc).replace(microsecond=0)
        user_ids = _people(learners, departments, password_hash, now)
        _assignments(rng, course, departments, user_ids, now)
        with _keys_checked_after(writer):
            for n, user_id in enumerate(user_ids):
                writer.light = detail is not None and n >= detail
                _learner(writer, rng, user_id, course, revision.id, now)
            writer.flush()
        db.session.commit()
        _analyze()  # before the aggregates, which PostgreSQL would otherwise plan for empty tables
        learner_gains.refresh_all(course)
        summaries.rebuild()
        db.session.commit()
        _analyze()
        return writer.counts | {"user": len(user_ids), "progress_tally": db.session.query(ProgressTally).count()}


@contextmanager
def _keys_checked_after(writer: Writer):
    """On PostgreSQL, load the learners' rows without their foreign keys and add the keys back after, each checked
    in one pass over its table instead of a trigger per row (same keys, same names: the schema ends as created)."""
    keys = [key for model in Writer.TABLES for key in model.__table__.foreign_key_constraints] if writer.postgresql else []
    for key in keys:
        db.session.execute(DropConstraint(key))
    yield
    for key in keys:
        db.session.execute(AddConstraint(key))


def _analyze() -> None:
    """Give the planner statistics on this data set's tables (only these: a shared server holds others)."""
    for table in db.metadata.sorted_tables:
        db.session.execute(text(f'ANALYZE "{table.name}"'))
    db.session.commit()


def _assignments(rng: random.Random, course: Course, departments: dict[str, list[int]], user_ids: list[int], now: datetime) -> None:
    """The course for every top department, due some days ago or ahead; a few learners assigned it
    themselves, and a few given more time."""
    assigned = [Assignment(activity_id=course.id, department_id=top, due_on=date.today() + timedelta(days=rng.choice([-5, 10, 30])),
                           created_at=now) for top in departments["top"]]
    assigned += [Assignment(activity_id=course.id, user_id=user_id, due_on=date.today() + timedelta(days=rng.choice([-3, 20])),
                            created_at=now) for user_id in rng.sample(user_ids, min(20, len(user_ids)))]
    db.session.add_all(assigned)
    db.session.flush()
    for user_id in rng.sample(user_ids, min(50, len(user_ids))):
        db.session.add(DueDateExtension(assignment_id=rng.choice(assigned[:len(departments["top"])]).id, user_id=user_id,
                                        due_on=date.today() + timedelta(days=40), created_at=now))
    db.session.flush()


def _departments() -> dict[str, list[int]]:
    tops, leaves = [], []
    for name, children in DEPARTMENTS.items():
        top = Department(name=name)
        db.session.add(top)
        db.session.flush()
        top.set_lineage()
        tops.append(top.id)
        for child_name in children:
            child = Department(name=child_name, parent=top)
            db.session.add(child)
            db.session.flush()
            child.set_lineage()
            leaves.append(child.id)
        if not children:
            leaves.append(top.id)
    db.session.flush()
    return {"top": tops, "leaves": leaves}


def _people(learners: int, departments: dict[str, list[int]], password_hash: str, now: datetime) -> list[int]:
    users = [
        {"email": f"learner{n}@bench.example.com", "name": f"学员{n:05d}", "password_hash": password_hash,
         "department_id": departments["leaves"][n % len(departments["leaves"])], "active": True, "created_at": now}
        for n in range(learners)
    ]
    staff = [
        {"email": f"{role}@bench.example.com", "name": f"基准{role}", "password_hash": password_hash,
         "department_id": departments["top"][3], "active": True, "created_at": now}
        for role in ("hr", "trainer", "admin")
    ]
    for start in range(0, len(users), CHUNK):
        db.session.execute(insert(User), users[start:start + CHUNK])
    db.session.execute(insert(User), staff)
    ids = dict(db.session.query(User.email, User.id).all())
    roles = [{"user_id": ids[u["email"]], "role": Role.TRAINEE.value} for u in users]
    roles += [{"user_id": ids[f"{role}@bench.example.com"], "role": role} for role in ("hr", "trainer", "admin")]
    for start in range(0, len(roles), CHUNK):
        db.session.execute(insert(UserRole), roles[start:start + CHUNK])
    return [ids[u["email"]] for u in users]


def _record(writer: Writer, user_id: int, verb: str, object_id: str, kind: str, revision_id: int, key: str, at: datetime, result=None, attempt_id=None) -> None:
    if writer.light:  # dropped by the writer anyway: spare the statement id
        return
    writer.add(
        LearningRecord, statement_id=str(uuid.uuid4()), idempotency_key=key, user_id=user_id,
        verb=verb, object_id=object_id, object_kind=kind, revision_id=revision_id, attempt_id=attempt_id,
        result=result, timestamp=at,
    )


def _progress(writer: Writer, user_id: int, activity_id: str, kind: str, module_id: str | None, revision_id: int, started: datetime, completed: datetime | None, score: float | None = None, attempts: int = 0) -> None:
    writer.add(
        Progress, user_id=user_id, activity_id=activity_id, kind=kind, module_id=module_id,
        status="completed" if completed else "in_progress", revision_id=revision_id, score=score,
        attempts=attempts, started_at=started, completed_at=completed, updated_at=completed or started,
    )


def _learner(writer: Writer, rng: random.Random, user_id: int, course: Course, revision_id: int, now: datetime) -> None:
    persona = rng.choices([p for p, _ in PERSONAS], [w for _, w in PERSONAS])[0]
    if persona == "none":
        return
    skill = rng.uniform(0.35, 0.98)
    clock = now - timedelta(days=rng.uniform(5, 60))
    activities = course.activities if persona == "finished" else course.activities[: rng.randint(1, len(course.activities) - 1)]
    done: set[str] = set()
    if course.pretest_quiz_id and not writer.light:  # the diagnostic first: learning gains need it
        _quiz(writer, rng, user_id, course, course.pretest_quiz_id, revision_id, clock, skill - 0.3, done, False)
        clock += timedelta(minutes=rng.uniform(5, 60))
    course_started = clock
    modules_started: dict[str, datetime] = {}
    for activity in activities:
        clock += timedelta(minutes=rng.uniform(2, 25))
        if activity.module_id:
            modules_started.setdefault(activity.module_id, clock)
        if activity.kind == "lesson":
            _lesson(writer, rng, user_id, activity.id, activity.module_id, revision_id, clock, done, persona == "finished")
        elif activity.kind == "quiz":
            _quiz(writer, rng, user_id, course, activity.id, revision_id, clock, skill, done, persona == "finished")
        else:
            _scenario(writer, rng, user_id, course.scenario(activity.id), revision_id, clock, skill, done)
        module = course.module(activity.module_id) if activity.module_id else None
        if module and module.id not in done and module.completion.is_met(module, done):
            done.add(module.id)
            _record(writer, user_id, "completed", module.id, "module", revision_id, f"completed:{user_id}:{module.id}", clock)
            _progress(writer, user_id, module.id, "module", None, revision_id, modules_started[module.id], clock)
    for module_id, started in modules_started.items():
        if module_id not in done:
            _progress(writer, user_id, module_id, "module", None, revision_id, started, None)
    finished = course.is_complete(done)
    _progress(writer, user_id, course.id, "course", None, revision_id, course_started, clock if finished else None)
    if finished:
        _record(writer, user_id, "completed", course.id, "course", revision_id, f"completed:{user_id}:{course.id}", clock)
        writer.add(
            Certificate, code=uuid.UUID(int=rng.getrandbits(128)).hex[:12].upper(), user_id=user_id, course_id=course.id,
            course_title=course.title, cycle=1, revision_id=revision_id, issued_at=clock,
            expires_at=clock + timedelta(days=course.valid_for_days or 365),
        )


def _lesson(writer: Writer, rng: random.Random, user_id: int, lesson_id: str, module_id: str | None, revision_id: int, at: datetime, done: set[str], finish: bool) -> None:
    _record(writer, user_id, "experienced", lesson_id, "lesson", revision_id, f"experienced:{user_id}:{lesson_id}", at)
    completed = at + timedelta(minutes=rng.uniform(3, 15)) if finish or rng.random() < 0.9 else None
    if completed:
        _record(writer, user_id, "completed", lesson_id, "lesson", revision_id, f"completed:{user_id}:{lesson_id}", completed)
        done.add(lesson_id)
    _progress(writer, user_id, lesson_id, "lesson", module_id, revision_id, at, completed)


def _light_quiz(writer: Writer, rng: random.Random, user_id: int, course: Course, quiz_id: str, revision_id: int, at: datetime, skill: float, done: set[str], must_pass: bool) -> None:
    """Attempts with a score like a learner of `skill` would get, without grading answers."""
    quiz = course.quiz(quiz_id)
    best, tries = 0.0, 0
    for number in range(1, 4):
        tries = number
        score = 1.0 if must_pass and number == 3 else min(1.0, max(0.0, rng.gauss(skill + 0.1 * number, 0.1)))
        passed = 100 * score >= quiz.pass_mark
        submitted = at + timedelta(minutes=rng.uniform(4, 12))
        writer.add(QuizAttempt, id=str(uuid.UUID(int=rng.getrandbits(128))), user_id=user_id, number=number, revision_id=revision_id,
                   status="submitted", started_at=at, quiz_id=quiz.id, score=score, passed=passed, submitted_at=submitted,
                   question_ids=None)
        best = max(best, score)
        at = submitted + timedelta(minutes=rng.uniform(5, 60))
        if passed:
            done.add(quiz.id)
            break
    _progress(writer, user_id, quiz.id, "quiz", quiz.module_id, revision_id, at, at if quiz.id in done else None, best, tries)


def _light_scenario(writer: Writer, rng: random.Random, user_id: int, scenario: Scenario, revision_id: int, at: datetime, skill: float, done: set[str]) -> None:
    """A finished run with element totals near the model path's, scaled by `skill`, without playing it."""
    model = _model_profile(scenario)
    finished = at + timedelta(minutes=rng.uniform(3, 10))
    writer.add(ScenarioRun, id=str(uuid.UUID(int=rng.getrandbits(128))), user_id=user_id, number=1, revision_id=revision_id,
               status="finished", started_at=at, scenario_id=scenario.id, ending_id=None, finished_at=finished,
               **element_columns({element: round(value * skill) for element, value in model.items()}))
    done.add(scenario.id)
    _progress(writer, user_id, scenario.id, "scenario", scenario.module_id, revision_id, at, finished)


_MODEL_PROFILES: dict[str, dict[str, int]] = {}


def _model_profile(scenario: Scenario) -> dict[str, int]:
    if scenario.id not in _MODEL_PROFILES:
        _MODEL_PROFILES[scenario.id] = dict(model_path(scenario).profile)
    return _MODEL_PROFILES[scenario.id]


def _quiz(writer: Writer, rng: random.Random, user_id: int, course: Course, quiz_id: str, revision_id: int, at: datetime, skill: float, done: set[str], must_pass: bool) -> None:
    if writer.light:
        _light_quiz(writer, rng, user_id, course, quiz_id, revision_id, at, skill, done, must_pass)
        return
    quiz = course.quiz(quiz_id)
    best, tries = 0.0, 0
    module_id = quiz.module_id
    for number in range(1, min(3, quiz.attempts or 3) + 1):
        tries = number
        attempt_id = str(uuid.UUID(int=rng.getrandbits(128)))
        drawn = list(quiz.draw(attempt_id)) if quiz.pools else None
        asked = quiz.drawn(drawn)
        answers = {q.id: q.correct_answer() if rng.random() < skill + 0.1 * number else wrong_answer(q, rng) for q in asked}
        if must_pass and number == 3:
            answers = {q.id: q.correct_answer() for q in asked}
        result = grade(quiz, answers, drawn)
        submitted = at + timedelta(minutes=rng.uniform(4, 12))
        writer.add(QuizAttempt, id=attempt_id, user_id=user_id, number=number, revision_id=revision_id, status="submitted",
                   started_at=at, quiz_id=quiz.id, score=result.scaled, passed=result.passed, submitted_at=submitted,
                   question_ids=drawn)
        for item in result.questions:
            writer.add(QuizAnswer, attempt_id=attempt_id, question_id=item.question.id, answer=answers[item.question.id], fraction=item.fraction, updated_at=submitted)
        _record(writer, user_id, "passed" if result.passed else "failed", quiz.id, "quiz", revision_id, f"result:{attempt_id}", submitted,
                {"success": result.passed, "completion": True, "score": {"scaled": round(result.scaled, 4)}, ANSWERS_IN_ATTEMPT: True},
                attempt_id)
        best = max(best, result.scaled)
        at = submitted + timedelta(minutes=rng.uniform(5, 60))
        if result.passed:
            done.add(quiz.id)
            _record(writer, user_id, "completed", quiz.id, "quiz", revision_id, f"completed:{user_id}:{quiz.id}", submitted)
            break
    _progress(writer, user_id, quiz.id, "quiz", module_id, revision_id, at, at if quiz.id in done else None, best, tries)


def _scenario(writer: Writer, rng: random.Random, user_id: int, scenario: Scenario, revision_id: int, at: datetime, skill: float, done: set[str]) -> None:
    if writer.light:
        _light_scenario(writer, rng, user_id, scenario, revision_id, at, skill, done)
        return
    run_id = str(uuid.UUID(int=rng.getrandbits(128)))
    node, choices = play(scenario, []).node, []
    while node.ending is None and len(choices) < 40:  # play() passes route nodes through
        best = next(c for c in node.choices if c.best)
        choice = best if rng.random() < skill else rng.choice(node.choices)
        choices.append(choice.id)
        node = play(scenario, choices).node
    state = play(scenario, choices)
    finished = at + timedelta(minutes=rng.uniform(3, 10))
    writer.add(ScenarioRun, id=run_id, user_id=user_id, number=1, revision_id=revision_id, status="finished", started_at=at,
               scenario_id=scenario.id, ending_id=state.node.id, finished_at=finished, **element_columns(state.profile))
    for step, taken in enumerate(state.steps):
        writer.add(ScenarioStep, run_id=run_id, step=step, node_id=taken.node.id, choice_id=taken.choice.id, created_at=at)
        _record(writer, user_id, "responded", f"{scenario.id}/{taken.node.id}", "interaction", revision_id, f"responded:{run_id}:{step}", at,
                {"response": taken.choice.id}, run_id)
    _record(writer, user_id, "completed", scenario.id, "scenario", revision_id, f"finished:{run_id}", finished,
            {"completion": True, "response": state.node.id}, run_id)
    done.add(scenario.id)
    _progress(writer, user_id, scenario.id, "scenario", scenario.module_id, revision_id, at, finished)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--detail", type=int, help="write records, answers and steps for this many learners only (default: all)")
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(args.database_url, args.learners, args.seed, detail=args.detail)
    print(f"generated in {time.perf_counter() - started:.1f} s ({time.process_time():.0f} s of CPU in Python): "
          + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
