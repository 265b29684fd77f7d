"""Numerical questions: the number learners type, read the way they type it, graded within tolerances and ranges."""
from __future__ import annotations

import re
import textwrap
from decimal import Decimal

import pytest
from conftest import answer_form

from courseware.content import CourseInvalid, compile_sources
from courseware.content.lint import lint
from courseware.content.quiz import Quiz, read_number
from courseware.extensions import db
from courseware.learning import records
from courseware.learning.grading import grade
from courseware.models import Role, User
from courseware.publishing import live_course, publish
from courseware.statements import INTERACTIONS, interaction

QUIZ_ID = "quiz-core-elements"  # the module 03-core-elements names it; here it is replaced by a numerical one
QUIZ = f"""\
id: {QUIZ_ID}
kind: quiz
title: 数字小测
pass_mark: 50
questions:
  - id: hours
    type: numerical
    text: 服务承诺写明“24 小时内答复”。最迟多少小时答复？
    answers:
      - 24
      - {{value: 24, tolerance: 2, credit: 50, feedback: 接近了，但承诺是 24 小时。}}
      - {{min: 0, max: 12, credit: 0, feedback: 太保守了。}}
    explanation: 承诺就是 24 小时。
  - id: share
    type: numerical
    text: 四大核心要素中，沟通占几分之几？写成小数。
    answers:
      - {{value: 0.3, tolerance: 0.05}}
      - {{min: 0.24, max: 0.26, feedback: 对，正是四分之一。}}
    explanation: 四个要素之一，0.25。
"""
COURSE = {
    "lessons/course.md": "---\nid: c\ntitle: 课\nfinal_quiz: demo-quiz\n---\n",
    "lessons/m/module.md": "---\nid: m\ntitle: 模块\norder: 1\n---\n",
    "lessons/m/a.md": "---\nid: a-lesson\ntitle: 一\norder: 1\nminutes: 3\n---\n正文\n",
}


def compile_quiz(text: str) -> Quiz:
    return compile_sources({**COURSE, "quizzes/demo.yaml": textwrap.dedent(text)}).quiz("demo-quiz")


@pytest.fixture(scope="module")
def quiz() -> Quiz:
    return compile_quiz(QUIZ.replace(QUIZ_ID, "demo-quiz"))


# --- reading and grading -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("3.5", "3.5"), ("3,5", "3.5"), ("３．５", "3.5"), ("3。5", "3.5"), ("３，５", "3.5"), (" 24 ", "24"),
        ("－2", "-2"), ("\u22122", "-2"), ("1,000", "1000"), ("12,500.5", "12500.5"), ("1 000", "1000"),
        (".25", "0.25"), ("2.4E1", "24"), ("+7", "7"),
        ("abc", None), ("3.5.1", None), ("1,2,3", None), ("1.000,5", None), ("Infinity", None), ("NaN", None),
        ("24 小时", None), ("1e99999", None), ("", None),
    ],
)
def test_numbers_are_read_the_way_learners_type_them(typed, number):
    assert read_number(typed) == (Decimal(number) if number is not None else None)


@pytest.mark.parametrize(
    ("question_id", "typed", "fraction"),
    [
        ("hours", "24", 1.0), ("hours", "２４", 1.0), ("hours", "24.0", 1.0),
        ("hours", "26", 0.5), ("hours", "22", 0.5), ("hours", "26.01", 0.0),  # tolerance ends included
        ("hours", "6", 0.0), ("hours", "一天", 0.0), ("hours", "24h", 0.0),
        ("share", "0.35", 1.0), ("share", "0.25", 1.0), ("share", "0,25", 1.0),  # decimals compared exactly
        ("share", "0.351", 0.0), ("share", "1/4", 0.0),
    ],
)
def test_a_typed_number_earns_the_credit_of_the_best_answer_it_falls_in(quiz, question_id, typed, fraction):
    item = next(i for i in grade(quiz, {question_id: typed}).questions if i.question.id == question_id)
    assert item.fraction == pytest.approx(fraction)


def test_the_feedback_shown_is_that_of_the_answer_that_counted(quiz):
    hours, share = quiz.questions
    assert hours.feedback_for("25") == ["<p>接近了，但承诺是 24 小时。</p>"]
    assert hours.feedback_for("8") == ["<p>太保守了。</p>"]
    assert hours.feedback_for("24") == [] and hours.feedback_for("abc") == []
    assert share.feedback_for("0.24") == ["<p>对，正是四分之一。</p>"]
    assert share.feedback_for("0.25") == [], "in both, worth the same: the first as written counts"


def test_the_form_keeps_what_was_typed_and_a_blank_is_no_answer(quiz):
    hours = quiz.question("hours")
    assert hours.answer_from_form({"q-hours": ["  ２４ "]}) == "２４"
    assert hours.answer_from_form({"q-hours": ["   "]}) is None
    assert hours.answer_from_form({}) is None
    assert len(hours.answer_from_form({"q-hours": ["9" * 5000]})) == 100


@pytest.mark.parametrize("answer", [None, "", 24, 24.0, ["24"], {"x": 1}, True, "24" * 60, "1e9999"])
def test_malformed_answers_score_zero_and_never_raise(quiz, answer):
    result = grade(quiz, {q.id: answer for q in quiz.questions})
    assert 0 <= result.earned <= result.possible


def test_the_right_answer_scores_full_and_the_quiz_survives_its_revision_cache(quiz):
    assert grade(quiz, {q.id: q.correct_answer() for q in quiz.questions}).percent == 100
    assert [q.correct_answer() for q in quiz.questions] == ["24", "0.3"]
    assert [q.right_labels for q in quiz.questions] == [["24"], ["0.3 ± 0.05", "0.24 – 0.26"]]
    assert Quiz.from_dict(quiz.to_dict()) == quiz


@pytest.mark.parametrize(
    ("old", "new", "at", "expected"),
    [
        ("tolerance: 0.05}", "tolerance: -0.05}", "tolerance: -0.05", "question 2: 'tolerance' must be a number, 0 or more"),
        ("{min: 0.24, max: 0.26, ", "{min: 0.26, max: 0.24, ", "{min: 0.26", "question 2: 'min' (0.26) is more than 'max' (0.24)"),
        ("      - 24\n", "", "answers:\n      - {value: 24", "question 1: a 'numerical' question needs at least one answer worth full credit"),
        ("{value: 0.3, tolerance: 0.05}", "{value: 0.3, min: 0.2, max: 0.4}", "{value: 0.3, min", "question 2: an answer needs either 'value'"),
        ("{value: 0.3, tolerance: 0.05}", "{min: 0.2}", "{min: 0.2}", "question 2: an answer with 'min' needs 'max' too"),
        ("{value: 0.3, tolerance: 0.05}", "{min: 0.2, max: 0.4, tolerance: 1}", "{min: 0.2, max: 0.4, t", "question 2: 'tolerance' goes with 'value'"),
        ("{value: 0.3, tolerance: 0.05}", "{value: 三十, tolerance: 0.05}", "{value: 三十", "question 2: 'value' must be a number"),
        ("credit: 50,", "credit: 150,", "credit: 150", "question 1: 'credit' must be a number from 0 to 100"),
        ("      - 24\n", "      - 二十四\n", "二十四", "question 1: each of 'answers' must be a number or fields"),
        ("    answers:\n      - 24\n", "    answer:\n      - 24\n", "answer:\n", "question 1: unknown field 'answer'"),
    ],
)
def test_broken_numerical_questions_are_reported_with_file_line_and_reason(old, new, at, expected):
    text = QUIZ.replace(QUIZ_ID, "demo-quiz")
    assert old in text
    broken = text.replace(old, new, 1)
    line = broken.count("\n", 0, broken.index(at)) + 1
    with pytest.raises(CourseInvalid) as caught:
        compile_quiz(broken)
    messages = [str(e) for e in caught.value.errors]
    assert any(m.startswith(f"quizzes/demo.yaml:{line}: {expected}") for m in messages), messages


def test_the_lint_asks_for_a_tolerance_when_only_an_exact_decimal_is_right():
    sources = {**COURSE, "quizzes/demo.yaml": QUIZ.replace(QUIZ_ID, "demo-quiz").replace(
        "{value: 0.3, tolerance: 0.05}\n      - {min: 0.24, max: 0.26, feedback: 对，正是四分之一。}", "0.25")}
    warnings = [w for w in lint(compile_sources(sources), sources) if w.code == "exact-decimal"]
    line = sources["quizzes/demo.yaml"].count("\n", 0, sources["quizzes/demo.yaml"].index("  - id: share")) + 1
    assert [(w.line, dict(w.params)["id"]) for w in warnings] == [(line, "share")], "whole numbers and tolerances are fine"
    assert "give a tolerance (value: 0.25, tolerance: …)" in warnings[0].message


def test_xapi_reports_a_numeric_interaction_with_the_full_credit_ranges(quiz):
    hours, share = quiz.questions
    assert interaction(hours)["interactionType"] == "numeric"
    assert interaction(hours)["correctResponsesPattern"] == ["24"]
    assert interaction(share)["correctResponsesPattern"] == ["0.25[:]0.35", "0.24[:]0.26"]
    respond = INTERACTIONS["numerical"][1]
    assert [respond(a) for a in ("3,5", "２４", "abc", None)] == ["3.5", "24", None, None]


# --- through the pages -------------------------------------------------------------------------

@pytest.fixture
def numerical_quiz(app, course_sources) -> Quiz:
    with app.app_context():
        publish({**course_sources, f"quizzes/{QUIZ_ID}.yaml": QUIZ.encode()})
    with app.test_request_context():
        return live_course().course.quiz(QUIZ_ID)


def test_a_learner_types_numbers_and_sees_a_non_number_marked_without_an_error(client, trainee, numerical_quiz):
    attempt_url = client.post(f"/quizzes/{QUIZ_ID}/start").location
    page = client.get(attempt_url).get_data(as_text=True)
    assert 'inputmode="decimal"' in page and 'name="q-hours"' in page
    saved = client.post(f"{attempt_url}/save", data={"q-hours": "２５", "q-share": "0,25"})
    assert saved.status_code in (200, 204, 302)
    page = client.get(attempt_url).get_data(as_text=True)
    assert 'value="２５"' in page and 'value="0,25"' in page, "what was typed is kept as typed"
    result = client.post(f"{attempt_url}/submit", data={"q-hours": "一天", "q-share": "0,24", "submit_anyway": "1"},
                         follow_redirects=True)
    assert result.status_code == 200
    text = result.get_data(as_text=True)
    assert "50%" in text
    assert re.search(r"一天</span>\s*<span class=\"muted small\">\([^)]+\)</span>", text), "marked as not a number"
    assert '<span class="answer-part">24</span>' in text, "the right answer is shown as the trainer wrote it"
    assert "对，正是四分之一。" in text


def test_the_studio_preview_shows_each_answer_its_credit_and_feedback(client, numerical_quiz, make_user, login):
    _id, email = make_user(Role.TRAINER)
    login(email)
    preview = client.post("/studio/preview", data={"text": QUIZ, "path": f"quizzes/{QUIZ_ID}.yaml"}).get_data(as_text=True)
    assert "✓ 24</li>" in preview.replace("\n", "")
    assert "◐ 24 ± 2 · " in preview and "✗ 0 – 12 · " in preview and "接近了，但承诺是 24 小时。" in preview
    assert "✓ 0.3 ± 0.05" in preview and "✓ 0.24 – 0.26" in preview


def test_analytics_groups_the_numbers_typed_and_shows_the_most_common_wrong_ones(app, client, numerical_quiz, make_user, login):
    typed = ["24", "２４", "24.0", "25", "12", "12", "一天", "0.25", "0,25"]
    with app.test_request_context():
        live = live_course()
        for n, value in enumerate(typed):
            user = db.session.get(User, make_user(Role.TRAINEE)[0])
            attempt = records.start_attempt(user, live, numerical_quiz)
            answers = {"hours": numerical_quiz.question("hours").answer_from_form(answer_form(numerical_quiz.question("hours"), value))}
            records.submit_attempt(user, live, attempt, numerical_quiz, answers)
    _id, email = make_user(Role.TRAINER)
    login(email)
    page = client.get(f"/studio/analytics/quizzes/{QUIZ_ID}").get_data(as_text=True)
    hours = page.partition('id="q-hours"')[2].partition("</section>")[0]
    rows = [(re.sub(r"\s+", " ", label).strip(), int(count)) for label, count in
            re.findall(r'<th scope="row">\s*([^<]+)<.*?<td class="num">(\d+)</td>', hours, re.S)]
    assert rows[0] == ("24", 3) and {("0.25", 2), ("12", 2), ("25", 1), ("一天", 1)} == set(rows[1:])
    assert hours.count("badge badge-completed") == 1, "only 24 is accepted in full"
    assert "badge badge-in_progress" in hours, "25 earns part of the points"


def test_a_phone_offers_the_decimal_keypad_unless_a_negative_number_can_be_right(quiz):
    assert not any(q.below_zero for q in quiz.questions)
    below = compile_quiz(QUIZ.replace(QUIZ_ID, "demo-quiz").replace("{min: 0, max: 12, credit: 0", "{min: -12, max: 0, credit: 10"))
    assert below.question("hours").below_zero
