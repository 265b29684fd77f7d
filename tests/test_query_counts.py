"""Pages ask the database the same number of questions however many learners, assignments and lessons there are."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event, select

from courseware.content import compile_sources
from courseware.extensions import db
from courseware.learning import records
from courseware.models import Assignment, DueDateExtension, HRScope, Role, User
from courseware.people.departments import find_or_create
from courseware.publishing import live_course, publish

TRAINEE_PAGES = ["/", "/progress", "/modules/what-is-internal-customer", "/lessons/ic-definition", "/quizzes/quiz-core-elements"]
HR_PAGES = ["/hr/", "/hr/learners", "/hr/learners?department=1", "/hr/internal-customers", "/hr/assignments"]
TRAINER_PAGES = ["/studio/analytics", "/studio/analytics/quizzes/quiz-core-elements", "/studio/analytics/scenarios/scenario-defect-handoff"]


@contextmanager
def counting(app):
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_per_page(app, client, pages: list[str]) -> dict[str, int]:
    counts = {}
    for page in pages:
        client.get(page)  # the first view of a lesson records it; count the views after that
        with counting(app) as statements:
            response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        counts[page] = len(statements)
    return counts


def add_learners(app, n: int, start: int) -> None:
    """Learners with some progress: lessons read, a quiz passed, a role-play played."""
    from conftest import PASSWORD

    from courseware.cli import create_user

    with app.test_request_context():
        live = live_course()
        course = live.course
        quiz = course.quiz("quiz-core-elements")
        for k in range(start, start + n):
            user = create_user(f"many{k}@example.com", f"学员{k}", {Role.TRAINEE}, ["销售部", "生产部/冲压车间"][k % 2], PASSWORD)
            for lesson in course.lessons[: 2 + k % 5]:
                records.complete_lesson(user, live, lesson)
            attempt = records.start_attempt(user, live, quiz)
            records.submit_attempt(user, live, attempt, quiz, {q.id: q.correct_answer() for q in quiz.questions})


def add_personal_assignments(app, n: int) -> None:
    """Personal assignments, as recertification opens one per renewal, spread over the added learners."""
    with app.app_context():
        course_id = live_course().course.id
        learners = db.session.scalars(select(User.id).where(User.email.like("many%")).order_by(User.id)).all()
        for k in range(n):
            db.session.add(Assignment(activity_id=course_id, user_id=learners[k % len(learners)],
                                      due_on=date.today() + timedelta(days=k - 5)))
        db.session.commit()


def add_extensions(app) -> None:
    """A department assignment on 销售部, with a later date for every learner there who has none yet."""
    with app.app_context():
        sales = find_or_create("销售部")
        assignment = db.session.scalar(select(Assignment).where(Assignment.department_id == sales.id))
        if assignment is None:
            assignment = Assignment(activity_id=live_course().course.id, department_id=sales.id, due_on=date.today())
            db.session.add(assignment)
            db.session.flush()
        extended = select(DueDateExtension.user_id).where(DueDateExtension.assignment_id == assignment.id)
        for user_id in db.session.scalars(select(User.id).where(User.department_id == sales.id, User.id.not_in(extended))):
            db.session.add(DueDateExtension(assignment_id=assignment.id, user_id=user_id, due_on=date.today() + timedelta(days=7)))
        db.session.commit()


def scope_to(app, user_id: int, path: str) -> None:
    with app.app_context():
        db.session.add(HRScope(user_id=user_id, department_id=find_or_create(path).id))
        db.session.commit()


def test_page_queries_do_not_grow_with_learners(app, client, published, make_user, login):
    _trainee, trainee_email = make_user(Role.TRAINEE)
    _hr, hr_email = make_user(Role.HR)
    scoped_hr, scoped_hr_email = make_user(Role.HR)
    scope_to(app, scoped_hr, "销售部")
    _trainer, trainer_email = make_user(Role.TRAINER)
    add_learners(app, 2, 0)
    add_personal_assignments(app, 2)
    add_extensions(app)

    def measure():
        counts = {}
        for email, pages in (
            (trainee_email, TRAINEE_PAGES), (hr_email, HR_PAGES), (scoped_hr_email, HR_PAGES), (trainer_email, TRAINER_PAGES),
        ):
            login(email)
            counts |= {(email, page): n for page, n in queries_per_page(app, client, pages).items()}
            client.post("/logout")
        return counts

    few = measure()
    add_learners(app, 25, 2)
    add_personal_assignments(app, 20)
    add_extensions(app)
    many = measure()
    assert many == few
    assert max(few.values()) <= 25, few


def test_trainee_page_queries_do_not_grow_with_lessons(app, client, course_sources, make_user, login):
    _trainee, email = make_user(Role.TRAINEE)
    with app.app_context():
        publish(course_sources)
    login(email)
    before = queries_per_page(app, client, TRAINEE_PAGES)

    bigger = dict(course_sources)
    for path, text in course_sources.items():
        if path.startswith("lessons/03-core-elements/") and not path.endswith("module.md"):
            copy = re.sub(rb"^id: (.+)$", rb"id: \1-extra", text, count=1, flags=re.M)
            copy = re.sub(rb"^order: (\d+)$", lambda m: b"order: " + str(int(m[1]) + 10).encode(), copy, count=1, flags=re.M)
            bigger[path.replace(".md", "-extra.md")] = copy
    assert len(compile_sources(bigger).lessons) > len(compile_sources(course_sources).lessons)
    with app.app_context():
        publish(bigger)
        assert db.session.get(User, _trainee) is not None
    assert queries_per_page(app, client, TRAINEE_PAGES) == before


def test_quiz_submit_queries_do_not_grow_with_attempts(app, published, make_user):
    """A learner's third try at a quiz is submitted in as many statements as their first, each try with more answers
    saved (so the progress and HR's tallies move each time)."""
    user_id, _email = make_user(Role.TRAINEE)
    with app.test_request_context():
        live = live_course()
        quiz = live.course.quiz("quiz-why-it-matters")  # seven questions: three tries, none passed
        counts = []
        for tried in range(1, quiz.attempts + 1):
            user = db.session.get(User, user_id)
            attempt = records.start_attempt(user, live, quiz)
            records.save_answers(attempt, {q.id: q.correct_answer() for q in quiz.drawn(attempt.question_ids)[:tried]})
            with counting(app) as statements:
                records.submit_attempt(user, live, attempt, quiz, {})
            counts.append(len(statements))
        scores = [a.score for a in records.attempts_of(user, quiz.id)]
    assert len(scores) == quiz.attempts and scores == sorted(set(scores)), scores  # each try kept a better score
    assert len(set(counts)) == 1, counts
