"""Moodle GIFT: quizzes go out and questions come in without losing anything silently."""
from __future__ import annotations

import io
import re
from itertools import chain, combinations

import pytest
import yaml
from conftest import TEST_COURSE, in_english

from courseware.content import CourseInvalid, compile_sources
from courseware.content.gift import dump, parse, quiz_to_gift
from courseware.content.quizfile import append_questions
from courseware.models import Role
from courseware.studio import drafts

QUIZ_DIR = TEST_COURSE.parent / "quizzes"
QUIZ_FILES = sorted(p for p in QUIZ_DIR.glob("*.yaml") if yaml.safe_load(p.read_text("utf-8"))["kind"] == "quiz")
TARGET = "quizzes/quiz-core-elements.yaml"

EVERY_TYPE = """\
::q-foundation::[markdown]内部客户服务的**基础**是哪一个要素？{
\t=沟通#对。清晰的信息传递能减少误解和冲突。
\t~绩效考核#绩效考核是实施策略，不是核心要素。
\t~预算
\t####沟通是实现内部客户服务的基础。
}

::q-elements::[markdown]以下哪些属于四大核心要素？{
\t~%50%沟通
\t~%50%理解
\t~%-50%预算#预算不是核心要素。
\t####四大核心要素是沟通、理解、协作和反馈。
}

::q-statement::[markdown]内部客户只存在于不同部门之间。{FALSE####还包括层级客户和工序客户。}

::q-term::[markdown]下一道工序是上一道工序的哪一类内部客户？{
\t=工序客户
\t=工序
\t####“下一道工序就是你的客户”。
}

::q-cases::[markdown]把做法与它最能体现的核心要素配对。{
\t=搭建跨部门沟通平台 -> 沟通
\t=设身处地了解对方的难处 -> 理解
\t= -> 预算
\t####沟通靠平台，理解靠换位思考。
}

::q-blank::[markdown]内部客户服务的基础是 {
\t=沟通
\t~预算
\t####没有沟通，其他要素都无从谈起。
} ，其次是理解。

::q-hours::[markdown]“24 小时内答复”的承诺，最迟多少小时答复？{#
\t=24#对，承诺就是 24 小时。
\t=%50%24:2#接近了。
\t=%0%0..12#太保守了。
\t####承诺写明 24 小时。
}

::q-share::[markdown]沟通占四大要素的几分之几？写成小数。{#0.25:0.01####四个要素之一。}

::q-meeting::[markdown]跨部门例会建议控制在 {#1..2####一到两小时为宜。} 小时以内。
"""

EVERY_TYPE_QUESTIONS = [
    {
        "id": "q-foundation",
        "type": "single",
        "text": "内部客户服务的**基础**是哪一个要素？",
        "options": [
            {"text": "沟通", "correct": True, "feedback": "对。清晰的信息传递能减少误解和冲突。"},
            {"text": "绩效考核", "feedback": "绩效考核是实施策略，不是核心要素。"},
            {"text": "预算"},
        ],
        "explanation": "沟通是实现内部客户服务的基础。",
    },
    {
        "id": "q-elements",
        "type": "multiple",
        "text": "以下哪些属于四大核心要素？",
        "options": [
            {"text": "沟通", "correct": True},
            {"text": "理解", "correct": True},
            {"text": "预算", "feedback": "预算不是核心要素。"},
        ],
        "partial_credit": True,
        "explanation": "四大核心要素是沟通、理解、协作和反馈。",
    },
    {
        "id": "q-statement",
        "type": "true_false",
        "text": "内部客户只存在于不同部门之间。",
        "answer": False,
        "explanation": "还包括层级客户和工序客户。",
    },
    {
        "id": "q-term",
        "type": "short_answer",
        "text": "下一道工序是上一道工序的哪一类内部客户？",
        "accepted": ["工序客户", "工序"],
        "explanation": "“下一道工序就是你的客户”。",
    },
    {
        "id": "q-cases",
        "type": "matching",
        "text": "把做法与它最能体现的核心要素配对。",
        "pairs": [{"left": "搭建跨部门沟通平台", "right": "沟通"}, {"left": "设身处地了解对方的难处", "right": "理解"}],
        "distractors": ["预算"],
        "partial_credit": True,
        "explanation": "沟通靠平台，理解靠换位思考。",
    },
    {
        "id": "q-blank",
        "type": "single",
        "text": "内部客户服务的基础是 ____ ，其次是理解。",
        "options": [{"text": "沟通", "correct": True}, {"text": "预算"}],
        "explanation": "没有沟通，其他要素都无从谈起。",
    },
    {
        "id": "q-hours",
        "type": "numerical",
        "text": "“24 小时内答复”的承诺，最迟多少小时答复？",
        "answers": [
            {"value": 24, "feedback": "对，承诺就是 24 小时。"},
            {"value": 24, "tolerance": 2, "credit": 50, "feedback": "接近了。"},
            {"min": 0, "max": 12, "credit": 0, "feedback": "太保守了。"},
        ],
        "explanation": "承诺写明 24 小时。",
    },
    {
        "id": "q-share",
        "type": "numerical",
        "text": "沟通占四大要素的几分之几？写成小数。",
        "answers": [{"value": 0.25, "tolerance": 0.01}],
        "explanation": "四个要素之一。",
    },
    {
        "id": "q-meeting",
        "type": "numerical",
        "text": "跨部门例会建议控制在 ____ 小时以内。",
        "answers": [{"min": 1, "max": 2}],
        "explanation": "一到两小时为宜。",
    },
]


def stripped(value):
    """Trim every text, as a quiz file's `|` blocks end in a line break that GIFT does not keep."""
    if isinstance(value, dict):
        return {key: stripped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stripped(item) for item in value]
    return value.strip() if isinstance(value, str) else value


def compiled_with(course_sources, questions):
    """Append `questions` to a real quiz, compile the whole course, and return that quiz."""
    new_text, ids = append_questions(course_sources[TARGET].decode("utf-8"), questions)
    course = compile_sources({**course_sources, TARGET: new_text.encode("utf-8")})
    quiz = course.quiz("quiz-core-elements")
    return [quiz.question(qid) for qid in ids]


def test_a_file_with_every_supported_type_round_trips_exactly():
    assert parse(EVERY_TYPE) == (EVERY_TYPE_QUESTIONS, [])
    assert dump(EVERY_TYPE_QUESTIONS) == (EVERY_TYPE, [])


def test_a_windows_file_with_a_byte_order_mark_reads_the_same():
    assert parse("\ufeff" + EVERY_TYPE.replace("\n", "\r\n")) == (EVERY_TYPE_QUESTIONS, [])


def test_imported_questions_compile_into_a_real_quiz(course_sources):
    questions = compiled_with(course_sources, EVERY_TYPE_QUESTIONS)
    assert [q.kind for q in questions] == ["single", "multiple", "true_false", "short_answer", "matching", "single",
                                           "numerical", "numerical", "numerical"]
    single, multiple, true_false, short, matching, blank, hours, share, meeting = questions
    assert single.score(single.correct_answer()) == 1.0
    assert true_false.score(False) == 1.0
    assert short.score("工序") == 1.0
    assert [r.html for r in matching.rights] == ["沟通", "理解", "预算"]
    assert "____" in blank.text_html
    assert [hours.score(typed) for typed in ("24", "２５", "27", "6")] == [1.0, 0.5, 0.0, 0.0]
    assert hours.feedback_for("6") == ["<p>太保守了。</p>"]
    assert share.score("0,26") == 1.0 and meeting.score("1。5") == 1.0


def test_an_imported_multiple_answer_question_scores_every_pick_as_moodle_would(course_sources):
    weights = [33.33333, 33.33333, 33.33333, -33.33333, -33.33333]
    options = "".join(f"\t~%{w}%选项{i}\n" for i, w in enumerate(weights))
    questions, lost = parse(f"::q-pick::哪些是核心要素？{{\n{options}\t####四大要素。\n}}\n")
    assert lost == []
    (question,) = compiled_with(course_sources, questions)
    ids = [o.id for o in question.options]
    for picks in chain.from_iterable(combinations(range(5), n) for n in range(1, 6)):
        moodle = min(1.0, max(0.0, sum(weights[i] for i in picks) / 100))
        assert question.score([ids[i] for i in picks]) == pytest.approx(moodle, abs=1e-6), picks


def test_chinese_and_special_characters_survive_both_ways():
    question = {
        "id": "q-special",
        "type": "single",
        "text": "第一段：a = b，集合 {x}，编号 #1，约等于 ~2，时间 10:30。\n\n第二段，路径 C:\\内部\\客户",
        "options": [
            {"text": "选 = 等号", "correct": True, "feedback": "反馈里有 # 号和 {花括号}"},
            {"text": "波浪线 ~ 与冒号 :"},
        ],
        "explanation": "说明：\\ 反斜杠也能保留",
    }
    text, lost = dump([question])
    assert lost == []
    assert r"a \= b，集合 \{x\}，编号 \#1，约等于 \~2，时间 10\:30。\n\n第二段，路径 C\:\\内部\\客户{" in text
    assert parse(text) == ([question], [])


def test_moodle_escapes_are_read_as_the_characters_they_stand_for():
    questions, _ = parse("::q-escape::1 \\= 1 \\{真的\\} \\# 吗\\?{=是\\: 对 ~否 \\~ 错}\n")
    assert questions[0]["text"] == "1 = 1 {真的} # 吗\\?"
    assert [o["text"] for o in questions[0]["options"]] == ["是: 对", "否 ~ 错"]


def test_unsupported_items_are_listed_by_line_and_the_rest_still_imports():
    text = """\
// exported from Moodle
$CATEGORY: $course$/top/第一周

::num::焊接是哪一年发明的？{#1881:5}

::essay::谈谈你对内部客户的理解。{}

这是一段说明文字，没有答案。

::broken::括号没有闭合 {=沟通 ~预算

// the next question is fine
::q-ok::
内部客户包括同事吗？{TRUE}

::Q 7::花括号顺序反了 }=a{
"""
    questions, skipped = parse(text)
    assert [(q["id"], q["type"]) for q in questions] == [("num", "numerical"), ("q-ok", "true_false")]
    assert [(s.line, s.question, s.kept) for s in skipped] == [
        (2, "", False), (4, "num", True), (6, "essay", False), (8, "这是一段说明文字，没有答案。", False), (10, "broken", False),
        (13, "q-ok", True), (16, "Q 7", False),
    ]
    reasons = [s.reason for s in skipped]
    assert "category '$course$/top/第一周' is not carried" in reasons[0]
    assert "no general feedback" in reasons[1] and "essay" in reasons[2] and "description" in reasons[3]
    assert "braces" in reasons[4] and "no general feedback" in reasons[5] and "braces" in reasons[6]


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ("{~沟通 ~预算}", "none of them is right"),
        ("{=沟通 -> 理解 =反馈}", "=left -> right"),
        ("{=沟通 -> 理解}", "at least two pairs"),
        ("{沟通}", "start each answer with '='"),
        ("{=沟通}{=理解}", "braces"),
    ],
)
def test_malformed_answers_are_listed_with_the_reason(answers, reason):
    questions, skipped = parse(f"\n\n::q-bad::内部客户服务的基础是？{answers}\n")
    assert questions == []
    assert [(s.line, s.question) for s in skipped] == [(3, "q-bad")]
    assert reason in skipped[0].reason


def test_titles_become_ids_only_when_they_are_valid_ids():
    text = "\n\n".join(
        [
            "::Question 1::沟通重要吗？{T}",
            "没有标题的问题？{F}",
            "::gift-1::标题正好是生成的名字？{T}",
            "::q-same::第一个？{T}",
            "::q-same::同名的第二个？{T}",
        ]
    )
    questions, skipped = parse(text)
    assert all(s.kept and "no general feedback" in s.reason for s in skipped)
    assert [q["id"] for q in questions] == ["question-1", "gift-2", "gift-1", "q-same", "q-same-2"]


def test_names_that_are_not_ids_give_ids_derived_from_them_and_unique():
    titles = ["Q1", "q1", "TrueStatement 2", "Grant's tomb", "基础要素", "Q1", "x" * 70]
    questions, _ = parse("\n\n".join(f"::{title}::对吗？{{T####是。}}" for title in titles))
    assert [q["id"] for q in questions] == ["q1-2", "q1", "truestatement-2", "grant-s-tomb", "gift-1", "q1-3", "x" * 64]


def test_details_a_moodle_export_carries_but_our_format_cannot_are_listed_with_the_question_kept():
    text = """\
// question: 12  name: Q1
::Q1::[html]<p>Which of these?</p>{
\t~%70%A#good
\t~%30%B
\t~C
}

::q-tf::[moodle]Internal customers exist.{T#Wrong, they do.#Right.}

::q-sa::Name it.{
\t=%100%loop#yes
\t=%50%circle
\t=%0%line
}

::q-sc::Pick one.{=A ~%50%B ~C}
"""
    questions, skipped = parse(text)
    assert [(q["id"], q["type"]) for q in questions] == [
        ("q1", "multiple"), ("q-tf", "true_false"), ("q-sa", "short_answer"), ("q-sc", "single"),
    ]
    assert questions[0]["text"] == "Which of these?"
    assert [o.get("correct", False) for o in questions[0]["options"]] == [True, True, False]
    assert questions[2]["accepted"] == ["loop", "circle"]
    assert [q["explanation"] for q in questions] == ["正确答案：A；B", "Wrong, they do.", "yes", "正确答案：A"]
    assert [(s.line, s.question) for s in skipped] == [
        (2, "q1"), (2, "q1"), (8, "q-tf"), (10, "q-sa"), (10, "q-sa"), (10, "q-sa"), (16, "q-sc"), (16, "q-sc"),
    ]
    assert all(s.reason.startswith("kept") for s in skipped)
    assert sum("no general feedback" in s.reason for s in skipped) == 4


@pytest.mark.parametrize(
    ("k", "weight"),
    [(1, "100"), (2, "50"), (3, "33.33333"), (4, "25"), (5, "20"), (6, "16.66667"), (7, "14.28571"),
     (8, "12.5"), (9, "11.11111"), (10, "10")],
)
def test_multiple_answer_weights_are_written_as_moodle_writes_them(k, weight):
    options = [{"text": f"对{i}", "correct": True} for i in range(k)] + [{"text": "错"}]
    question = {"id": "q-many", "type": "multiple", "text": "选出正确的。", "options": options, "partial_credit": True, "explanation": "因为。"}
    text, lost = dump([question])
    assert lost == []
    assert text.count(f"\t~%{weight}%对") == k and f"\t~%-{weight}%错\n" in text
    assert parse(text) == ([question], [])


def test_export_lists_what_gift_cannot_carry_and_keeps_the_rest():
    questions = [
        {"id": "q-points", "type": "true_false", "text": "对吗？", "answer": True, "points": 3, "explanation": "是。"},
        {"id": "q-strict", "type": "multiple", "text": "选？", "options": [{"text": "甲", "correct": True}, {"text": "乙"}]},
        {"id": "q-pairs", "type": "matching", "text": "配对。", "pairs": [{"left": "一", "right": "1"}, {"left": "二", "right": "2"}]},
        {"id": "q-order", "type": "ordering", "text": "排序。", "items": ["先", "后"]},
        {"id": "q-tf", "type": "true_false", "text": "错吗？", "answer": False},
    ]
    text, skipped = dump(questions)
    assert [(s.line, s.question) for s in skipped] == [(None, "q-points"), (None, "q-strict"), (None, "q-pairs"), (None, "q-order")]
    assert "points: 3" in skipped[0].reason
    assert "partial credit" in skipped[1].reason
    assert "each right pair" in skipped[2].reason
    assert "ordering" in skipped[3].reason
    assert [q["id"] for q in parse(text)[0]] == ["q-points", "q-strict", "q-pairs", "q-tf"]


@pytest.mark.parametrize("path", QUIZ_FILES, ids=lambda p: p.name)
def test_a_quiz_exports_to_gift_that_reads_back_the_same_questions(path):
    text = path.read_text("utf-8")
    questions = yaml.safe_load(text)["questions"]
    ordering = [q["id"] for q in questions if q["type"] == "ordering"]
    gift_text, skipped = quiz_to_gift(text, str(path))
    assert [s.question for s in skipped] == ordering
    assert all("ordering" in s.reason for s in skipped)
    read, lost = parse(gift_text)
    assert lost == []
    assert read == [stripped(q) for q in questions if q["type"] != "ordering"]
    assert dump(read) == (gift_text, [])


def test_a_pooled_quiz_exports_every_question_and_says_its_pools_are_lost():
    text = """id: pooled
kind: quiz
title: 抽题
questions:
  - {id: q-fixed, type: true_false, text: 对吗？, answer: true, explanation: 是。}
pools:
  - id: understanding
    draw: 1
    questions:
      - {id: u1, type: true_false, text: 一？, answer: true, explanation: 一。}
      - {id: u2, type: true_false, text: 二？, answer: false, explanation: 二。}
"""
    gift_text, skipped = quiz_to_gift(text, "quizzes/pooled.yaml")
    assert [q["id"] for q in parse(gift_text)[0]] == ["q-fixed", "u1", "u2"]
    assert [(s.question, s.kept) for s in skipped] == [("understanding", True)]
    assert "GIFT has no question pools" in skipped[0].reason and "instead of drawing 1" in skipped[0].reason
    only_pools = text.replace("questions:\n  - {id: q-fixed, type: true_false, text: 对吗？, answer: true, explanation: 是。}\n", "")
    assert [q["id"] for q in parse(quiz_to_gift(only_pools, "quizzes/pooled.yaml")[0])[0]] == ["u1", "u2"]


def test_a_file_with_more_questions_than_allowed_is_refused_at_the_first_one_too_many():
    many = "// 题库\n\n" + "\n\n".join(f"::q-{n}::内部客户包括同事吗？{{TRUE}}" for n in range(501))
    with pytest.raises(CourseInvalid, match=r"^bank.gift:1003: more than 500 questions: import at most 500 at a time$"):
        parse(many, "bank.gift")
    assert len(parse(many.rpartition("\n\n")[0], "bank.gift")[0]) == 500


def test_a_file_longer_than_a_course_file_may_be_is_refused_before_it_is_read():
    with pytest.raises(CourseInvalid, match=r"^bank.gift:2: the file is longer than 200,000 characters \(200,001\)"):
        parse("::q::是吗？{T}\n" + "x" * 199_989, "bank.gift")  # 12 + 199,989 characters


def test_exporting_a_file_that_is_not_a_quiz_names_the_file():
    with pytest.raises(CourseInvalid, match="quizzes/scenario-rush-order.yaml:1: not a quiz"):
        quiz_to_gift((QUIZ_DIR / "scenario-rush-order.yaml").read_text("utf-8"), "quizzes/scenario-rush-order.yaml")


def test_appending_keeps_every_line_and_comment_and_the_course_still_compiles(course_sources):
    lines = course_sources[TARGET].decode("utf-8").split("\n")
    last_item = max(i for i, line in enumerate(lines) if line.startswith("  - id:"))
    lines[last_item:last_item] = ["  # 最后一题由王老师补充", ""]
    original = "# 本测验由培训部维护，改动前请先沟通\n" + "\n".join(lines)
    questions = [{**EVERY_TYPE_QUESTIONS[0], "id": "q-vague-request"}, *EVERY_TYPE_QUESTIONS[1:]]

    new_text, ids = append_questions(original, questions)

    assert new_text.startswith(original.rstrip("\n")) and new_text.endswith("\n")
    assert ids == ["q-vague-request-2", "q-elements", "q-statement", "q-term", "q-cases", "q-blank", "q-hours", "q-share", "q-meeting"]
    assert "内部客户服务的**基础**是哪一个要素？" in new_text  # Chinese stays Chinese
    course = compile_sources({**course_sources, TARGET: new_text.encode("utf-8")})
    quiz = course.quiz("quiz-core-elements")
    assert [q.id for q in quiz.questions][-len(ids):] == ids
    before = yaml.safe_load(original)["questions"]
    after = yaml.safe_load(new_text)["questions"]
    assert after == before + [{**q, "id": qid} for q, qid in zip(questions, ids)]


@pytest.mark.parametrize("indent", ["  ", ""])
def test_appending_goes_into_the_list_even_when_other_fields_follow_it(indent):
    original = f"""\
id: quiz-settings-last
kind: quiz
questions:
{indent}- id: q-one
{indent}  type: true_false
{indent}  text: 第一题
{indent}  answer: true
{indent}  explanation: |
{indent}    # 这一行是说明文字，不是注释

# 以下是测验设置
title: 设置写在后面
pass_mark: 60
"""
    new_text, ids = append_questions(original, EVERY_TYPE_QUESTIONS[2:4])
    data = yaml.safe_load(new_text)
    assert ids == ["q-statement", "q-term"]
    assert data["questions"] == yaml.safe_load(original)["questions"] + EVERY_TYPE_QUESTIONS[2:4]
    assert (data["title"], data["pass_mark"]) == ("设置写在后面", 60)
    assert "# 以下是测验设置\ntitle: 设置写在后面\npass_mark: 60\n" in new_text


def test_a_quiz_of_pools_alone_gets_the_imported_questions_in_a_list_asked_every_time():
    """The shipped quizzes are all pools: importing into one must not be refused for lack of `questions:`."""
    original = """\
id: pooled
kind: quiz
title: 抽题测验
pools:
  - id: communication
    draw: 1
    questions:
      - {id: q-statement, type: true_false, text: 旧题, answer: true, explanation: 是}
      - {id: q-other, type: true_false, text: 另一题, answer: false, explanation: 否}
"""
    new_text, ids = append_questions(original, EVERY_TYPE_QUESTIONS[2:4])
    data = yaml.safe_load(new_text)
    assert ids == ["q-statement-2", "q-term"]  # unique across the pools too
    assert [q["id"] for q in data["questions"]] == ids
    assert data["pools"] == yaml.safe_load(original)["pools"] and data["title"] == "抽题测验"


# --- Moodle's own files ----------------------------------------------------------------------

GIFT_FIXTURES = TEST_COURSE.parent.parent / "gift"


def test_moodle_right_answers_marked_equal_become_a_multiple_answer_question_scored_with_partial_credit(course_sources):
    questions, skipped = parse("::q-colours::Which are primary colours of light?{=red =green ~yellow =blue ~white####Red, green and blue.}")
    assert questions[0]["type"] == "multiple" and questions[0]["partial_credit"] is True
    assert [o.get("correct", False) for o in questions[0]["options"]] == [True, True, False, True, False]
    assert [s.reason for s in skipped] == [
        "kept as a multiple-answer question, as more than one answer is marked '=': learners pick every right answer; "
        "each right pick adds 1/3 of the mark, each wrong pick takes 1/3 away"
    ]
    (question,) = compiled_with(course_sources, questions)
    red, green, yellow, blue, _ = (o.id for o in question.options)
    assert question.score([red, green, blue]) == 1.0
    assert question.score([red, green]) == pytest.approx(2 / 3)
    assert question.score([red, yellow]) == 0.0


@pytest.mark.parametrize(
    ("gift_text", "text", "option"),
    [
        ("[plain]2*3*4 \\= ?{=24 ~[markdown]**9**}", r"2\*3\*4 = ?", "**9**"),
        ("[moodle]Use <b> for # and _x_?{=yes ~no}", r"Use \<b\> for \# and \_x\_?", "no"),
        ("[html]<p>Is <strong>2&lt;3</strong>?</p><p>Yes.</p>{=yes ~<em>no</em>}", "Is **2\\<3**?\n\nYes.", "*no*"),
        ("[markdown]Is **2*3** six?{=yes ~no}", "Is **2*3** six?", "no"),
    ],
)
def test_format_markers_decide_how_the_text_is_read(gift_text, text, option):
    questions, _ = parse(f"::q-format::{gift_text}")
    assert questions[0]["text"] == text
    assert questions[0]["options"][1]["text"] == option


def test_plain_text_renders_without_emphasis_and_html_as_markup(course_sources):
    questions, skipped = parse(
        "::q-plain::[plain]2*3*4 是多少？{=24 ~9####2*3*4 = 24。}\n\n"
        "::q-html::[html]<p>下列哪一项是<strong>沟通</strong>？</p><img src\\=\"@@PLUGINFILE@@/a.png\">{=倾听 ~打断}\n"
    )
    plain, html_question = compiled_with(course_sources, questions)
    assert "2*3*4" in plain.text_html and "<em>" not in plain.text_html and "<em>" not in plain.explanation_html
    assert "<strong>沟通</strong>" in html_question.text_html and "&lt;p&gt;" not in html_question.text_html
    assert [(s.line, s.question) for s in skipped if "HTML" in s.reason] == [(3, "q-html")]
    assert "<img>" in next(s.reason for s in skipped if "HTML" in s.reason)


def test_a_question_without_general_feedback_is_explained_by_its_feedback_or_its_right_answer(course_sources):
    questions, skipped = parse(
        "::q-tf::内部客户包括同事吗？{T#错了，同事也是内部客户。#对。}\n\n"
        "::q-one::基础是？{=沟通#沟通最重要。 ~预算}\n\n"
        "::q-word::下一道工序是 {=工序客户} 。\n\n"
        "::q-pairs::配对。{=甲 -> 1 =乙 -> 2}\n"
    )
    assert [q["explanation"] for q in questions] == ["错了，同事也是内部客户。", "正确答案：沟通", "正确答案：工序客户", "正确答案：甲 → 1；乙 → 2"]
    assert [(s.line, s.question) for s in skipped] == [(1, "q-tf"), (3, "q-one"), (5, "q-word"), (7, "q-pairs")]
    assert "feedback on one of its answers as its explanation" in skipped[0].reason
    assert all("only states the right answer" in s.reason for s in skipped[1:])
    assert all(q.explanation_html for q in compiled_with(course_sources, questions))


def test_moodle_categories_tags_and_id_numbers_are_listed_by_line():
    questions, skipped = parse((GIFT_FIXTURES / "moodle-sampler.gift").read_text("utf-8"))
    notes = [(s.line, s.question, s.kept, s.reason) for s in skipped if "Moodle" in s.reason]
    assert notes == [
        (4, "", False, "the Moodle category '$course$/top/Default for Onboarding/Week 1' is not carried: the questions go to the quiz you choose"),
        (7, "grant-s-tomb", True, "kept without its Moodle ID number 'HIST-001': its id here is 'grant-s-tomb'"),
        (8, "grant-s-tomb", True, "kept without its Moodle tag 'history': our quizzes have no tags"),
        (9, "grant-s-tomb", True, "kept without its Moodle tag 'warm-up': our quizzes have no tags"),
    ]


@pytest.mark.parametrize(
    ("name", "kinds", "left_out"),
    [
        ("moodle-sampler.gift",
         {"grant-s-tomb": "single", "colours": "multiple", "q-sun-rises": "true_false", "truestatement-with-feedback": "true_false",
          "q-two-plus-two": "short_answer", "multiplication": "single", "mark-up": "single", "capitals": "matching",
          "moon-landing": "numerical"},
         [49, 51]),
        ("onboarding-bank.gift",
         {"gift-1": "single", "ic-core-elements": "multiple", "ic-who": "true_false", "ic-next-step": "short_answer", "ic-05": "matching"},
         []),
    ],
)
def test_moodle_style_files_import_whole_and_compile(course_sources, name, kinds, left_out):
    questions, skipped = parse((GIFT_FIXTURES / name).read_text("utf-8"))
    assert {q["id"]: q["type"] for q in questions} == kinds
    assert [s.line for s in skipped if not s.kept and s.question] == left_out
    assert [q.kind for q in compiled_with(course_sources, questions)] == list(kinds.values())


# --- through the studio ------------------------------------------------------------------------

@pytest.fixture
def trainer(make_user, login):
    _id, email = make_user(Role.TRAINER)
    login(email)


def _import(client, name, data, quiz, **extra):
    return client.post(
        "/studio/gift", data={"file": (io.BytesIO(data), name), "quiz": quiz, **extra}, content_type="multipart/form-data"
    )


@pytest.mark.parametrize("name", ["moodle-sampler.gift", "onboarding-bank.gift"])
def test_a_moodle_file_without_general_feedback_imports_through_the_studio(app, client, published, trainer, name):
    in_english(client)
    data = (GIFT_FIXTURES / name).read_bytes()
    preview = _import(client, name, data, "quiz-core-elements")
    assert preview.status_code == 200, preview.text
    assert 'name="confirm" value="yes"' in preview.text
    assert "no general feedback (####)" in preview.text and "Moodle category" in preview.text
    confirmed = client.post("/studio/gift", data={"text": data.decode(), "quiz": "quiz-core-elements", "confirm": "yes"})
    assert confirmed.status_code == 302
    with app.app_context():
        course = compile_sources(drafts.working_files())
    expected, _ = parse(data.decode())
    assert [q.id for q in course.quiz("quiz-core-elements").questions][-len(expected):] == [q["id"] for q in expected]


def test_an_error_in_an_imported_question_names_the_gift_line_in_the_gift_card_in_the_interface_language(app, client, published, trainer):
    text = "// 题库\n\n::q-ok::对吗？{T####是。}\n\n::q-long::" + "长" * 30_001 + "{T####是。}\n"
    refused = _import(client, "bank.gift", text.encode(), "quiz-core-elements")
    assert refused.status_code == 400
    assert 'name="confirm" value="yes"' not in refused.text
    gift_card = refused.text.partition("Import GIFT")[2] or refused.text.partition("导入 GIFT")[2]
    assert re.search(r"<code>bank.gift</code>:5: [^<]*超过 30,000 个字符", gift_card), "Chinese, GIFT line 5"
    assert "quiz-core-elements.yaml" not in refused.text.partition("preview-errors")[2].partition("</div>")[0]
    in_english(client)
    english = _import(client, "bank.gift", text.encode(), "quiz-core-elements")
    assert re.search(r"<code>bank.gift</code>:5: [^<]*is longer than 30,000 characters", english.text)
    with app.app_context():
        assert drafts.drafts() == []


# --- numerical questions and Moodle's examples ---------------------------------------------------

@pytest.mark.parametrize(
    ("braces", "answers"),
    [
        ("{#1822}", [1822]),
        ("{#3.1415:0.0005}", [{"value": 3.1415, "tolerance": 0.0005}]),
        ("{#3.141..3.142}", [{"min": 3.141, "max": 3.142}]),
        ("{#-5..-1}", [{"min": -5, "max": -1}]),
        ("{#1822:0}", [1822]),
        ("{#=%100%5:0 =%50%5:2}", [5, {"value": 5, "tolerance": 2, "credit": 50}]),
        ("{#\n    =1822:0      #Correct!\n    =%50%1822:2  #Close:\n        half the credit.\n}",
         [{"value": 1822, "feedback": "Correct!"}, {"value": 1822, "tolerance": 2, "credit": 50, "feedback": "Close:\n        half the credit."}]),
        ("{#0.000001:1e-7}", [{"value": 0.000001, "tolerance": 1e-7}]),
        ("{#12345678901234567890.5}", ["12345678901234567890.5"]),
    ],
)
def test_moodle_numerical_forms_become_numerical_answers(braces, answers):
    questions, _ = parse(f"::q-n::数一数？{braces}\n")
    assert questions[0]["type"] == "numerical" and questions[0]["answers"] == answers


def test_moodle_s_any_other_answer_feedback_is_listed_and_becomes_the_explanation():
    for braces in ("{#3:2~#完全不对}", "{#\n\t=%100%3:2#\n\t~#完全不对\n}", "{#\n\t=3:2\n\t=%0%*#完全不对\n}"):
        questions, skipped = parse(f"::q5::1 到 5 之间的一个数？{braces}\n")
        assert questions[0]["answers"] == [{"value": 3, "tolerance": 2}] and questions[0]["explanation"] == "完全不对"
        assert [s.reason for s in skipped][0].startswith("kept without the feedback for any other answer")


@pytest.mark.parametrize(
    ("braces", "reason"),
    [
        ("{#二十四}", "'二十四' is not a number"),
        ("{#5:-1}", "tolerance of '5:-1' is below 0"),
        ("{#2..1}", "range '2..1' starts above its end"),
        ("{#=%50%5 =%25%6}", "no answer earns the full mark"),
        ("{#=%150%5}", "worth 150%"),
        ("{#}", "at least one number"),
    ],
)
def test_numerical_answers_that_cannot_be_carried_are_listed_with_the_reason(braces, reason):
    questions, skipped = parse(f"::q-n::数一数？{braces}\n")
    assert questions == [] and [(s.line, s.question, s.kept) for s in skipped] == [(1, "q-n", False)]
    assert reason in skipped[0].reason


def test_a_quiz_with_numerical_questions_exports_as_moodle_writes_them_and_reads_back():
    text = """id: numbers
kind: quiz
title: 数字
questions:
  - {id: q-one, type: numerical, text: 几个要素？, answers: [4], explanation: 四个。}
  - id: q-hours
    type: numerical
    text: 最迟多少小时答复？
    answers:
      - {value: 24, feedback: 对。}
      - {value: "24", tolerance: 2.0, credit: 45}
      - {min: 0, max: 12, credit: 0, feedback: 太保守了。}
    explanation: 承诺是 24 小时。
  - {id: q-broken, type: numerical, text: 坏的, answers: [{value: 很多}], explanation: 坏。}
"""
    gift_text, skipped = quiz_to_gift(text, "quizzes/numbers.yaml")
    assert "::q-one::[markdown]几个要素？{#4####四个。}" in gift_text
    assert "{#\n\t=24#对。\n\t=%45%24:2\n\t=%0%0..12#太保守了。\n\t####承诺是 24 小时。\n}" in gift_text
    assert [(s.question, s.kept) for s in skipped] == [("q-hours", True), ("q-broken", False)]
    assert "Moodle has no grade of 45%" in skipped[0].reason and "'很多' is not a number" in skipped[1].reason
    read, lost = parse(gift_text)
    assert lost == [] and [q["answers"] for q in read] == [
        [4], [{"value": 24, "feedback": "对。"}, {"value": 24, "tolerance": 2, "credit": 45}, {"min": 0, "max": 12, "credit": 0, "feedback": "太保守了。"}],
    ]


def test_moodle_tags_and_id_numbers_are_read_anywhere_in_a_comment_as_moodle_writes_them():
    questions, skipped = parse("// question: 1  name: TF\n// [id:myid] [tag:tag1] [tag: t\\]ag2 ]\n::TF::对吗？{TRUE####是。}\n")
    assert [(s.line, s.reason) for s in skipped] == [
        (2, "kept without its Moodle ID number 'myid': its id here is 'tf'"),
        (2, "kept without its Moodle tag 'tag1': our quizzes have no tags"),
        (2, "kept without its Moodle tag 't]ag2': our quizzes have no tags"),
    ]


EXAMPLES_ZH = "moodle-examples-zh.gift"  # every construct of Moodle's examples.txt, in our own questions


def test_our_moodle_style_examples_read_whole_and_write_back_the_same():
    questions, skipped = parse((GIFT_FIXTURES / EXAMPLES_ZH).read_text("utf-8"))
    kinds = [q["type"] for q in questions]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {
        "single": 17, "multiple": 2, "true_false": 6, "short_answer": 9, "matching": 3, "numerical": 8}
    left_out = [(s.line, s.reason) for s in skipped if not s.kept]
    assert [line for line, _ in left_out] == [4, 168, 170]
    assert "category" in left_out[0][1] and "essay" in left_out[1][1] and "description" in left_out[2][1]
    by_id = {q["id"]: q for q in questions}
    assert [o["text"] for o in by_id["gift-control-characters"]["options"]] == ["~", "=", "#", "{", "}", ":", "\\"]
    assert by_id["numerical-example"]["answers"][1]["credit"] == 50
    assert by_id["core-element-short-answer"]["text"] == "内部客户服务的基础是 ____。"
    assert parse(dump(questions)[0])[0] == questions


def test_our_moodle_style_examples_import_through_the_studio_with_only_essay_and_description_left_out(app, client, published, trainer):
    in_english(client)
    data = (GIFT_FIXTURES / EXAMPLES_ZH).read_bytes()
    preview = _import(client, EXAMPLES_ZH, data, "quiz-core-elements")
    assert preview.status_code == 200, preview.text
    listed = re.findall(r'<span class="badge badge-warn">[^<]*</span>\s*line (\d+)\s*(?:<code>([^<]*)</code>)?: ([^<]*)</li>', preview.text)
    assert [(int(line), name) for line, name, _ in listed] == [
        (4, ""), (168, "Essay"), (170, "This paragraph introduces the next quest")]
    assert "category" in listed[0][2] and "essay" in listed[1][2] and "description" in listed[2][2]
    confirmed = client.post("/studio/gift", data={"text": data.decode(), "quiz": "quiz-core-elements", "confirm": "yes"})
    assert confirmed.status_code == 302
    with app.app_context():
        course = compile_sources(drafts.working_files())
    imported = course.quiz("quiz-core-elements").questions[-45:]
    assert [q.kind for q in imported].count("numerical") == 8
    numerical = next(q for q in imported if q.id == "numerical-example")
    assert numerical.score("24") == 1.0 and numerical.score("２５") == 0.5
