"""The content compiler: the real curriculum compiles, and broken files are named by file and line."""
from __future__ import annotations

import re

import pytest

from courseware.content import CourseInvalid, compile_sources
from courseware.content.render import render

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


def errors_of(files: dict[str, str]) -> list[str]:
    with pytest.raises(CourseInvalid) as caught:
        compile_sources(files)
    return [str(error) for error in caught.value.errors]


def test_real_curriculum_covers_every_module_with_complete_lessons(course_sources):
    course = compile_sources(course_sources)
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


def test_every_module_has_a_quiz_and_the_course_has_role_plays(course_sources):
    from courseware.content import QUESTION_TYPES
    from courseware.roleplay import play

    course = compile_sources(course_sources)
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
        # every way through the conversation passes at least three decisions
        paths = [[]]
        finished = []
        while paths:
            path = paths.pop()
            state = play(scenario, path)
            if state.finished:
                finished.append(path)
            elif len(path) < 30:
                paths += [path + [c.id] for c in state.node.choices]
        assert finished and min(len(p) for p in finished) >= 3, scenario.id


def test_case_figures_are_taught_as_in_the_sources(course_sources):
    course = compile_sources(course_sources)
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
        ("---\nid: x\ntitle: t\norder: 1\n---\nbody\n", "lessons/m1/x.md:1: missing required field 'minutes'"),
        ("---\nid: Bad_Id\ntitle: t\norder: 1\nminutes: 5\n---\nbody\n", "lessons/m1/x.md:2: 'id' must be lowercase"),
        ("---\nid: x\ntitle: t\norder: first\nminutes: 5\n---\nbody\n", "lessons/m1/x.md:4: 'order' must be a whole number"),
        ("---\nid: x\nid: y\ntitle: t\norder: 1\nminutes: 5\n---\nbody\n", "lessons/m1/x.md:3: field 'id' is given twice"),
        (lesson(body="\n\n"), "lessons/m1/x.md:1: the lesson has no text"),
        (lesson(body="text\n\n![x](https://cdn.example.com/a.png)\n"), "lessons/m1/x.md:9: image from another site"),
    ],
)
def test_broken_lesson_is_reported_with_file_and_line(text, expected):
    assert any(error.startswith(expected) for error in errors_of(sources(x=text))), expected


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
    assert "<script" not in html and "alert('x')" not in html
    assert "onerror" not in html and "onclick" not in html and "javascript:" not in html


def test_trainer_markdown_features_render():
    html = render(
        "## 标题\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n"
        "!!! tip \"提示\"\n    内容\n\n脚注[^1]\n\n[^1]: 说明\n"
    )
    assert '<h2 id="标题">' in html
    assert "<table>" in html and "<pre><code>code" in html
    assert 'class="admonition tip"' in html and 'class="footnote"' in html


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
