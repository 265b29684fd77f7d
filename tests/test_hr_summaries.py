"""The progress tallies HR's pages read always equal the aggregate computed from scratch, whatever learners,
HR and admins do in whatever order; and the pages show the figures they showed before the tallies."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import correct_form
from flask_migrate import stamp, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, func, select, text

from courseware import summaries
from courseware.extensions import db
from courseware.hr import dashboard, reports, staff_import
from courseware.hr.assignments import AssignmentStatus
from courseware.models import (
    ELEMENT_COLUMNS,
    Assignment,
    Certificate,
    Department,
    DueDateExtension,
    Progress,
    ProgressTally,
    Role,
    ScenarioRun,
    Status,
    User,
)
from courseware.learning import records, roleplay
from courseware.people.departments import find_or_create, tree
from courseware.people.scope import in_departments
from courseware.publishing import live_course

DEPARTMENTS = ["销售部", "销售部/华东区", "生产部"]
LEARNERS = 4


def assert_tallies_equal_scratch() -> None:
    stored, scratch = summaries.current(), summaries.from_scratch()
    assert stored.keys() == {key for key, (learners, *_rest) in scratch.items() if learners}
    for key, (learners, scored, score_sum) in scratch.items():
        assert stored[key][:2] == (learners, scored), key
        assert stored[key][2] == pytest.approx(score_sum, abs=1e-9), key


def _learn(user: User, step: int, correct: bool) -> None:
    """One learner action: open or complete a lesson, submit the first quiz, play a role-play through, or
    open a new round of the course."""
    live = live_course()
    course = live.course
    lessons = course.lessons
    step %= 2 * len(lessons) + 3
    if step < len(lessons):
        records.open_lesson(user, live, lessons[step])
    elif step < 2 * len(lessons):
        records.complete_lesson(user, live, lessons[step - len(lessons)])
    elif step == 2 * len(lessons) + 1:
        scenario = course.scenarios[0]
        run = records.start_run(user, live, scenario, fresh=True)
        for number, choice in enumerate(roleplay.model_path(scenario).steps):
            records.choose(user, live, run, scenario, number, choice.choice.id)
    elif step == 2 * len(lessons):
        quiz = course.quizzes[0]
        attempt = records.current_attempt(user, quiz.id) or records.start_attempt(user, live, quiz)
        answers = {k: v[0] for k, v in correct_form(quiz).items()} if correct else {}
        records.submit_attempt(user, live, attempt, quiz, answers)
    else:
        certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == user.id))
        if certificate is not None:
            records.start_new_round(certificate, live)
            db.session.commit()


actions = st.lists(
    st.one_of(
        st.tuples(st.just("learn"), st.integers(0, LEARNERS - 1), st.integers(0, 99), st.booleans()),
        st.tuples(st.just("move"), st.integers(0, LEARNERS - 1), st.integers(0, len(DEPARTMENTS) - 1), st.booleans()),
        st.tuples(st.just("active"), st.integers(0, LEARNERS - 1), st.integers(0, 1), st.booleans()),
        st.tuples(st.just("import"), st.integers(0, LEARNERS - 1), st.integers(0, len(DEPARTMENTS) - 1), st.booleans()),
    ),
    max_size=25,
)


@pytest.fixture
def learners(app, make_user, published):
    """Learners in three departments, with the course assigned: overdue to 销售部 (one learner given more
    time), due later to 生产部, to one learner by name; and a lesson overdue to 销售部 › 华东区."""
    with app.app_context():
        for path in DEPARTMENTS:
            find_or_create(path)
        db.session.commit()
    ids = [make_user(Role.TRAINEE, department=DEPARTMENTS[n % len(DEPARTMENTS)])[0] for n in range(LEARNERS)]
    with app.test_request_context():
        course = live_course().course
        today = date.today()
        late = Assignment(activity_id=course.id, department_id=find_or_create("销售部").id, due_on=today - timedelta(days=2))
        db.session.add_all([
            late,
            Assignment(activity_id=course.id, department_id=find_or_create("生产部").id, due_on=today + timedelta(days=5)),
            Assignment(activity_id=course.id, user_id=ids[2], due_on=today - timedelta(days=1)),
        ])
        db.session.flush()
        db.session.add(DueDateExtension(assignment_id=late.id, user_id=ids[0], due_on=today + timedelta(days=3)))
        db.session.commit()
    return ids


def test_several_activities_overdue_are_counted_learner_by_learner(app, learners):
    with app.test_request_context():
        live = live_course()
        lesson = live.course.lessons[0]
        db.session.add(Assignment(activity_id=lesson.id, department_id=find_or_create("销售部/华东区").id,
                                  due_on=date.today() - timedelta(days=1)))
        db.session.commit()
        records.open_lesson(db.session.get(User, learners[1]), live, lesson)
        assert_dashboard_figures_equal_scratch(date.today(), live.course.id)


def assert_dashboard_figures_equal_scratch(on, course_id: str) -> None:
    """The dashboard's figures from the tallies equal the per-learner aggregates it computed before them."""
    nodes = tree()
    for scope in (None, {find_or_create("销售部").id, find_or_create("销售部/华东区").id}):
        pairs = in_departments(reports.assigned_learners(on), scope).subquery()
        by_state: dict = {}
        for assignment_id, state, n in db.session.execute(
            select(pairs.c.assignment_id, pairs.c.status, func.count()).group_by(pairs.c.assignment_id, pairs.c.status)
        ):
            by_state.setdefault(assignment_id, {})[state] = n
        assert reports.assignment_counts(on, scope) == {
            a: reports.AssignmentCounts(assigned=sum(states.values()), **states) for a, states in by_state.items()
        }
        overdue = db.session.scalar(
            select(func.count(func.distinct(pairs.c.user_id))).where(pairs.c.status == AssignmentStatus.OVERDUE.value)
        )
        assert reports.overdue_learners(on, scope) == overdue
        course = and_(Progress.user_id == User.id, Progress.activity_id == course_id)
        statuses = dict(db.session.execute(in_departments(
            select(Progress.status, func.count(User.id)).select_from(User).outerjoin(Progress, course)
            .where(User.active.is_(True)).group_by(Progress.status), scope)).all())
        statuses[Status.NOT_STARTED.value] = statuses.pop(None, 0)
        assert dashboard.course_status_counts(course_id, scope) == {s.value: statuses.get(s.value, 0) for s in Status}
        total = reports.completion_total(course_id, scope)
        assert (total.learners, total.completed) == (sum(statuses.values()), statuses.get(Status.COMPLETED.value, 0))
        own = dict(db.session.execute(in_departments(
            select(User.department_id, func.count(Progress.id)).outerjoin(
                Progress, and_(course, Progress.status == Status.COMPLETED.value))
            .where(User.active.is_(True)).group_by(User.department_id), scope)).all())
        leaves = {rate.node.id: rate.completed for rate in reports.completion_by_department(course_id, nodes, scope)
                  if not any(n.parent_id == rate.node.id for n in nodes)}
        assert leaves == {d: n for d, n in own.items() if d in leaves}
        scores = {quiz: (float(avg), n) for quiz, avg, n in db.session.execute(in_departments(
            select(Progress.activity_id, func.avg(Progress.score), func.count()).join(User, User.id == Progress.user_id)
            .where(Progress.kind == "quiz", Progress.score.is_not(None)).group_by(Progress.activity_id), scope))}
        found = reports.average_quiz_scores(scope)
        assert found.keys() == scores.keys()
        for quiz, (average, n) in scores.items():
            assert found[quiz] == (pytest.approx(average), n)
        assert_role_plays_equal_scratch(scope)


def assert_role_plays_equal_scratch(scope) -> None:
    finished = ScenarioRun.status == "finished"
    averages = [func.avg(getattr(ScenarioRun, c)) for c in ELEMENT_COLUMNS.values()]
    profiles = db.session.execute(in_departments(
        select(Department.name, func.count(ScenarioRun.id), *averages).join(User, User.id == ScenarioRun.user_id)
        .join(Department, Department.id == User.department_id).where(finished).group_by(Department.id, Department.name)
        .order_by(Department.name), scope)).all()
    assert [(p.label, p.runs, list(p.averages.values())) for p in reports.element_profiles(scope)] == [
        (name, runs, [pytest.approx(float(a)) for a in rest]) for name, runs, *rest in profiles
    ]
    total = sum(getattr(ScenarioRun, c) for c in ELEMENT_COLUMNS.values())
    results = db.session.execute(in_departments(
        select(ScenarioRun.scenario_id, func.count(), func.avg(total)).join(User, User.id == ScenarioRun.user_id)
        .where(finished).group_by(ScenarioRun.scenario_id), scope)).all()
    assert reports.scenario_results(scope) == {s: (n, pytest.approx(float(a))) for s, n, a in results}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_tallies_equal_the_aggregate_from_scratch_after_any_writes(app, learners, steps):
    with app.test_request_context():
        departments = [find_or_create(path).id for path in DEPARTMENTS]
        for what, who, value, flag in steps:
            user = db.session.get(User, learners[who])
            if what == "learn":
                _learn(user, value, flag)
            elif what == "move":
                user.department_id = departments[value]
                db.session.commit()
            elif what == "active":
                user.active = bool(value)
                db.session.commit() if flag else db.session.rollback()
            else:
                table = staff_import.read_table("staff.csv", _staff_file(user, DEPARTMENTS[value]))
                staff_import.apply(staff_import.plan(*staff_import.check_rows(table), staff_import.Importer(is_admin=True)))
                db.session.commit()
            assert_tallies_equal_scratch()
        assert_dashboard_figures_equal_scratch(date.today(), live_course().course.id)


def _staff_file(user: User, path: str) -> bytes:
    return f"email,name,department\n{user.email},{user.name},{path}\nnew{user.id}-{path}@example.com,新人,{path}\n".encode()


def test_rebuild_recomputes_what_was_lost(app, learners):
    with app.test_request_context():
        user = db.session.get(User, learners[0])
        live = live_course()
        records.open_lesson(user, live, live.course.lessons[0])
        db.session.query(ProgressTally).delete()
        db.session.commit()
        assert summaries.current() == {}
        summaries.rebuild()
        db.session.commit()
        assert_tallies_equal_scratch()
        assert any(key[2] == live.course.id for key in summaries.current())


def test_progress_added_as_an_object_is_counted(app, learners):
    with app.test_request_context():
        live = live_course()
        db.session.add(Progress(user_id=learners[1], activity_id=live.course.id, kind="course", status="completed",
                                revision_id=live.revision_id))
        db.session.commit()
        assert_tallies_equal_scratch()


def test_the_migration_counts_what_learners_did_before_it(app, learners):
    """Upgrading a database that has learners' progress and runs fills the tallies from them."""
    with app.test_request_context():
        live = live_course()
        for user_id in learners[:3]:
            _learn(db.session.get(User, user_id), 2 * len(live.course.lessons) + 1, True)  # a role-play played through
            records.complete_lesson(db.session.get(User, user_id), live, live.course.lessons[0])
        db.session.get(User, learners[1]).active = False
        db.session.commit()
        expected = summaries.current()
        db.session.remove()  # its transaction would hold the tables the migration drops and creates
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        stamp(revision="0016")
        with db.engine.begin() as connection:
            for index in ("ix_progress_kind_completed_at", "ix_certificate_expires_at", "ix_user_department_name"):
                connection.execute(text(f"DROP INDEX {index}"))
            connection.execute(text("DROP TABLE progress_tally"))
        upgrade(revision="0017")
        assert summaries.current() == expected
        assert any(key[3].startswith(summaries.RUN) for key in expected)


def test_every_transaction_locks_the_learner_anew(app, make_user):
    """The lock a progress write takes is remembered for its transaction only: after a commit, a rollback or a
    session closed without either, the learner's next write locks them again, so a racing write of theirs waits."""
    from sqlalchemy.exc import OperationalError

    user_id, _email = make_user(Role.TRAINEE)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite locks the whole database for one writer at a time, not a learner's row")
        for end in (db.session.commit, db.session.rollback, db.session.close):
            summaries.lock_learner(user_id)
            end()
            summaries.lock_learner(user_id)
            with db.engine.connect() as other, pytest.raises(OperationalError, match="could not obtain lock"):
                other.execute(text('SELECT id FROM "user" WHERE id = :id FOR UPDATE NOWAIT'), {"id": user_id})
            db.session.rollback()
