"""The diagnostic pre-test and the learning gain it shows: per objective (the pools the pre-test shares
with the final assessment), for a learner and for each department."""
from __future__ import annotations

import csv
import io

import pytest
from courseware.content import CourseInvalid, compile_sources
from courseware.hr import gains
from courseware.models import Role
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
