"""The three journeys in a real browser (Debian's Chromium driven by Playwright), as a new user goes
through them: a trainee earns the certificate, a trainer changes a lesson, HR follows a department.
Then the language a user picks, and the trainee's pages with JavaScript switched off."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO

import pytest
from browser_support import BROWSER_MARKS, chromium, log_in, serve
from conftest import PASSWORD, make_app
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select, update
from test_staff_import import staff_csv

from courseware.cli import create_user
from courseware.content import Course
from courseware.extensions import db
from courseware.hr import assignments
from courseware.learning import records
from courseware.learning.roleplay import model_path
from courseware.models import Certificate, Role, User, utcnow
from courseware.publishing import LiveCourse, live_course, publish

pytestmark = BROWSER_MARKS

LEARNER = "learner@example.com"


@dataclass(frozen=True)
class Site:
    url: str
    app: Flask

    def course(self) -> Course:
        with self.app.app_context():
            return live_course().course

    def today(self) -> date:
        """Today where the organisation is, as the app dates things."""
        with self.app.app_context():
            return assignments.today()


@pytest.fixture
def site(tmp_path, course_sources):
    app = make_app(f"sqlite:///{tmp_path / 'browser.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        publish(course_sources)
        create_user(LEARNER, "王小明", {Role.TRAINEE}, "销售部", PASSWORD)
        create_user("hr@example.com", "人事小赵", {Role.HR}, "人力资源部", PASSWORD)
        create_user("trainer@example.com", "讲师老陈", {Role.TRAINER}, "人力资源部", PASSWORD)
    with serve(app) as url:
        yield Site(url, app)


@pytest.fixture
def open_page():
    """Open pages, each in a fresh browser context: its own cookies, as another person or device would."""
    errors: list[str] = []
    with chromium() as browser:

        def new_page(**context_options):
            page = browser.new_context(**context_options).new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            return page

        yield new_page
    assert errors == [], errors


def bar(page, label: str) -> int:
    return int(page.get_by_label(label).first.get_attribute("value"))


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


def pass_quiz_in_browser(page, quiz) -> None:
    page.get_by_role("button", name="开始测验").click()
    for question in quiz.questions:
        answer_in_browser(page, question)
    page.get_by_role("button", name="提交答案").click()
    page.get_by_role("heading", name="已通过 · 100%").wait_for()


def play_in_browser(page, scenario) -> None:
    page.get_by_role("button", name="开始对话").click()
    path = model_path(scenario)
    for step in path.steps:
        page.locator(f"button.choice-button[value='{step.choice.id}']").click()
    page.get_by_role("heading", level=1, name=path.node.ending.title).wait_for()


def _do_lesson(user: User, live: LiveCourse, lesson_id: str) -> None:
    records.complete_lesson(user, live, live.course.lesson(lesson_id))


def _do_scenario(user: User, live: LiveCourse, scenario_id: str) -> None:
    scenario = live.course.scenario(scenario_id)
    run = records.start_run(user, live, scenario)
    for step, taken in enumerate(model_path(scenario).steps):
        records.choose(user, live, run, scenario, step, taken.choice.id)


def _do_quiz(user: User, live: LiveCourse, quiz_id: str) -> None:
    quiz = live.course.quiz(quiz_id)
    attempt = records.start_attempt(user, live, quiz)
    records.submit_attempt(user, live, attempt, quiz, {q.id: q.correct_answer() for q in quiz.questions})


DO = {"lesson": _do_lesson, "scenario": _do_scenario, "quiz": _do_quiz}


def finish_earlier(site: Site, email: str, leave: set[str]) -> None:
    """Do every activity of the course but those in `leave`, through records, as in earlier sessions."""
    with site.app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        live = live_course()
        for activity in live.course.activities:
            if activity.id not in leave:
                DO[activity.kind](user, live, activity.id)


def test_trainee_continues_where_they_left_off_and_earns_the_certificate(site, open_page):
    """The trainee's journey to the certificate.

    To keep the test quick, the other modules were finished earlier (through records); the first module
    (three lessons, a role-play and a quiz) and the final assessment are done here in the browser.
    """
    course = site.course()
    first = course.modules[0]
    finish_earlier(site, LEARNER, {a.id for a in course.activities_of(first)} | {course.final_quiz_id})
    page = open_page()

    log_in(page, site.url)
    before = bar(page, "课程进度")
    page.get_by_role("link", name="继续学习").click()
    page.get_by_role("heading", level=1, name="内部客户的定义").wait_for()  # the first activity not yet done
    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_text("本课已完成。").wait_for()
    page.get_by_role("link", name="下一课").click()
    page.get_by_role("heading", level=1, name="三类内部客户").wait_for()
    page.get_by_role("button", name="退出").click()  # leaves half-way through the second lesson

    log_in(page, site.url)
    assert bar(page, "课程进度") > before
    page.get_by_role("link", name="继续学习").click()
    page.get_by_role("heading", level=1, name="三类内部客户").wait_for()
    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_text("本课已完成。").wait_for()
    page.get_by_role("link", name="下一课").click()
    page.get_by_role("heading", level=1, name="内部客户的四个特征").wait_for()
    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_text("本课已完成。").wait_for()

    for activity in course.activities_of(first)[3:]:
        page.get_by_role("link", name="课程", exact=True).click()
        page.get_by_role("link", name="继续学习").click()
        page.get_by_role("heading", level=1, name=activity.title).wait_for()
        if activity.kind == "scenario":
            play_in_browser(page, course.scenario(activity.id))
        else:
            pass_quiz_in_browser(page, course.quiz(activity.id))
    page.get_by_role("link", name="返回模块").click()
    assert bar(page, "模块进度") == 100

    page.get_by_role("link", name="课程", exact=True).click()
    page.get_by_role("link", name="继续学习").click()
    page.get_by_role("heading", level=1, name=course.final_quiz.title).wait_for()
    pass_quiz_in_browser(page, course.final_quiz)
    page.get_by_role("link", name="返回课程").click()
    page.get_by_text("你已完成本课程。").wait_for()
    assert bar(page, "课程进度") == 100

    page.get_by_role("link", name="查看我的进度").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载证书（PDF）").click()
    code = page.locator("a[href^='/verify/']").inner_text()
    assert download.value.suggested_filename == f"certificate-{code}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    visitor = open_page()  # anyone the learner shows the certificate to, not logged in
    visitor.goto(f"{site.url}/verify/{code}")
    visitor.get_by_role("heading", level=1, name="王小明").wait_for()
    assert visitor.get_by_text("证书真实有效").is_visible()
    assert visitor.get_by_role("main").get_by_text(course.title, exact=True).is_visible()
    assert visitor.get_by_text(f"有效期至 {site.today() + timedelta(days=course.valid_for_days)}").is_visible()

    with site.app.app_context():  # a year on, the certificate has lapsed
        db.session.execute(
            update(Certificate).where(Certificate.code == code).values(expires_at=utcnow() - timedelta(days=1))
        )
        db.session.commit()
    visitor.reload()
    visitor.get_by_text(str(site.today() - timedelta(days=1))).wait_for()
    assert not visitor.get_by_text("证书真实有效").is_visible()


OLD_SENTENCE = "他们，就是你的内部客户。"
NEW_SENTENCE = "他们，就是你的内部客户——讲师在工作室里改写了这句话。"


def test_trainer_edits_a_lesson_with_preview_publishes_and_a_trainee_sees_it(site, open_page):
    trainee = open_page()
    log_in(trainee, site.url)
    trainee.goto(site.url + "/lessons/ic-definition")
    trainee.get_by_role("button", name="标记为已完成").click()
    trainee.get_by_text("本课已完成。").wait_for()

    trainer = open_page()
    log_in(trainer, site.url, "trainer@example.com")
    trainer.get_by_role("link", name="课程工作室").click()
    trainer.get_by_role("link", name="01-definition.md").click()
    source = trainer.locator("#text")
    original = source.input_value()

    source.fill(original.replace("minutes: 9", "minutes: nine"))
    error = trainer.locator("#preview .preview-errors a.error-line")
    error.wait_for()
    assert error.inner_text() == "第 5 行"
    error.click()
    assert trainer.locator("#cursor-line").inner_text().startswith("第 5 行")

    source.fill(original.replace("他们，就是你的**内部客户**。", "他们，就是你的**内部客户**——讲师在工作室里改写了这句话。"))
    trainer.locator("#preview").get_by_text("讲师在工作室里改写了这句话").wait_for()
    assert trainer.locator("#preview .preview-errors a.error-line").count() == 0
    trainer.get_by_role("button", name="保存草稿").click()
    trainer.get_by_text("草稿已保存").wait_for()
    trainee.reload()
    assert trainee.get_by_text(OLD_SENTENCE).is_visible()  # a draft is not for learners yet

    trainer.get_by_role("link", name="草稿与发布").click()
    trainer.get_by_label("修改说明").fill("改写内部客户的定义")
    trainer.get_by_role("button", name="发布给学员").click()
    trainer.get_by_text("已发布第 2 版").wait_for()

    trainee.reload()
    assert trainee.get_by_text(NEW_SENTENCE).is_visible()
    assert trainee.get_by_text("你已完成本课。").is_visible()

    trainer.get_by_role("link", name="版本历史").click()
    trainer.get_by_role("row", name="1").get_by_role("link", name="回滚到此版本").click()
    trainer.get_by_role("button", name="回滚到第 1 版").click()
    trainer.get_by_text("第 1 版重新上线").wait_for()

    trainee.reload()
    assert trainee.get_by_text(OLD_SENTENCE).is_visible()
    assert trainee.get_by_text("你已完成本课。").is_visible()


def completed_of_assignment(page) -> tuple[int, int]:
    """(completed, assigned) on the dashboard's one assignment."""
    text = page.locator(".assignment-line").inner_text()
    total, done = re.search(r"(\d+) 人中已完成 (\d+) 人", text).groups()
    return int(done), int(total)


def test_hr_imports_staff_assigns_watches_the_dashboard_filters_exports_and_reads_a_transcript(
    site, open_page, tmp_path
):
    """HR's journey. 王小明 of 销售部 did all but the last lesson earlier (through records) and
    finishes it in their own browser while HR watches the dashboard."""
    course = site.course()
    last_lesson = course.lessons[-1]
    finish_earlier(site, LEARNER, {last_lesson.id})
    hr = open_page()
    log_in(hr, site.url, "hr@example.com")
    hr.get_by_role("link", name="人力资源", exact=True).click()

    upload = tmp_path / "staff.csv"
    upload.write_bytes(staff_csv())
    hr.get_by_role("link", name="导入员工").click()
    hr.get_by_label("员工文件").set_input_files(str(upload))
    hr.get_by_role("button", name="预览").click()
    hr.get_by_text("“not-an-email”不是有效的邮箱地址").wait_for()
    hr.get_by_role("button", name="导入 199 人").click()
    hr.get_by_text("该文件已导入。 新建 199 人").wait_for()

    hr.get_by_role("link", name="学习任务").click()
    hr.get_by_label("部门（含下属部门）").select_option(label="销售部")
    hr.get_by_label("截止日期").fill("2099-12-31")
    hr.get_by_role("button", name="分配", exact=True).click()
    hr.get_by_text("已分配").first.wait_for()

    hr.get_by_role("link", name="总览").click()
    assert hr.locator("svg.bar-chart").is_visible()
    done, assigned = completed_of_assignment(hr)
    assert done == 0 and assigned > 1

    learner = open_page()
    log_in(learner, site.url)
    learner.get_by_role("link", name="继续学习").click()
    learner.get_by_role("heading", level=1, name=last_lesson.title).wait_for()
    learner.get_by_role("button", name="标记为已完成").click()
    learner.get_by_text("本课已完成。").wait_for()

    hr.reload()
    assert completed_of_assignment(hr) == (1, assigned)
    recent = hr.locator("section", has=hr.get_by_role("heading", name="最近完成")).get_by_role("listitem").first
    assert "王小明" in recent.inner_text() and course.title in recent.inner_text()

    hr.get_by_role("link", name="学员", exact=True).click()
    hr.get_by_label("部门", exact=True).select_option(label="销售部 › 华东区")
    hr.get_by_role("button", name="筛选").click()
    hr.get_by_text("40 名学员").wait_for()  # the filtered page, not the one before it
    hr.get_by_label("部门", exact=True).select_option(label="销售部")
    hr.get_by_label("状态").select_option(label="已完成")
    hr.get_by_role("button", name="筛选").click()
    hr.get_by_text("1 名学员").wait_for()

    today = site.today().isoformat()
    with hr.expect_download() as download:
        hr.get_by_role("link", name="导出 CSV").click()
    with open(download.value.path(), encoding="utf-8-sig") as exported:
        header, *rows = list(csv.reader(exported))
    assert [row[:4] for row in rows] == [["王小明", "", LEARNER, "销售部"]]  # no employee ID on file
    assert dict(zip(header, rows[0]))["完成日期"] == today
    with hr.expect_download() as download:
        hr.get_by_role("link", name="导出 Excel").click()
    with open(download.value.path(), "rb") as exported:
        header, *rows = load_workbook(BytesIO(exported.read())).active.iter_rows(values_only=True)
    assert [row[:4] for row in rows] == [("王小明", None, LEARNER, "销售部")]
    assert dict(zip(header, rows[0]))["完成日期"].date().isoformat() == today  # a date cell

    hr.get_by_role("link", name="王小明").click()
    hr.get_by_role("heading", level=1, name="王小明").wait_for()
    assert "已完成" in hr.locator("tr.row-course").inner_text()
    final = course.final_quiz
    hr.get_by_role("link", name=f"{final.title} · 第 1 次作答").click()
    hr.get_by_role("heading", level=1, name=final.title).wait_for()
    first_question = hr.locator(".review-list > li").first
    assert "作答：" in first_question.inner_text()
    assert final.questions[0].describe(final.questions[0].correct_answer())[0] in first_question.inner_html()


def test_the_language_a_user_picks_follows_them_to_another_browser(site, open_page):
    laptop = open_page()
    log_in(laptop, site.url)
    laptop.get_by_role("button", name="English").click()
    laptop.get_by_role("link", name="Start the course").wait_for()
    assert laptop.locator("html").get_attribute("lang") == "en"
    laptop.get_by_role("button", name="Log out").click()

    phone = open_page()
    log_in(phone, site.url)  # a new browser knows nothing of the choice until the user logs in
    phone.get_by_role("link", name="Start the course").wait_for()
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.get_by_role("link", name="My progress").is_visible()
    phone.get_by_role("button", name="中文").click()
    phone.get_by_role("link", name="开始学习").wait_for()
    assert phone.locator("html").get_attribute("lang") == "zh-CN"


def test_a_trainee_reads_answers_and_plays_with_javascript_switched_off(site, open_page):
    course = site.course()
    page = open_page(java_script_enabled=False)
    log_in(page, site.url)
    page.get_by_role("link", name="开始学习").click()
    page.get_by_role("heading", level=1, name="内部客户的定义").wait_for()
    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_text("本课已完成。").wait_for()
    assert bar(page, "模块进度") == round(100 / len(course.activities_of(course.modules[0])))  # one activity done

    quiz = course.quiz("quiz-what-is-internal-customer")
    page.get_by_role("link", name=course.modules[0].title).first.click()
    page.get_by_role("link", name=quiz.title).click()
    page.get_by_role("button", name="开始测验").click()
    first, *others = quiz.questions
    answer_in_browser(page, first)
    page.get_by_role("button", name="保存，稍后完成").click()
    page.get_by_text("答案已保存").wait_for()
    assert first.kind == "single" and page.locator(f"fieldset#{first.field()} input:checked").count() == 1
    for question in others:
        answer_in_browser(page, question)
    page.get_by_role("button", name="提交答案").click()
    page.get_by_role("heading", name="已通过 · 100%").wait_for()

    scenario = course.scenario("scenario-urgent-task")
    page.get_by_role("link", name="返回模块").click()
    page.get_by_role("link", name=scenario.title).click()
    page.get_by_role("button", name="开始对话").click()
    step = model_path(scenario).steps[0]
    page.locator(f"button.choice-button[value='{step.choice.id}']").click()
    feedback = page.get_by_role("complementary", name="反馈")
    feedback.wait_for()
    assert page.locator("button.choice-button").count() >= 2
