"""English titles (`title_en`): optional in every file with a title, checked, and sent to an LRS beside the Chinese."""
from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from conftest import LESSONS, pass_quiz
from test_xapi import basic, check_statement

from courseware.content import compile_sources, decode_sources
from courseware.content.errors import CourseInvalid
from courseware.content.lint import lint
from courseware.content.model import Course
from courseware.models import Role
from courseware.publishing import live_course, publish
from courseware.studio import drafts

LESSON = "lessons/01-what-is-internal-customer/01-definition.md"
QUIZ = "quizzes/quiz-why-it-matters.yaml"
SCENARIO = "quizzes/scenario-rush-order.yaml"
TITLE = {LESSON: "title: 内部客户的定义：谁在“用”你的工作成果\n", QUIZ: "title: 为什么重要 · 小测\n", SCENARIO: "title: 紧急插单：销售与生产\n"}


def with_title_en(files: dict[str, str], path: str, line: str) -> dict[str, str]:
    """`files` with `line` written just after the title of the file at `path`."""
    assert TITLE[path] in files[path]
    return {**files, path: files[path].replace(TITLE[path], TITLE[path] + line + "\n", 1)}


def line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


@pytest.fixture
def files(course_sources) -> dict[str, str]:
    return decode_sources(course_sources)[0]


@pytest.fixture
def english(files) -> dict[str, str]:
    """The test course with English titles on one lesson and one quiz (quoted: the title holds ': ')."""
    files = with_title_en(files, LESSON, 'title_en: "Defining Internal Customers: Who Uses Your Work"')
    return with_title_en(files, QUIZ, "title_en: Why It Matters · Quiz")


def test_english_titles_are_compiled_and_kept_through_the_published_form(english):
    course = compile_sources(english)
    assert course.lesson("ic-definition").title_en == "Defining Internal Customers: Who Uses Your Work"
    assert course.quiz("quiz-why-it-matters").title_en == "Why It Matters · Quiz"
    assert dict(course.titles_en) == {"ic-definition": "Defining Internal Customers: Who Uses Your Work",
                                      "quiz-why-it-matters": "Why It Matters · Quiz"}
    assert course.titles["ic-definition"] == "内部客户的定义：谁在“用”你的工作成果", "the Chinese title stays the title"
    assert Course.from_dict(course.to_dict()).titles_en == course.titles_en


def test_statements_name_an_activity_in_chinese_and_in_english_when_it_has_an_english_title(
    app, client, english, make_user, login,
):
    with app.app_context():
        publish(english)
    login(make_user()[1])
    with app.test_request_context():
        course = live_course().course
    client.post("/lessons/ic-definition/complete")
    pass_quiz(client, course.quiz("quiz-why-it-matters"))
    client.post("/lessons/ic-three-kinds/complete")
    client.post("/logout")
    _, hr_email = make_user(Role.HR)
    statements = client.get("/xapi/statements?limit=500", headers=basic(hr_email)).get_json()["statements"]
    names = {s["object"]["id"]: s["object"]["definition"].get("name") for s in statements}
    assert names["urn:courseware:lesson:ic-definition"] == {
        "zh-CN": "内部客户的定义：谁在“用”你的工作成果", "en-US": "Defining Internal Customers: Who Uses Your Work"}
    assert names["urn:courseware:quiz:quiz-why-it-matters"] == {"zh-CN": "为什么重要 · 小测", "en-US": "Why It Matters · Quiz"}
    assert names["urn:courseware:lesson:ic-three-kinds"] == {"zh-CN": "三类内部客户：层级、职能、工序"}, "no English title: Chinese alone"
    for s in statements:
        check_statement(s)


@pytest.mark.parametrize("path", [LESSON, QUIZ, SCENARIO])
@pytest.mark.parametrize(("value", "reason"), [
    ("[Defining, Internal Customers]", "'title_en' must be non-empty text"),
    ('""', "'title_en' must be non-empty text"),
    ("'   '", "'title_en' must be non-empty text"),
    ("42", "'title_en' must be non-empty text"),
    ("|\n  Defining Internal Customers\n  Who Uses Your Work", "'title_en' must be on one line"),
])
def test_an_english_title_that_is_not_one_line_of_text_is_refused_at_its_line(files, path, value, reason):
    broken = with_title_en(files, path, f"title_en: {value}")
    with pytest.raises(CourseInvalid) as refused:
        compile_sources(broken)
    [error] = refused.value.errors
    assert (error.path, error.line, error.reason) == (path, line_of(broken[path], "title_en:"), reason)


def test_the_lint_asks_for_the_english_titles_a_course_lacks_once_it_has_some(files, english):
    assert [w for w in lint(compile_sources(files), files) if w.code == "missing-title-en"] == [], "a course without any: no warning"
    missing = {(w.path, w.line, dict(w.params)["id"]) for w in lint(compile_sources(english), english) if w.code == "missing-title-en"}
    assert ("lessons/course.md", 3, "internal-customer-service") in missing
    assert (SCENARIO, line_of(files[SCENARIO], "title:"), "scenario-rush-order") in missing
    assert not {path for path, _, _ in missing} & {LESSON, QUIZ}
    assert len(missing) == len(compile_sources(english).titles) - 2


def test_every_shipped_title_has_an_english_one_and_the_strict_check_passes(app, shipped_course_sources):
    course = compile_sources(shipped_course_sources)
    assert set(course.titles_en) == set(course.titles)
    assert all(aid.title_en for aid in course.aids)
    checked = app.test_cli_runner().invoke(args=["content", "check", str(LESSONS), "--lint", "--strict"])
    assert checked.exit_code == 0, checked.output
    assert "0 warning(s) from the lint." in checked.output


def test_the_english_title_survives_the_zip_and_the_editor(app, client, english, make_user, login):
    with app.app_context():
        publish(english)
    login(make_user(Role.TRAINER)[1])
    download = client.get("/studio/download/course.zip")
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert 'title_en: "Defining Internal Customers: Who Uses Your Work"' in archive.read(LESSON).decode()
    upload = {"file": (io.BytesIO(download.data), "course.zip"), "folder": ""}
    assert client.post("/studio/upload", data=upload, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        assert drafts.drafts() == [], "the same files, English titles included, make no draft"

    page = client.get(f"/studio/files/{SCENARIO}")
    source = html.unescape(re.search(r'<textarea[^>]*name="text"[^>]*>\n?(.*?)</textarea>', page.text, re.S).group(1))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page.text).group(1)
    edited = source.replace(TITLE[SCENARIO], TITLE[SCENARIO] + "title_en: 'A Rush Order: Sales and Production'\n")
    preview = client.post("/studio/preview", data={"text": edited, "version": version, "path": SCENARIO})
    assert "preview-errors" not in preview.text
    saved = client.post(f"/studio/files/{SCENARIO}", data={"text": edited, "version": version, "action": "save"})
    assert saved.status_code == 302
    with app.app_context():
        assert "title_en: 'A Rush Order: Sales and Production'" in drafts.draft_of(SCENARIO).text
        assert drafts.check(drafts.working_files()).course.scenario("scenario-rush-order").title_en == "A Rush Order: Sales and Production"

