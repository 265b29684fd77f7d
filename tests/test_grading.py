"""Quiz grading as a plain function: every question type, partial credit, empty and malformed answers."""
from __future__ import annotations

import textwrap

import pytest

from courseware.content import CourseInvalid, compile_sources
from courseware.learning.grading import grade

QUIZ = """
id: demo-quiz
kind: quiz
title: 小测
pass_mark: 75
questions:
  - id: single
    type: single
    text: 哪一项是基础？
    options:
      - {text: 沟通, correct: true}
      - {text: 预算, feedback: 不是要素}
    explanation: 沟通是基础。
  - id: multi
    type: multiple
    partial_credit: true
    text: 哪些是核心要素？
    options:
      - {id: a, text: 沟通, correct: true}
      - {id: b, text: 理解, correct: true}
      - {id: c, text: 预算}
      - {id: d, text: 协作, correct: true}
    explanation: 四大要素。
  - id: strict
    type: multiple
    text: 哪些是层级客户关系？
    options:
      - {id: a, text: 员工与上司, correct: true}
      - {id: b, text: 销售与生产}
      - {id: c, text: 上司与员工, correct: true}
    explanation: 上下级之间。
  - id: tf
    type: true_false
    text: 内部客户只存在于部门之间。
    answer: false
    explanation: 还有上下级与工序之间。
  - id: order
    type: ordering
    partial_credit: true
    text: 排序
    items: [识别, 渠道, 沟通, 反馈]
    explanation: 按课程顺序。
  - id: match
    type: matching
    partial_credit: true
    text: 配对
    pairs:
      - {left: 跨部门平台, right: 沟通}
      - {left: 设身处地, right: 理解}
      - {left: 收集意见, right: 反馈}
    distractors: [预算]
    explanation: 见课程。
  - id: short
    type: short_answer
    points: 2
    text: 下一道工序是哪类客户？
    accepted: [工序客户, 工序]
    explanation: 工序客户。
"""

COURSE = {
    "lessons/course.md": "---\nid: c\ntitle: 课\nfinal_quiz: demo-quiz\n---\n",
    "lessons/m/module.md": "---\nid: m\ntitle: 模块\norder: 1\n---\n",
    "lessons/m/a.md": "---\nid: a-lesson\ntitle: 一\norder: 1\nminutes: 3\n---\n正文\n",
}


def compile_quiz(text: str = QUIZ):
    return compile_sources({**COURSE, "quizzes/demo.yaml": textwrap.dedent(text)}).quiz("demo-quiz")


@pytest.fixture(scope="module")
def quiz():
    return compile_quiz()


def right_answers(quiz):
    return {q.id: q.correct_answer() for q in quiz.questions}


def test_all_right_scores_full_marks(quiz):
    result = grade(quiz, right_answers(quiz))
    assert result.percent == 100 and result.passed
    assert result.possible == 8  # the short answer is worth 2 points


def test_nothing_answered_scores_zero_and_fails(quiz):
    result = grade(quiz, {})
    assert result.earned == 0 and not result.passed
    assert all(not item.answered for item in result.questions)


@pytest.mark.parametrize(
    ("question_id", "answer", "fraction"),
    [
        ("single", "b", 0.0),
        ("multi", ["a", "b", "d"], 1.0),
        ("multi", ["a", "b"], 2 / 3),
        ("multi", ["a", "b", "c"], 1 / 3),  # a wrong pick takes one right pick away
        ("multi", ["c"], 0.0),  # never below zero
        ("strict", ["a"], 0.0),  # no partial credit unless the quiz says so
        ("strict", ["a", "c"], 1.0),
        ("tf", True, 0.0),
        ("tf", False, 1.0),
        ("order", ["a", "b", "d", "c"], 0.5),
        ("order", ["d", "c", "b", "a"], 0.0),
        ("match", {"l1": "r1", "l2": "r2"}, 2 / 3),
        ("match", {"l1": "r4", "l2": "r4", "l3": "r4"}, 0.0),
        ("short", "  工序客户 ", 1.0),
        ("short", "工序", 1.0),
        ("short", "层级客户", 0.0),
    ],
)
def test_each_type_scores_right_wrong_and_partial_answers(quiz, question_id, answer, fraction):
    item = next(i for i in grade(quiz, {question_id: answer}).questions if i.question.id == question_id)
    assert item.fraction == pytest.approx(fraction)


@pytest.mark.parametrize(
    "answer",
    [["a"], {"x": 1}, 42, "zzz", ["a", ["nested"]], {"l1": ["r1"]}, None, "", True],
)
def test_malformed_answers_score_zero_and_never_raise(quiz, answer):
    result = grade(quiz, {q.id: answer for q in quiz.questions})
    assert 0 <= result.earned <= result.possible


def test_short_answers_ignore_case_width_and_spacing():
    quiz = compile_quiz(QUIZ.replace("accepted: [工序客户, 工序]", "accepted: [Service-Dominant Logic]"))
    short = quiz.question("short")
    assert short.score("service dominant logic") == 1.0
    assert short.score("ＳＥＲＶＩＣＥ－ＤＯＭＩＮＡＮＴ　ＬＯＧＩＣ") == 1.0
    assert short.score("service logic") == 0.0
    assert short.score("servicedominantlogic") == 1.0


def test_pass_mark_is_inclusive(quiz):
    answers = right_answers(quiz)
    answers["short"] = "wrong"  # 6 of 8 points = 75%
    result = grade(quiz, answers)
    assert result.percent == 75 and result.passed
    answers["tf"] = True  # 5 of 8
    assert not grade(quiz, answers).passed


def test_form_answers_become_canonical_answers(quiz):
    form = {
        "q-single": ["a"], "q-multi": ["d", "a", "zz"], "q-tf": ["false"],
        "q-order-a": ["2"], "q-order-b": ["1"], "q-order-c": ["3"], "q-order-d": ["4"],
        "q-match-l1": ["r1"], "q-match-l2": ["bogus"], "q-short": ["  工序 "],
    }
    got = {q.id: q.answer_from_form(form) for q in quiz.questions}
    assert got == {
        "single": "a", "multi": ["a", "d"], "strict": None, "tf": False,
        "order": ["b", "a", "c", "d"], "match": {"l1": "r1"}, "short": "工序",
    }
    assert quiz.question("order").answer_from_form({"q-order-a": ["x"]}) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("type: true_false", "type: essay"), "quizzes/demo.yaml:33: question 4: 'type' must be one of"),
        (("      - {text: 沟通, correct: true}\n      - {text: 预算, feedback: 不是要素}", "      - {text: 沟通}\n      - {text: 预算}"),
         "quizzes/demo.yaml:10: question 1: a 'single' question needs exactly one option"),
        (("pass_mark: 75", "pass_mark: 175"), "quizzes/demo.yaml:5: 'pass_mark' must be a whole number from 1 to 100"),
        (("  - id: tf", "  - id: single"), "quizzes/demo.yaml:32: question id 'single' is already used on line 7"),
        (("    answer: false", "    answer: maybe"), "quizzes/demo.yaml:35: question 4: 'answer' must be true or false"),
        (("    accepted: [工序客户, 工序]", "    acepted: [工序客户]"), "quizzes/demo.yaml:57: question 7: unknown field 'acepted'"),
    ],
)
def test_broken_quiz_files_are_reported_with_file_and_line(change, expected):
    old, new = change
    assert old in QUIZ
    with pytest.raises(CourseInvalid) as caught:
        compile_quiz(QUIZ.replace(old, new))
    messages = [str(e) for e in caught.value.errors]
    assert any(m.startswith(expected) for m in messages), messages


POOLED = QUIZ.replace("questions:\n  - id: single", """questions:
  - id: single""").replace("""  - id: short
    type: short_answer""", """pools:
  - id: understanding
    draw: 2
    questions:
      - {id: u1, type: true_false, text: 一, answer: true, explanation: 一}
      - {id: u2, type: true_false, text: 二, answer: true, explanation: 二}
      - {id: u3, type: true_false, text: 三, answer: false, explanation: 三}
  - id: terms
    questions:
      - id: short
        type: short_answer""").replace("""    points: 2
    text: 下一道工序是哪类客户？
    accepted: [工序客户, 工序]
    explanation: 工序客户。""", """        points: 2
        text: 下一道工序是哪类客户？
        accepted: [工序客户, 工序]
        explanation: 工序客户。""")


def test_a_pooled_quiz_keeps_every_question_and_draws_per_attempt():
    quiz = compile_quiz(POOLED)
    assert [q.id for q in quiz.questions][-4:] == ["u1", "u2", "u3", "short"]  # every variant, for lints and analytics
    assert [(p.id, p.draw, p.question_ids) for p in quiz.pools] == [
        ("understanding", 2, ("u1", "u2", "u3")), ("terms", 1, ("short",)),
    ]
    assert quiz.asked_count == 6 + 2 + 1
    draws = {quiz.draw(f"attempt-{n}") for n in range(20)}
    assert len(draws) == 3 and all(len(d) == 9 and d[:6] == tuple(q.id for q in quiz.questions[:6]) for d in draws)
    assert quiz.draw("attempt-1") == quiz.draw("attempt-1")  # a resumed attempt draws nothing new
    drawn = quiz.draw("attempt-1")
    result = grade(quiz, right_answers(quiz), drawn)
    assert [r.question.id for r in result.questions] == list(drawn) and result.possible == 6 + 2 + 2
    assert type(quiz).from_dict(quiz.to_dict()) == quiz
    assert grade(quiz, {}).possible == len(quiz.questions) + 1  # an attempt from before pools: every question


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("    draw: 2", "    draw: 4"), "quizzes/demo.yaml:55: pool 'understanding': 'draw' is 4 but the pool holds only 3 questions"),
        (("  - id: terms", "  - id: understanding"), "quizzes/demo.yaml:60: pool 'understanding': pool id 'understanding' is already used"),
        (("      - {id: u3,", "      - {id: single,"), "quizzes/demo.yaml:59: question id 'single' is already used on line 7"),
        (("      - {id: u1, type: true_false", "      - {id: u1, type: truth"), "quizzes/demo.yaml:57: pool 'understanding': question 1: 'type' must be one of"),
        (("pass_mark: 75", "pass_mark: 75\nreview: after_last_attempt"),
         "quizzes/demo.yaml:6: 'after_last_attempt' needs a last attempt: set 'attempts' to 1 or more"),
        (("pass_mark: 75", "pass_mark: 75\nreview: answers"), "quizzes/demo.yaml:6: 'review' must be one of: score, after_passing, after_last_attempt, full"),
    ],
)
def test_broken_pools_and_policies_are_reported_with_file_and_line(change, expected):
    old, new = change
    assert old in POOLED
    with pytest.raises(CourseInvalid) as caught:
        compile_quiz(POOLED.replace(old, new, 1))
    messages = [str(e) for e in caught.value.errors]
    assert any(m.startswith(expected) for m in messages), messages


@pytest.mark.parametrize(("written", "policy"), [("responses", "score"), ("score", "score"), ("full", "full"), (None, "full")])
def test_review_policies_read_old_files(written, policy):
    text = QUIZ.replace("pass_mark: 75", f"pass_mark: 75\nreview: {written}") if written else QUIZ
    assert compile_quiz(text).review == policy
