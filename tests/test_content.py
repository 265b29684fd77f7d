"""The content compiler: the shipped curriculum compiles and covers the course, and broken files are
named by file and line (shown on the small test course, which trainers never edit)."""
from __future__ import annotations

import re

import pytest

from courseware.content import QUESTION_TYPES, CourseInvalid, compile_sources
from courseware.content.lint import lint
from courseware.content.render import render
from courseware.learning.roleplay import model_path, play

COURSE = """---
id: demo-course
title: 演示课程
---
课程简介。
"""
MODULE = """---
id: demo-module
title: 模块一
order: 1
completion:
  lessons: all
---
模块简介。
"""


def lesson(lesson_id="lesson-a", order=1, body="## 讲解\n\n正文。\n", extra=""):
    return f"---\nid: {lesson_id}\ntitle: 课一\norder: {order}\nminutes: 5\n{extra}---\n{body}"


def sources(**lessons: str) -> dict[str, str]:
    files = {"lessons/course.md": COURSE, "lessons/m1/module.md": MODULE}
    files.update({f"lessons/m1/{name}.md": text for name, text in lessons.items()})
    return files


def finished_plays(scenario):
    """Every way through a role-play, as the plays that reach an ending."""
    plays, paths = [], [[]]
    while paths:
        path = paths.pop()
        state = play(scenario, path)
        if state.finished:
            plays.append(state)
        elif len(path) < 30:
            paths += [path + [c.id] for c in state.node.choices]
    return plays


def errors_of(files: dict[str, str]) -> list[str]:
    with pytest.raises(CourseInvalid) as caught:
        compile_sources(files)
    return [str(error) for error in caught.value.errors]


def with_line(text: str, pattern: str, new: str) -> tuple[str, int]:
    """Replace the first line matching `pattern`, keeping its indent; return the text and the line number."""
    lines = text.split("\n")
    index = next(i for i, row in enumerate(lines) if re.match(pattern, row))
    lines[index] = re.match(r"\s*", lines[index])[0] + new
    return "\n".join(lines), index + 1


def test_real_curriculum_covers_every_module_with_complete_lessons(shipped_course_sources):
    course = compile_sources(shipped_course_sources)
    titles = [module.title for module in course.modules]
    assert titles == [
        "什么是内部客户", "为什么重要", "四大核心要素", "实施策略",
        "管理与人力资源中的应用", "案例分析", "理论与趋势", "总结",
    ]
    assert len(course.lessons) >= 15
    for item in course.lessons:
        headings = re.findall(r"<h2[^>]*>(.*?)</h2>", item.html)
        assert headings == ["讲解", "职场示例", "反思", "要点"], item.path
        assert 'class="admonition question"' in item.html, item.path


def test_every_module_has_a_quiz_and_the_course_has_role_plays(shipped_course_sources):
    course = compile_sources(shipped_course_sources)
    module_quizzes = [course.quiz(m.quiz_id) for m in course.modules]
    assert all(quiz is not None and len(quiz.questions) >= 6 for quiz in module_quizzes)
    assert sum(len(q.questions) for q in course.quizzes) >= 50
    assert {q.kind for quiz in course.quizzes for q in quiz.questions} == set(QUESTION_TYPES)
    assert course.final_quiz is not None and course.final_quiz.module_id is None
    assert all(q.explanation_html for quiz in course.quizzes for q in quiz.questions)

    assert {s.customer_type for s in course.scenarios} == {"层级客户", "职能客户", "工序客户"}
    assert len(course.scenarios) >= 5
    for scenario in course.scenarios:
        assert len({n.ending.outcome for n in scenario.endings}) >= 2 and len(scenario.endings) >= 3
        finished = finished_plays(scenario)  # every way through the conversation passes at least three decisions
        assert finished and min(len(p.steps) for p in finished) >= 3, scenario.id


def test_the_shipped_course_measures_what_it_teaches(shipped_course_sources):
    """Issue L's bar for the course itself: a practice per module, pools of variants, a final that
    keeps its answers until passed, a pre-test on its objectives, and not one cue the lint finds."""
    files = {path: text.decode("utf-8") if isinstance(text, bytes) else text for path, text in shipped_course_sources.items()}
    course = compile_sources(files)
    assert [m.id for m in course.modules if not m.scenario_ids] == []
    for quiz in course.quizzes:
        assert quiz.pools, quiz.id
        assert [p.id for p in quiz.pools if len(p.question_ids) < max(3, p.draw + 1)] == [], quiz.id
    final, pretest = course.final_quiz, course.quiz(course.pretest_quiz_id)
    assert final.review == "after_passing"
    assert pretest.attempts == 1 and pretest.review == "score"
    assert {p.id for p in pretest.pools} == {p.id for p in final.pools}
    assert not {q.id for q in pretest.questions} & {q.id for q in final.questions}
    assert [str(w) for w in lint(course, files)] == []


def test_role_play_endings_follow_the_path(shipped_course_sources):
    """The praise is earned: the model path ends well, a damaging reply (a net loss of two or more)
    never reaches a good ending, and some path that made one ends 'mixed' (put right) rather than 'poor'."""
    course = compile_sources(shipped_course_sources)
    for scenario in course.scenarios:
        assert model_path(scenario).node.ending.outcome == "good", scenario.id
        damaged = [p for p in finished_plays(scenario) if any(sum(v for _, v in step.choice.effects) <= -2 for step in p.steps)]
        praised = [[f"{s.node.id}/{s.choice.id}" for s in p.steps] for p in damaged if p.node.ending.outcome == "good"]
        assert praised == [], scenario.id
        assert any(p.node.ending.outcome == "mixed" for p in damaged), scenario.id


def test_case_figures_are_taught_as_in_the_sources(shipped_course_sources):
    course = compile_sources(shipped_course_sources)
    case = course.lesson("case-manufacturing-platform").html
    assert "15%" in case and "20%" in case
    elements = course.module("core-elements")
    assert [lesson.title[:2] for lesson in elements.lessons] == ["沟通", "理解", "协作", "反馈"]


def test_a_valid_course_compiles_in_order():
    course = compile_sources(sources(b=lesson("lesson-b", 2), a=lesson("lesson-a", 1)))
    assert [item.id for item in course.lessons] == ["lesson-a", "lesson-b"]
    assert course.neighbours("lesson-b")[0].id == "lesson-a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no front matter\n", "lessons/m1/x.md:1: missing front matter"),
        ("---\nid: x\ntitle: [broken\norder: 1\n---\nbody\n", "lessons/m1/x.md:4: invalid YAML"),
        ("---\nid: x\ntitle: t\norder: 1\nminutes: 5\nbody without end\n", "lessons/m1/x.md:1: front matter is not closed"),
        (lesson(extra="titel: typo\n"), "lessons/m1/x.md:6: unknown field 'titel'"),
        ("---\nid: x\ntitle: t\n---\nbody\n", "lessons/m1/x.md:1: missing required field 'order'"),
        ("---\nid: Bad_Id\ntitle: t\norder: 1\nminutes: 5\n---\nbody\n", "lessons/m1/x.md:2: 'id' must be lowercase"),
        ("---\nid: x\ntitle: t\norder: first\nminutes: 5\n---\nbody\n", "lessons/m1/x.md:4: 'order' must be a whole number"),
        ("---\nid: x\nid: y\ntitle: t\norder: 1\nminutes: 5\n---\nbody\n", "lessons/m1/x.md:3: field 'id' is given twice"),
        (lesson(body="\n\n"), "lessons/m1/x.md:1: the lesson has no text"),
        (lesson(body="text\n\n![x](https://cdn.example.com/a.png)\n"), "lessons/m1/x.md:9: image from another site"),
    ],
)
def test_broken_lesson_is_reported_with_file_and_line(text, expected):
    assert any(error.startswith(expected) for error in errors_of(sources(x=text))), expected


STATIC_ONLY = "images must be files under static/ (e.g. /static/img/x.png); a page of this site cannot be used as an image"


def test_an_image_from_static_is_shown():
    course = compile_sources(sources(a=lesson(body="正文。\n\n![流程图](/static/img/flow.png)\n")))
    assert '<img alt="流程图" src="/static/img/flow.png">' in course.lesson("lesson-a").html


@pytest.mark.parametrize("src", ["/hr/learners/12", "images/x.png", "x", "/static/../hr/learners/12", "/admin/"])
def test_a_page_of_this_site_cannot_be_a_lesson_image(src):
    found = errors_of(sources(x=lesson(body=f"正文。\n\n![图]({src})\n")))
    assert f"lessons/m1/x.md:9: {STATIC_ONLY}" in found


@pytest.mark.parametrize(("path", "text", "line"), [
    ("lessons/course.md", COURSE + "\n![](/hr/learners/12)\n", 7),
    ("lessons/m1/module.md", MODULE + "\n[图]: /hr/learners/12\n\n![图][图]\n", 10),  # where the address is written
])
def test_a_page_of_this_site_cannot_be_an_image_in_an_introduction(path, text, line):
    assert f"{path}:{line}: {STATIC_ONLY}" in errors_of({**sources(a=lesson()), path: text})


@pytest.mark.parametrize("path", ["quizzes/quiz-core-elements.yaml", "quizzes/scenario-rush-order.yaml"])
def test_a_page_of_this_site_cannot_be_an_image_in_a_quiz_or_role_play(course_sources, path):
    text, line = with_line(course_sources[path].decode(), r"\s+feedback:", "feedback: 见图 ![图](/hr/learners/12)")
    assert f"{path}:{line}: {STATIC_ONLY}" in errors_of({**course_sources, path: text})


def test_a_lesson_text_over_the_limit_is_refused_at_the_line_where_it_passes_it():
    body = "一段很长的文字。\n" * 4000  # 9 characters a line: 36,000
    found = errors_of(sources(x=lesson(body=body)))
    # character 30,001 is on line 3334 of the text, which starts on line 7 of the file
    assert "lessons/m1/x.md:3340: the text is longer than 30,000 characters (36,000): shorten it or split it up" in found


def test_a_file_over_the_limit_is_refused_without_being_read():
    found = errors_of(sources(x=("x" * 99 + "\n") * 2001))  # 200,100 characters, no front matter
    assert "lessons/m1/x.md:2001: the file is longer than 200,000 characters (200,100): split it into smaller files" in found
    assert not any(error.startswith("lessons/m1/x.md:1: missing front matter") for error in found)


def test_a_question_text_over_the_limit_is_refused_at_its_field(course_sources):
    path = "quizzes/quiz-core-elements.yaml"
    text, line = with_line(course_sources[path].decode(), r"\s+explanation:", "explanation: " + "长" * 30_001)
    found = errors_of({**course_sources, path: text})
    assert f"{path}:{line}: question 1: 'explanation' is longer than 30,000 characters (30,001): shorten it or split it up" in found


def test_lists_nested_too_deeply_are_refused_at_their_line_instead_of_crashing(course_sources):
    found = errors_of(sources(x=lesson(body="正文。\n\n" + "1. " * 500 + "太深\n")))
    assert any(error.startswith("lessons/m1/x.md:9: the text nests lists, quotes or callouts too deeply") for error in found)
    path = "quizzes/scenario-rush-order.yaml"
    text, line = with_line(course_sources[path].decode(), r"\s+feedback:", f'feedback: "{"> " * 200}太深"')
    found = errors_of({**course_sources, path: text})
    assert any(error.startswith(f"{path}:{line}: node ") and "'feedback' nests lists, quotes or callouts too deeply" in error for error in found)


@pytest.mark.parametrize("unit", ["[", "[](", "![](", "<img ", "<a ", "[^", "*_", "\\"])
def test_hostile_text_within_the_limit_compiles_and_shows_as_text(unit):
    body = (unit * 30_000)[:30_000]
    html = compile_sources(sources(a=lesson(body=body))).lesson("lesson-a").html
    assert "<img" not in html and "<a " not in html


def test_every_error_is_reported_not_just_the_first():
    found = errors_of(sources(a=lesson("same", 1), b=lesson("same", 1), c="oops\n"))
    assert "lessons/m1/b.md:2: id 'same' is already used by lessons/m1/a.md:2" in found
    assert "lessons/m1/b.md:4: lesson order 1 is also used by lessons/m1/a.md" in found
    assert "lessons/m1/c.md:1: missing front matter: the file must start with a line '---'" in found


def test_structure_errors_name_the_file():
    files = sources(a=lesson())
    files["lessons/orphan/lost.md"] = lesson("lost")
    files["lessons/m1/module.md"] = MODULE.replace("lessons: all", "lessons: [nope]")
    found = errors_of(files)
    assert "lessons/orphan/lost.md:1: folder 'orphan' has no module.md" in found
    assert "lessons/m1/module.md:5: completion names lesson 'nope', which is not in this module" in found
    assert errors_of({"lessons/m1/a.md": lesson()}) == ["course.md:1: no course.md found in the course folder"]


def test_script_in_a_lesson_never_reaches_the_html():
    html = render(
        "Hello <script>alert('x')</script><img src=x onerror=alert(1)>"
        "[click](javascript:alert(2)) <a href=\"#\" onclick=\"alert(3)\">a</a>\n"
    )
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html, "tags show as text"
    assert '&lt;a href="#" onclick="alert(3)"&gt;a&lt;/a&gt;' in html


@pytest.mark.parametrize("block", ["<img src=x>", "<div>\n<img src=x>\n</div>", "<!-- note -->"])
def test_html_in_markdown_shows_as_text(block):
    html = render(f"前文\n\n{block}\n\n后文")
    assert "<img" not in html and "<div" not in html and "<!--" not in html
    assert block.replace("<", "&lt;").replace(">", "&gt;") in html


def test_trainer_markdown_features_render():
    html = render(
        "## 标题\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n"
        "!!! tip \"提示\"\n    内容\n"
    )
    assert '<h2 id="标题">' in html
    assert "<table>" in html and "<pre><code>code" in html
    assert 'class="admonition tip"' in html


@pytest.mark.parametrize(
    "text",
    [
        "先听清需求，再确认时间",
        "Plain English option, with commas; and quotes \"like this\" and 'this'.",
        "1. a numbered start",
        "- a list start",
        "# a heading",
        "> a quote",
        "带 **粗体** 的选项",
        "a <b>tag</b> & an entity",
        "ends with a colon:",
        "http://example.com/not-a-link",
        "两行\n文字",
        "  indented  ",
    ],
)
def test_short_texts_render_exactly_as_markdown_would(text, monkeypatch):
    from courseware.content import render as module

    fast = render(text)
    monkeypatch.setattr(module, "PLAIN_TEXT", re.compile(r"(?!)"))
    assert fast == render(text)
