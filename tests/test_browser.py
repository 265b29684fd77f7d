"""A trainee in a real browser (Debian's Chromium driven by Playwright)."""
from __future__ import annotations

import pytest
from browser_support import BROWSER_MARKS, launch, log_in, serve
from conftest import PASSWORD, make_app

from courseware.cli import create_user
from courseware.models import Role
from courseware.publishing import publish

pytestmark = BROWSER_MARKS


@pytest.fixture
def live_server(tmp_path, course_sources):
    app = make_app(f"sqlite:///{tmp_path / 'browser.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        publish(course_sources)
        create_user("learner@example.com", "王小明", {Role.TRAINEE}, "销售部", PASSWORD)
        create_user("hr@example.com", "人事小赵", {Role.HR}, "人力资源部", PASSWORD)
        create_user("trainer@example.com", "讲师老陈", {Role.TRAINER}, "人力资源部", PASSWORD)
    with serve(app) as base:
        yield base


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        yield page
        browser.close()
        assert errors == [], errors


def bar(page, label: str) -> int:
    return int(page.get_by_label(label).first.get_attribute("value"))


def test_trainee_reads_a_lesson_marks_it_complete_and_sees_the_bar_move(live_server, page):
    page.goto(live_server + "/")
    page.get_by_label("邮箱").fill("learner@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    assert bar(page, "课程进度") == 0
    page.get_by_role("link", name="开始学习").click()
    page.get_by_role("heading", level=1, name="内部客户的定义").wait_for()
    assert page.get_by_role("heading", name="职场示例").is_visible()
    assert bar(page, "模块进度") == 0

    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_text("本课已完成。").wait_for()
    assert bar(page, "模块进度") == 20  # 1 of 3 lessons, a role-play and a quiz

    page.get_by_role("link", name="下一课").click()
    page.get_by_role("heading", level=1, name="三类内部客户").wait_for()
    page.get_by_role("link", name="课程", exact=True).click()
    assert bar(page, "课程进度") == 3  # 1 of 37 activities
    assert page.get_by_role("link", name="继续学习").is_visible()

    page.get_by_role("button", name="退出").click()
    page.get_by_label("邮箱").fill("learner@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    assert bar(page, "课程进度") == 3


def answer_in_browser(page, question):
    """Fill in the right answer the way a learner would: click, pick, type."""
    answer = question.correct_answer()
    fieldset = page.locator(f"fieldset#{question.field()}")
    if question.kind == "single":
        fieldset.locator(f"input[value='{answer}']").check()
    elif question.kind == "multiple":
        for option_id in answer:
            fieldset.locator(f"input[value='{option_id}']").check()
    elif question.kind == "true_false":
        fieldset.get_by_label("正确" if answer else "错误").check()
    elif question.kind == "ordering":
        for position, item_id in enumerate(answer, 1):
            page.locator(f"#{question.field(item_id)}").select_option(str(position))
    elif question.kind == "matching":
        for left_id, right_id in answer.items():
            page.locator(f"#{question.field(left_id)}").select_option(right_id)
    else:
        fieldset.get_by_role("textbox").fill(answer)


def test_trainee_passes_a_quiz_and_plays_a_scenario_to_its_ending(live_server, page, course_sources):
    from courseware.content import compile_sources
    from courseware.roleplay import model_path

    course = compile_sources(course_sources)
    quiz = course.quiz("quiz-why-it-matters")
    log_in(page, live_server)

    page.goto(live_server + f"/quizzes/{quiz.id}")
    page.get_by_role("button", name="开始测验").click()
    for question in quiz.questions:
        answer_in_browser(page, question)
    page.get_by_text("已保存").wait_for()  # saved on the server as the learner went
    page.reload()
    page.get_by_role("button", name="提交答案").click()
    page.get_by_role("heading", name="已通过 · 100%").wait_for()

    scenario = course.scenario("scenario-defect-handoff")
    page.goto(live_server + f"/scenarios/{scenario.id}")
    page.get_by_role("button", name="开始对话").click()
    for step in model_path(scenario).steps:
        page.locator(f"button.choice-button[value='{step.choice.id}']").click()
    ending = model_path(scenario).node.ending
    page.get_by_role("heading", level=1, name=ending.title).wait_for()
    assert page.locator("svg.profile-chart").is_visible()
    page.get_by_role("button", name="重新演练").click()
    assert page.locator("button.choice-button").count() >= 2


def test_hr_imports_assigns_filters_exports_and_checks_a_certificate(live_server, page, course_sources, tmp_path):
    import csv as csv_module

    from test_staff_import import staff_csv

    from courseware.content import compile_sources

    course = compile_sources(course_sources)
    # a learner who has finished everything, so there is a transcript and a certificate to check
    log_in(page, live_server)
    for lesson in course.lessons:
        page.goto(live_server + f"/lessons/{lesson.id}")
        page.get_by_role("button", name="标记为已完成").click()
    from courseware.roleplay import model_path

    for scenario in course.scenarios:
        page.goto(live_server + f"/scenarios/{scenario.id}")
        page.get_by_role("button", name="开始对话").click()
        for step in model_path(scenario).steps:
            page.locator(f"button.choice-button[value='{step.choice.id}']").click()
    for quiz in course.quizzes:
        page.goto(live_server + f"/quizzes/{quiz.id}")
        page.get_by_role("button", name="开始测验").click()
        for question in quiz.questions:
            answer_in_browser(page, question)
        page.get_by_role("button", name="提交答案").click()
    page.goto(live_server + "/progress")
    code = page.locator("a[href^='/verify/']").first.inner_text()
    page.get_by_role("button", name="退出").click()

    page.get_by_label("邮箱").fill("hr@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="人力资源", exact=True).click()

    upload = tmp_path / "staff.csv"
    upload.write_bytes(staff_csv())
    page.get_by_role("link", name="导入员工").click()
    page.get_by_label("员工文件").set_input_files(str(upload))
    page.get_by_role("button", name="预览").click()
    page.get_by_text("'not-an-email' is not a valid email address").wait_for()
    page.get_by_role("button", name="导入 199 人").click()
    page.get_by_text("导入完成：新建 199 人").wait_for()

    page.get_by_role("link", name="学习任务").click()
    page.get_by_label("部门（含下属部门）").select_option(label="销售部")
    page.get_by_label("截止日期").fill("2099-12-31")
    page.get_by_role("button", name="分配", exact=True).click()
    page.get_by_text("已分配").first.wait_for()

    page.get_by_role("link", name="总览").click()
    assert page.locator("svg.bar-chart").is_visible()

    page.get_by_role("link", name="学员", exact=True).click()
    page.get_by_label("部门", exact=True).select_option(label="销售部 › 华东区")
    page.get_by_role("button", name="筛选").click()
    assert page.get_by_text("40 名学员").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    with open(download.value.path(), encoding="utf-8-sig") as exported:
        rows = list(csv_module.reader(exported))
    assert len(rows) == 41 and all(row[2] == "华东区" for row in rows[1:])
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    from io import BytesIO

    from openpyxl import load_workbook

    with open(download.value.path(), "rb") as exported:
        assert load_workbook(BytesIO(exported.read())).active.max_row == 41

    page.get_by_label("部门", exact=True).select_option(label="销售部")
    page.get_by_label("姓名或邮箱").fill("learner@example.com")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name="王小明").click()
    page.locator("a[href*='/attempts/']").first.click()
    assert page.get_by_text("作答：").first.is_visible()

    page.goto(live_server + f"/verify/{code}")
    page.get_by_role("heading", name="王小明").wait_for()
    assert page.get_by_text("内部客户服务意识").first.is_visible()


OLD_SENTENCE = "他们，就是你的内部客户。"
NEW_SENTENCE = "他们，就是你的内部客户——讲师在工作室里改写了这句话。"


def test_trainer_edits_a_lesson_with_preview_publishes_and_rolls_back(live_server, page):
    log_in(page, live_server)
    page.goto(live_server + "/lessons/ic-definition")
    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_text("本课已完成。").wait_for()
    page.get_by_role("button", name="退出").click()

    log_in(page, live_server, "trainer@example.com")
    page.get_by_role("link", name="课程工作室").click()
    page.get_by_role("link", name="01-definition.md").click()
    source = page.locator("#text")
    original = source.input_value()

    source.fill(original.replace("minutes: 9", "minutes: nine"))
    error = page.locator("#preview a.error-line")
    error.wait_for()
    assert error.inner_text() == "第 5 行"
    error.click()
    assert page.locator("#cursor-line").inner_text().startswith("第 5 行")

    source.fill(original.replace("他们，就是你的**内部客户**。", "他们，就是你的**内部客户**——讲师在工作室里改写了这句话。"))
    page.locator("#preview").get_by_text("讲师在工作室里改写了这句话").wait_for()
    assert page.locator("#preview a.error-line").count() == 0
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_text("草稿已保存").wait_for()

    page.get_by_role("link", name="草稿与发布").click()
    page.get_by_label("修改说明").fill("改写内部客户的定义")
    page.get_by_role("button", name="发布给学员").click()
    page.get_by_text("已发布第 2 版").wait_for()
    page.get_by_role("button", name="退出").click()

    log_in(page, live_server)
    page.goto(live_server + "/lessons/ic-definition")
    assert page.get_by_text(NEW_SENTENCE).is_visible()
    assert page.get_by_text("你已完成本课。").is_visible()
    page.get_by_role("button", name="退出").click()

    log_in(page, live_server, "trainer@example.com")
    page.goto(live_server + "/studio/revisions")
    page.get_by_role("row", name="1").get_by_role("link", name="回滚到此版本").click()
    page.get_by_role("button", name="回滚到第 1 版").click()
    page.get_by_text("第 1 版重新上线").wait_for()
    page.get_by_role("button", name="退出").click()

    log_in(page, live_server)
    page.goto(live_server + "/lessons/ic-definition")
    assert page.get_by_text(OLD_SENTENCE).is_visible()
    assert page.get_by_text("你已完成本课。").is_visible()
