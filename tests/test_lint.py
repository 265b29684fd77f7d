"""The author's lint: each cue that gives an answer away, on the command line and in the studio."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from courseware.content import compile_sources
from courseware.content.lint import lint
from courseware.models import Role
from courseware.publishing import publish

LESSON = textwrap.dedent("""\
    ---
    id: a-lesson
    title: 一
    order: 1
    minutes: 6
    ---
    ## 讲解

    内部客户是工作中依赖你的同事。

    ## 职场示例

    生产部的小陈每天早上把焊接好的底座交给喷涂班组。
""")

QUIZ = textwrap.dedent("""\
    id: cue-quiz
    kind: quiz
    title: 小测
    questions:
      - id: q-one
        type: single
        text: 内部客户是谁？
        options:
          - {text: 依赖你的工作成果的同事和部门, correct: true}
          - {text: 顾客}
          - {text: 老板}
        explanation: 依赖你的人。
      - id: q-two
        type: single
        text: 服务的基础是什么？
        options:
          - {text: 清晰而及时的沟通, correct: true}
          - {text: 预算}
          - {text: 所有部门都一样}
        explanation: 沟通。
      - id: q-three
        type: single
        text: 反馈的作用？
        options:
          - {text: 发现问题并改进服务, correct: true}
          - {text: 考核}
          - {text: 以上都对}
        explanation: 改进。
      - {id: tf-1, type: true_false, text: 一, answer: true, explanation: 是}
      - {id: tf-2, type: true_false, text: 二, answer: true, explanation: 是}
      - {id: tf-3, type: true_false, text: 三, answer: true, explanation: 是}
      - {id: tf-4, type: true_false, text: 四, answer: true, explanation: 是}
""")

FINAL = textwrap.dedent("""\
    id: final
    kind: quiz
    title: 结业
    questions:
      - id: f-one
        type: true_false
        text: 小陈把底座交给喷涂班组，喷涂班组是他的工序客户。
        answer: true
        explanation: 是。
      - id: f-two
        type: true_false
        text: 每天早上把焊接好的底座交给下一道工序属于工序客户关系。
        answer: true
        explanation: 是。
      - id: f-fresh
        type: true_false
        text: 仓库按时给装配线备料，装配线是仓库的内部客户。
        answer: true
        explanation: 是。
""")

SCENARIO = textwrap.dedent("""\
    id: cue-scenario
    kind: scenario
    title: 场景
    characters:
      - {id: wang, name: 王经理, role: 经理}
    start: a
    nodes:
      - id: a
        text: 开始
        choices:
          - {id: long, text: 我理解你的难处，我们一起看看怎么安排, feedback: 好, effects: {沟通: 1}, next: b, best: true}
          - {id: short, text: 不行, feedback: 差, effects: {沟通: -1}, next: b}
      - id: b
        text: 然后
        choices:
          - {id: long, text: 我们定一个时间再对一次进度, feedback: 好, effects: {协作: 1}, next: end, best: true}
          - {id: short, text: 随便, feedback: 差, next: end}
      - id: c-unused-check
        text: 再然后
        choices:
          - {id: long, text: 我会把结果写下来发给大家, feedback: 好, next: end, best: true}
          - {id: short, text: 算了, feedback: 差, next: end}
      - id: end
        ending: {title: 结束, outcome: good, debrief: 好。}
""").replace("next: end}\n  - id: c-unused-check", "next: c-unused-check}\n  - id: c-unused-check")

COURSE = {
    "lessons/course.md": "---\nid: c\ntitle: 课\nfinal_quiz: final\n---\n",
    "lessons/m/module.md": "---\nid: m\ntitle: 模块\norder: 1\nquiz: cue-quiz\nscenarios: [cue-scenario]\n---\n",
    "lessons/m/a.md": LESSON,
    "quizzes/cue-quiz.yaml": QUIZ,
    "quizzes/final.yaml": FINAL,
    "quizzes/cue-scenario.yaml": SCENARIO,
}


def line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


@pytest.fixture(scope="module")
def warnings():
    return lint(compile_sources(COURSE), COURSE)


@pytest.mark.parametrize(
    ("path", "needle", "code", "words"),
    [
        ("quizzes/cue-quiz.yaml", "id: q-one", "longest-correct", "3 of 3 choice questions (100%)"),
        ("quizzes/cue-quiz.yaml", "id: tf-1", "true-false-balance", "4 of 4 true/false answers are 'true' (100%)"),
        ("quizzes/cue-quiz.yaml", "id: q-two", "absolute-word", "'所有' appears only in wrong options"),
        ("quizzes/cue-quiz.yaml", "id: q-three", "all-none-above", "'以上都对' is an option"),
        ("quizzes/final.yaml", "id: f-one", "final-repeats-example", "repeats '小陈' from lesson 'a-lesson'"),
        ("quizzes/final.yaml", "id: f-two", "final-repeats-example", "repeats '每天早上把焊接好的底座交给' from lesson 'a-lesson'"),
        ("quizzes/cue-scenario.yaml", "id: a", "longest-best", "3 of 3 decision points (100%)"),
        ("lessons/m/a.md", "minutes: 6", "reading-time", "says it takes 6 minutes, but its text reads in about 1 minutes"),
    ],
)
def test_the_lint_flags_each_cue_at_its_line(warnings, path, needle, code, words):
    line = line_of(COURSE[path], needle)
    found = [w for w in warnings if (w.path, w.line, w.code) == (path, line, code)]
    assert found, [str(w) for w in warnings]
    assert words in found[0].message
    assert str(found[0]).startswith(f"{path}:{line}: ") and str(found[0]).endswith(f"[{code}]")


def test_a_fresh_final_question_and_a_balanced_quiz_are_not_flagged(warnings):
    assert not [w for w in warnings if dict(w.params).get("id") == "f-fresh"]
    balanced = {**COURSE, "quizzes/cue-quiz.yaml": QUIZ.replace("text: 三, answer: true", "text: 三, answer: false").replace(
        "text: 四, answer: true", "text: 四, answer: false")}
    assert "true-false-balance" not in {w.code for w in lint(compile_sources(balanced), balanced)}


def test_a_lesson_without_minutes_takes_what_its_text_takes_to_read():
    text = "内部客户是依赖你工作成果的同事。" * 56  # with the lesson's own, under 900 characters: three minutes
    course = compile_sources({**COURSE, "lessons/m/a.md": LESSON.replace("minutes: 6\n", "") + text})
    assert course.lessons[0].minutes == 3
    assert "reading-time" not in {w.code for w in lint(course, COURSE)}


def test_warnings_carry_a_code_and_parameters_for_translation(warnings):
    above = next(w for w in warnings if w.code == "all-none-above")
    assert dict(above.params) == {"id": "q-three", "option": "以上都对"}


def _write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root / "lessons"


def test_content_check_lints_and_strict_fails_on_warnings(app, tmp_path):
    course_dir = _write(tmp_path, COURSE)
    runner = app.test_cli_runner()
    plain = runner.invoke(args=["content", "check", str(course_dir)])
    assert plain.exit_code == 0 and "[longest-correct]" not in plain.output
    linted = runner.invoke(args=["content", "check", str(course_dir), "--lint"])
    assert linted.exit_code == 0, linted.output
    assert f"quizzes/cue-quiz.yaml:{line_of(QUIZ, 'id: q-three')}: question 'q-three': '以上都对' is an option" in linted.output
    assert "warning(s) from the lint" in linted.output
    strict = runner.invoke(args=["content", "check", str(course_dir), "--lint", "--strict"])
    assert strict.exit_code == 1 and "[all-none-above]" in strict.output


def test_the_studio_editor_shows_lint_warnings(app, client, make_user, login):
    with app.app_context():
        publish(COURSE)
    login(make_user(Role.TRAINER)[1])
    page = client.get("/studio/files/quizzes/cue-quiz.yaml")
    assert page.status_code == 200
    assert 'class="preview-warnings"' in page.text
    assert f'data-line="{line_of(QUIZ, "id: q-three")}"' in page.text and "以上都对" in page.text
    assert 'data-code="true-false-balance"' in page.text
    lesson = client.get("/studio/files/lessons/m/a.md")
    assert 'data-code="reading-time"' in lesson.text and 'data-code="true-false-balance"' not in lesson.text
