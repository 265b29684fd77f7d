"""Everyone can use it: axe-core on every key page at phone and desktop width, the keyboard alone, lang.

axe-core is served from tests/vendor (never a CDN) and evaluated through the browser's debugging
protocol, so the app's Content-Security-Policy stays on while the pages are checked.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import BROWSER_MARKS, chromium, serve
from conftest import PASSWORD, ROOT, mailed_link, make_app
from flask import Flask
from sqlalchemy import select

from courseware.cli import create_user
from courseware.extensions import db
from courseware.learning import records
from courseware.learning.roleplay import model_path
from courseware.models import Certificate, Role
from courseware.publishing import live_course, publish
from courseware.studio import drafts

pytestmark = BROWSER_MARKS

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}
BLOCKING = {"serious", "critical"}

QUESTION_TYPES = ROOT / "templates" / "quizzes" / "types"
QUIZ = "quiz-why-it-matters"  # it has every question type
SCENARIO = "scenario-defect-handoff"
OPEN_SCENARIO = "scenario-urgent-task"  # a finished learner is part-way through a replay of this one
LESSON_FILE = "lessons/01-what-is-internal-customer/01-definition.md"
MODULE = "what-is-internal-customer"

# Text with Chinese characters whose nearest lang is not zh-CN: read aloud with the wrong voice.
MISLABELLED_CHINESE = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const wrong = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const lang = node.parentElement.closest("[lang]").getAttribute("lang");
    if (/[\\u4e00-\\u9fff]/.test(node.data) && lang !== "zh-CN") { wrong.push(node.data.trim().slice(0, 30)); }
  }
  return wrong;
}"""


@dataclass(frozen=True)
class Learner:
    """A learner who finished the course after failing a quiz once, with a quiz and a role-play open."""

    id: int
    failed_attempt: str
    open_attempt: str
    finished_run: str
    open_run: str
    certificate: str


@dataclass(frozen=True)
class Site:
    base: str
    graduate: Learner
    english: Learner
    app: Flask


def _play(user, live, scenario, choices) -> str:
    run = records.start_run(user, live, scenario, fresh=True)
    for step, choice_id in enumerate(choices):
        records.choose(user, live, run, scenario, step, choice_id)
    return run.id


def _graduate(user) -> Learner:
    live = live_course()
    course, quiz = live.course, live.course.quiz(QUIZ)
    failed = records.start_attempt(user, live, quiz)
    records.submit_attempt(user, live, failed, quiz, {})
    for lesson in course.lessons:
        records.complete_lesson(user, live, lesson)
    runs = {s.id: _play(user, live, s, [step.choice.id for step in model_path(s).steps]) for s in course.scenarios}
    for each in course.quizzes:
        attempt = records.start_attempt(user, live, each)
        records.submit_attempt(user, live, attempt, each, {q.id: q.correct_answer() for q in each.questions})
    open_attempt = records.start_attempt(user, live, quiz)
    scenario = course.scenario(OPEN_SCENARIO)
    open_run = _play(user, live, scenario, [model_path(scenario).steps[0].choice.id])
    certificate = db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)).one()
    return Learner(user.id, failed.id, open_attempt.id, runs[SCENARIO], open_run, certificate.code)


@pytest.fixture(scope="module")
def site(tmp_path_factory, course_sources):
    """One live server for the module: the course in its second revision with a draft, and its people."""
    tmp = tmp_path_factory.mktemp("a11y")
    app = make_app(f"sqlite:///{tmp / 'a11y.db'}", tmp / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        publish(course_sources)
        create_user("newcomer@example.com", "新同事", {Role.TRAINEE}, "销售部", PASSWORD)
        create_user("keyboard@example.com", "键盘用户", {Role.TRAINEE}, "销售部", PASSWORD)
        staff = create_user("admin@example.com", "管理员", set(Role), "人力资源部", PASSWORD)
        graduate = create_user("graduate@example.com", "王小明", {Role.TRAINEE}, "销售部", PASSWORD)
        english = create_user("english@example.com", "Alex Wang", {Role.TRAINEE}, "销售部", PASSWORD)
        english.locale = "en"
        db.session.commit()
        learners = {"graduate": _graduate(graduate), "english": _graduate(english)}
        live_text = drafts.file_text(drafts.live_revision_id(), LESSON_FILE)
        drafts.save(LESSON_FILE, live_text + "\n再读一遍。\n", staff, 0)
        drafts.publish_drafts(staff, "补一句")
        drafts.save(LESSON_FILE, live_text + "\n第三遍。\n", staff, 0)
    with serve(app) as base:
        yield Site(base=base, app=app, **learners)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def log_in(page, site, email):
    page.context.clear_cookies()
    page.goto(site.base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


class Audit:
    """Run axe on pages at both widths and collect what would stop someone from using them."""

    def __init__(self, page, site):
        self.page, self.site = page, site
        self.problems: list[str] = []

    def visit(self, path: str, lang: str = "zh-CN", status: int = 200) -> None:
        response = self.page.goto(self.site.base + path)
        assert response.status == status, path
        self.check(path, lang)

    def check(self, name: str, lang: str = "zh-CN") -> None:
        """Audit the page as it is now at each width, then leave it at desktop width."""
        page = self.page
        assert page.locator("html").get_attribute("lang") == lang, name
        if lang != "zh-CN":
            assert page.evaluate(MISLABELLED_CHINESE) == [], f"{name}: Chinese text not marked lang=zh-CN"
        if page.evaluate("typeof window.axe === 'undefined'"):
            page.evaluate(AXE.read_text(encoding="utf-8"))
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            self.problems += [
                f"{name} [{width}] {violation['impact']} {violation['id']}: {node['target']} — {node['failureSummary']}"
                for violation in result["violations"] if violation["impact"] in BLOCKING
                for node in violation["nodes"]
            ]
        page.set_viewport_size(WIDTHS["desktop"])

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


def pages_of_a_finished_learner(learner: Learner) -> list[str]:
    """Each learner page, with an open and a graded attempt, a play-through under way and one finished."""
    return [
        "/", "/lessons/ic-definition", f"/quizzes/{QUIZ}", f"/quizzes/{QUIZ}/attempts/{learner.open_attempt}",
        f"/quizzes/{QUIZ}/attempts/{learner.failed_attempt}/result", f"/scenarios/{SCENARIO}",
        f"/scenarios/{OPEN_SCENARIO}/runs/{learner.open_run}", f"/scenarios/{SCENARIO}/runs/{learner.finished_run}",
        "/progress",
    ]


def test_pages_anyone_can_open(page, site):
    audit = Audit(page, site)
    audit.visit("/login")
    audit.visit("/signup")
    page.locator("main form button[type=submit]").click()
    page.locator(".errors").first.wait_for()
    audit.check("/signup (every field missing)")
    page.locator("#name").fill("新学员")
    page.locator("#email").fill("joining@example.com")
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    audit.check("/signup (check your inbox)")
    link = mailed_link(site.app, "joining@example.com")
    audit.visit(link)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(site.base + "/")
    page.context.clear_cookies()
    audit.visit(link, status=410)
    audit.visit("/login")
    page.locator("#email").fill("newcomer@example.com")
    page.locator("#password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    page.locator(".flash, .errors").first.wait_for()
    audit.check("/login (wrong password)")
    audit.visit(f"/verify/{site.graduate.certificate}")
    audit.visit("/no-such-page", status=404)
    audit.assert_clean()


def test_trainee_pages_in_chinese(page, site):
    audit = Audit(page, site)
    log_in(page, site, "newcomer@example.com")
    for path in ["/", f"/modules/{MODULE}", "/lessons/ic-definition", f"/quizzes/{QUIZ}", f"/scenarios/{SCENARIO}",
                 "/progress", "/account/password"]:
        audit.visit(path)
    page.goto(site.base + "/lessons/ic-definition")
    page.get_by_role("button", name="标记为已完成").click()
    page.get_by_text("本课已完成。").wait_for()
    audit.check("/lessons/ic-definition (just completed)")
    page.goto(site.base + "/account/password")
    page.get_by_role("button", name="修改密码").click()
    page.locator(".errors").first.wait_for()
    audit.check("/account/password (every field missing)")

    log_in(page, site, "graduate@example.com")
    for path in pages_of_a_finished_learner(site.graduate):
        audit.visit(path)
    audit.visit("/lessons/no-such-lesson", status=404)
    audit.assert_clean()


def test_trainee_pages_in_english_mark_the_course_text_as_chinese(page, site):
    audit = Audit(page, site)
    page.goto(site.base + "/login")
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Log in").wait_for()
    audit.check("/login (English)", "en")

    log_in(page, site, "english@example.com")
    english = site.english
    for path in [*pages_of_a_finished_learner(english), f"/modules/{MODULE}", f"/verify/{english.certificate}"]:
        audit.visit(path, "en")
    audit.assert_clean()


def test_trainer_hr_and_admin_pages(page, site, tmp_path):
    from test_staff_import import staff_csv

    audit = Audit(page, site)
    graduate = site.graduate
    log_in(page, site, "admin@example.com")
    for path in ["/studio/", f"/studio/files/{LESSON_FILE}", "/studio/revisions/compare?from=1&to=draft",
                 "/studio/changes", "/studio/exchange", "/studio/analytics", f"/studio/analytics/quizzes/{QUIZ}",
                 f"/studio/analytics/scenarios/{SCENARIO}"]:
        audit.visit(path)
    page.goto(site.base + "/studio/changes")
    page.locator("#note").fill("再补一句")
    page.locator("main form button.primary").click()
    page.locator(".flash").first.wait_for()
    audit.check("/studio/changes (just published)")
    for path in ["/studio/revisions", "/studio/revisions/1/rollback"]:
        audit.visit(path)
    for path in ["/hr/", "/hr/learners", f"/hr/learners/{graduate.id}",
                 f"/hr/learners/{graduate.id}/attempts/{graduate.failed_attempt}",
                 f"/hr/learners/{graduate.id}/runs/{graduate.finished_run}",
                 "/hr/assignments", "/hr/internal-customers", "/hr/people/import"]:
        audit.visit(path)
    upload = tmp_path / "staff.csv"
    upload.write_bytes(staff_csv(count=12, bad_line=5))
    page.locator("input[type=file]").set_input_files(str(upload))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/hr/people/import/*")
    audit.check("/hr/people/import/<batch> (preview)")
    for path in ["/admin/users", f"/admin/users/{graduate.id}", "/admin/departments", "/admin/audit"]:
        audit.visit(path)
    audit.assert_clean()


# --- the keyboard alone -------------------------------------------------------------------------

# The focused element, and whether its focus ring is at least 2px and has 3:1 contrast with white.
FOCUS = """(selector) => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const luminance = (rgb) => rgb.map((c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const colour = style.outlineColor.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const contrast = 1.05 / (luminance(colour) + 0.05);
  return {
    matches: element.matches(selector),
    value: element.value === undefined ? null : element.value,
    ring: element === document.body
      || (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 && contrast >= 3),
    html: element.outerHTML.slice(0, 120),
  };
}"""


def focused(page, selector: str = "*") -> dict:
    return page.evaluate(FOCUS, selector)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector`; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = focused(page, selector)
        assert state["ring"], f"focus is not visible on {state['html']}"
        if state["matches"]:
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def press_until(page, key: str, value: str, limit: int = 12) -> None:
    """Press `key` (an arrow) on the focused control until its value is `value`."""
    for _ in range(limit):
        if focused(page)["value"] == value:
            return
        page.keyboard.press(key)
        assert focused(page)["ring"]
    raise AssertionError(f"{value} cannot be chosen with {key}")


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def answer_with_keys(page, question) -> None:
    """Answer a question as someone without a mouse would: Tab, Space, the arrow keys, typing."""
    answer, fieldset = question.correct_answer(), f"fieldset#{question.field()}"
    if question.kind in ("single", "true_false"):
        tab_to(page, f"{fieldset} input[type=radio]")
        page.keyboard.press("Space")
        wanted = answer if question.kind == "single" else ("true" if answer else "false")
        press_until(page, "ArrowDown", wanted)
    elif question.kind == "multiple":
        for _ in range(page.locator(f"{fieldset} input").count()):
            tab_to(page, f"{fieldset} input[type=checkbox]")
            if focused(page)["value"] in answer:
                page.keyboard.press("Space")
    elif question.kind in ("ordering", "matching"):
        wanted = ({question.field(item): str(n) for n, item in enumerate(answer, 1)} if question.kind == "ordering"
                  else {question.field(left): right for left, right in answer.items()})
        for _ in wanted:
            tab_to(page, f"{fieldset} select")
            press_until(page, "ArrowDown", wanted[page.evaluate("document.activeElement.id")])
    else:
        tab_to(page, f"{fieldset} input[type=text]")
        page.keyboard.type(answer)


def test_a_quiz_and_a_role_play_with_the_keyboard_alone(page, site, course_sources):
    from courseware.content import compile_sources

    course = compile_sources(course_sources)
    page.goto(site.base + "/login")
    page.keyboard.press("Tab")
    assert focused(page, ".skip-link")["matches"] and page.locator(".skip-link").bounding_box()["x"] >= 0
    tab_to(page, "#email")
    page.keyboard.type("keyboard@example.com")
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    press_and_wait(page, "Enter")

    quiz = course.quiz(QUIZ)
    # A numerical answer is typed into the same kind of text box as a short answer (tests/test_numerical.py).
    assert {q.kind for q in quiz.questions} == {kind.stem for kind in QUESTION_TYPES.glob("*.html")} - {"numerical"}
    page.goto(site.base + f"/quizzes/{QUIZ}")
    tab_to(page, "main form button[type=submit]")
    press_and_wait(page, "Enter")
    for question in quiz.questions:
        answer_with_keys(page, question)
    tab_to(page, "#quiz-form button.primary")
    press_and_wait(page, "Enter")
    page.get_by_role("heading", name="已通过 · 100%").wait_for()

    scenario = course.scenario(SCENARIO)
    page.goto(site.base + f"/scenarios/{SCENARIO}")
    tab_to(page, "main form button[type=submit]")
    press_and_wait(page, "Space")
    for step in model_path(scenario).steps:
        tab_to(page, f"button.choice-button[value='{step.choice.id}']")
        press_and_wait(page, "Enter")
    page.get_by_role("heading", level=1, name=model_path(scenario).node.ending.title).wait_for()
