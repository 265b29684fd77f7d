"""The diagnostic pre-test and the learning gain it shows: per objective (the pools the pre-test shares
with the final assessment), for a learner and for each department."""
from __future__ import annotations

import csv
import io

import pytest
from flask_migrate import downgrade, stamp, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from test_hr_summaries import assert_tallies_equal_scratch

from courseware import learner_gains, summaries
from courseware.content import CourseInvalid, compile_sources
from courseware.extensions import db
from courseware.hr import gains
from courseware.learning import records
from courseware.models import Role, User
from courseware.people.departments import find_or_create
from courseware.publishing import live_course, publish


def quiz(quiz_id: str, title: str, extra: str = "") -> bytes:
    """A quiz with two pools of two true/false variants each (every answer true); an attempt draws one of each."""
    pools = ""
    for pool_id, objective in (("identify", "识别内部客户"), ("goal", "共同目标")):
        pools += f"\n  - id: {pool_id}\n    objective: {objective}\n    draw: 1\n    questions:"
        for n in (1, 2):
            pools += f"\n      - id: {quiz_id}-{pool_id}-{n}\n        type: true_false\n        text: {objective}：判断题 {n}\n        answer: true\n        explanation: 依据课程原文。"
    return f"id: {quiz_id}\nkind: quiz\ntitle: {title}\n{extra}pools:{pools}\n".encode()


@pytest.fixture
def sources(course_sources) -> dict[str, bytes]:
    """The test course with a final assessment in two pools and a one-attempt pre-test on both."""
    files = dict(course_sources)
    course_md = files["lessons/course.md"].decode()
    files["lessons/course.md"] = course_md.replace("final_quiz: final-assessment\n", "final_quiz: final-assessment\npretest: pretest\n").encode()
    files["quizzes/final-assessment.yaml"] = quiz("final-assessment", "结业测评", "pass_mark: 50\nattempts: 2\n")
    files["quizzes/pretest.yaml"] = quiz("pretest", "课前诊断", "attempts: 1\nreview: score\n")
    return files


def take(client, quiz, right: bool) -> None:
    """Start an attempt and answer every question it drew right or wrong."""
    attempt_url = client.post(f"/quizzes/{quiz.id}/start").location
    form = {q.field(): ["true" if q.correct_answer() == right else "false"] for q in quiz.questions}
    assert client.post(f"{attempt_url}/submit", data={**form, "submit_anyway": "1"}).status_code == 302


def test_a_pretest_must_measure_the_final_assessment_s_objectives(sources):
    assert compile_sources(sources).pretest.pools[0].label == "识别内部客户"
    broken = dict(sources)
    broken["quizzes/pretest.yaml"] = broken["quizzes/pretest.yaml"].replace(b"id: goal\n", b"id: teamwork\n")
    with pytest.raises(CourseInvalid, match="has no pool 'teamwork'"):
        compile_sources(broken)


def test_hr_sees_each_department_s_gain_per_objective(app, client, sources, make_user, login):
    with app.app_context():
        publish(sources)
        course = live_course().course
    sales = [make_user(department="销售部") for _ in range(2)]
    plant = make_user(department="生产部")
    for user_id, email in sales:
        login(email)
        assert "课前诊断" in client.get("/").get_data(as_text=True)  # offered until taken
        take(client, course.pretest, right=False)
        assert "课前诊断" not in client.get("/").get_data(as_text=True)
        take(client, course.final_quiz, right=False)
        take(client, course.final_quiz, right=True)  # the best attempt counts
        client.post("/logout")
    login(plant[1])
    take(client, course.final_quiz, right=True)  # no pre-test: no gain to show
    client.post("/logout")

    with app.test_request_context():
        mine = gains.of_learners(course, [sales[0][0], plant[0]])
        assert list(mine) == [sales[0][0]]
        assert [(g.objective.id, g.before, g.after, g.points) for g in mine[sales[0][0]]] == [
            ("identify", 0.0, 1.0, 100), ("goal", 0.0, 1.0, 100)
        ]

    _, hr = make_user(Role.HR, department="人力资源部")
    login(hr)
    page = client.get("/hr/").get_data(as_text=True)
    table = page.split("各部门的学习提升")[1]
    assert "识别内部客户" in table and "共同目标" in table
    assert table.count("0% → 100% <strong>+100</strong>") == 2 and "2 名学员" in table
    assert "生产部" not in table.split("</table>")[0]
    transcript = client.get(f"/hr/learners/{sales[0][0]}").get_data(as_text=True).split("学习提升")[1]
    assert "识别内部客户" in transcript and "+100" in transcript
    rows = list(csv.DictReader(io.StringIO(client.get("/hr/learners.csv").get_data().decode("utf-8-sig"))))
    gained = {row["邮箱"]: (row["提升：识别内部客户（百分点）"], row["提升：共同目标（百分点）"]) for row in rows}
    assert gained[sales[0][1]] == ("100", "100") and gained[plant[1]] == ("", "")

    with app.app_context():  # one of them leaves the company: the department's gains are its active learners'
        db.session.get(User, sales[1][0]).active = False
        db.session.commit()
    table = client.get("/hr/").get_data(as_text=True).split("各部门的学习提升")[1]
    assert "1 名学员" in table and "+100" in table


def pretest_on(objectives: tuple[str, ...]) -> bytes:
    """The pre-test measuring only some of the final's objectives (pools), with no limit on attempts."""
    text = quiz("pretest", "课前诊断").decode()
    head, *pools = text.split("\n  - id: ")
    return "\n  - id: ".join([head, *(p for p in pools if p.split("\n")[0] in objectives)]).encode()


@pytest.fixture
def publish_pretest(app, course_sources):
    """Publish the test course with a pre-test on some objectives; neither quiz limits attempts."""
    files = dict(course_sources)
    course_md = files["lessons/course.md"].decode()
    files["lessons/course.md"] = course_md.replace("final_quiz: final-assessment\n", "final_quiz: final-assessment\npretest: pretest\n").encode()
    files["quizzes/final-assessment.yaml"] = quiz("final-assessment", "结业测评", "pass_mark: 50\n")

    def publish_on(objectives: tuple[str, ...]) -> None:
        publish({**files, "quizzes/pretest.yaml": pretest_on(objectives)})

    return publish_on


DEPARTMENTS = ["销售部", "生产部"]
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["pretest", "final"]), st.integers(0, 2), st.tuples(st.booleans(), st.booleans())),
        st.tuples(st.just("move"), st.integers(0, 2), st.integers(0, 1)),
        st.tuples(st.just("active"), st.integers(0, 2), st.booleans()),
        st.tuples(st.just("publish"), st.just(0), st.sampled_from([("identify", "goal"), ("goal",)])),
    ),
    max_size=12,
)


def assert_gains_equal_scratch() -> None:
    """The kept scores equal the definition over the attempts, and each department's gains their active learners' average."""
    course = live_course().course
    kept, scratch = learner_gains.current(), learner_gains.from_scratch(course)
    assert kept.keys() == scratch.keys()
    for key, scores in scratch.items():
        assert kept[key] == pytest.approx(scores), key
    assert_tallies_equal_scratch()
    departments = dict(db.session.execute(select(User.id, User.department_id).where(User.active.is_(True))).all())
    by_department: dict[int, dict[str, list[tuple[float, float]]]] = {}
    for (user_id, objective), scores in scratch.items():
        if user_id in departments:  # a department's gains are its active learners'
            by_department.setdefault(departments[user_id], {}).setdefault(objective, []).append(scores)
    expected = {
        department: [(objective, len(rows), pytest.approx(sum(r[0] for r in rows) / len(rows)),
                      pytest.approx(sum(r[1] for r in rows) / len(rows)))
                     for objective, rows in sorted(found.items(), key=lambda item: item[0] != "identify")]
        for department, found in by_department.items()
    }
    assert {
        department: [(g.objective.id, g.people, g.before, g.after) for g in found]
        for department, found in gains.by_department(course, None).items()
    } == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=steps)
def test_kept_gains_equal_the_attempts_whatever_learners_trainers_and_hr_do(app, publish_pretest, make_user, actions):
    """Pre-tests and finals right or wrong objective by objective, in any order, learners moved and deactivated,
    and the pre-test republished measuring fewer objectives: the kept gains always equal the attempts'."""
    with app.app_context():
        publish_pretest(("identify", "goal"))
    ids = [make_user(department=DEPARTMENTS[n % 2])[0] for n in range(3)]
    with app.test_request_context():
        departments = [find_or_create(path).id for path in DEPARTMENTS]
        for what, who, value in actions:
            user = db.session.get(User, ids[who])
            live = live_course()
            if what in ("pretest", "final"):
                quiz_ = live.course.pretest if what == "pretest" else live.course.final_quiz
                attempt = records.start_attempt(user, live, quiz_)
                right = dict(zip(("identify", "goal"), value))
                answers = {q.id: right[q.id.split("-")[-2]] for q in quiz_.questions}
                records.submit_attempt(user, live, attempt, quiz_, answers)
            elif what == "move":
                user.department_id = departments[value]
                db.session.commit()
            elif what == "active":
                user.active = value
                db.session.commit()
            else:
                publish_pretest(value)
            assert_gains_equal_scratch()


def test_a_final_submitted_on_a_worker_that_has_not_seen_a_publish_yet_counts_by_the_new_objectives(
    app, publish_pretest, make_user
):
    """A worker looks for a new revision every CONTENT_CHECK_SECONDS: a submit in between still runs on the
    course it knows, yet the learner's gains follow the pre-test now live."""
    with app.app_context():
        publish_pretest(("identify", "goal"))
    learner_id, _ = make_user(department="销售部")

    def submit(live, which: str, right: bool) -> None:
        user = db.session.get(User, learner_id)
        quiz_ = live.course.pretest if which == "pretest" else live.course.final_quiz
        attempt = records.start_attempt(user, live, quiz_)
        records.submit_attempt(user, live, attempt, quiz_, {q.id: right for q in quiz_.questions})

    with app.test_request_context():
        stale = live_course()
        submit(stale, "pretest", False)
        with app.app_context():  # a trainer publishes from another worker: the pre-test now measures one objective
            publish_pretest(("goal",))
        submit(stale, "final", True)
    with app.test_request_context():
        assert set(learner_gains.current()) == {(learner_id, "goal")}
        assert_gains_equal_scratch()


def test_upgrading_fills_the_gains_of_learners_who_took_both_quizzes(app, client, sources, make_user, login):
    """The migration that brings kept gains computes them, and their department sums, from the attempts."""
    with app.app_context():
        publish(sources)
        course = live_course().course
    for department in DEPARTMENTS:
        login(make_user(department=department)[1])
        take(client, course.pretest, right=False)
        take(client, course.final_quiz, right=True)
        client.post("/logout")
    with app.test_request_context():
        expected_gains, expected_tallies = learner_gains.current(), summaries.current()
        assert len(expected_gains) == 4 and any(key[2].startswith(summaries.GAIN) for key in expected_tallies)
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        stamp(revision="0018")
        downgrade(revision="0017")
        upgrade(revision="0018")
        assert learner_gains.current() == expected_gains
        assert summaries.current() == expected_tallies
