"""Any screen and feel: every key page on a 360 px phone, and the HR dashboard's picture of where learners stand."""
from __future__ import annotations

import re

import pytest
from browser_support import BROWSER_MARKS, chromium, log_in, serve
from conftest import PASSWORD, make_app

from courseware.cli import create_user
from courseware.learning import records
from courseware.learning.roleplay import model_path
from courseware.models import Role
from courseware.publishing import live_course, publish

PHONE = {"width": 360, "height": 740}
TAP = 40  # px: the smallest control a thumb hits reliably

# (page, who is logged in, path with {ids}, the control that page is for, whether it is tapped)
PAGES = [
    ("login", None, "/login", "button[type=submit]", True),
    ("home", "learner", "/", "a.button.primary", True),
    ("module", "learner", "/modules/{module}", ".lesson-row a", True),
    ("lesson", "learner", "/lessons/{lesson}", ".lesson-footer button.primary", True),
    ("quiz", "learner", "/quizzes/{open_quiz}/attempts/{attempt}", "button.primary[type=submit]", True),
    ("quiz result", "learner", "/quizzes/{quiz}/attempts/{result}/result", ".result-card .button", True),
    ("scenario step", "learner", "/scenarios/{open_scenario}/runs/{run}", "button.choice-button", True),
    ("debrief", "learner", "/scenarios/{scenario}/runs/{debrief}", "svg.profile-chart", False),
    ("progress", "learner", "/progress", ".progress-table progress", False),
    ("studio", "trainer", "/studio/", "table.files a", True),
    ("studio editor", "trainer", "/studio/files/{lesson_file}", "#text", False),
    ("analytics", "trainer", "/studio/analytics", "form button[type=submit]", True),
    ("hr dashboard", "hr", "/hr/", "svg.bar-chart", False),
    ("hr learners", "hr", "/hr/learners", "form.filters button[type=submit]", True),
    ("hr transcript", "hr", "/hr/learners/{learner}", ".module-bars progress", False),
    ("hr import", "hr", "/hr/people/import", "form.upload-form button[type=submit]", True),
    ("admin users", "admin", "/admin/users", "form.search-form button", True),
]

WIDEST = """() => [document.documentElement.scrollWidth, window.innerWidth,
  [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
    && !e.closest('.table-scroll, .map-scroll, .editor-preview, pre')).slice(0, 3).map(e => e.outerHTML.slice(0, 120))]"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, shipped_course_sources):
    """A live server where a learner is partway through: a lesson read, a quiz passed and one open, a role-play
    finished and one under way; and one account per other role.

    It serves the shipped course: its real lessons, tables and titles are what has to fit a phone."""
    folder = tmp_path_factory.mktemp("layout")
    app = make_app(f"sqlite:///{folder / 'layout.db'}", folder / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        publish(shipped_course_sources)
        learner = create_user("learner@example.com", "王小明", {Role.TRAINEE}, "销售部 / 华东区", PASSWORD)
        for email, role in (("trainer", Role.TRAINER), ("hr", Role.HR), ("admin", Role.ADMIN)):
            create_user(f"{email}@example.com", email, {role}, "人力资源部", PASSWORD)
        with app.test_request_context():
            ids = _activity(learner, live_course())
    with serve(app) as base:
        yield base, ids


def _activity(learner, live) -> dict[str, object]:
    course = live.course
    module = course.modules[0]
    lesson, quiz, open_quiz = module.lessons[0], course.quizzes[0], course.quizzes[1]
    scenario, open_scenario = course.scenarios[0], course.scenarios[1]
    records.complete_lesson(learner, live, lesson)
    result = records.start_attempt(learner, live, quiz)
    records.submit_attempt(learner, live, result, quiz, {q.id: q.correct_answer() for q in quiz.questions})
    finished = records.start_run(learner, live, scenario)
    for step, taken in enumerate(model_path(scenario).steps):
        records.choose(learner, live, finished, scenario, step, taken.choice.id)
    run = records.start_run(learner, live, open_scenario)
    records.choose(learner, live, run, open_scenario, 0, model_path(open_scenario).steps[0].choice.id)
    return {
        "module": module.id, "lesson": course.lessons[1].id, "lesson_file": lesson.path, "learner": learner.id,
        "quiz": quiz.id, "result": result.id, "open_quiz": open_quiz.id,
        "attempt": records.start_attempt(learner, live, open_quiz).id,
        "scenario": scenario.id, "debrief": finished.id, "open_scenario": open_scenario.id, "run": run.id,
    }


@pytest.fixture(scope="module")
def phones(site):
    """One logged-in phone-sized browser tab per role, opened when first needed."""
    base, _ids = site
    with chromium() as browser:
        tabs: dict = {}

        def tab(who: str | None):
            """The role's tab and the console errors it logs from now on."""
            if who not in tabs:
                page, errors = browser.new_context(viewport=PHONE).new_page(), []
                page.on("console", lambda message: message.type == "error" and errors.append(message.text))
                if who:
                    log_in(page, base, f"{who}@example.com")
                tabs[who] = page, errors
            page, errors = tabs[who]
            errors.clear()
            return page, errors

        yield tab


def in_browser(test):
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


@in_browser
@pytest.mark.parametrize(("name", "who", "path", "control", "tapped"), PAGES, ids=[p[0] for p in PAGES])
def test_page_fits_a_phone_with_its_navigation_and_main_action_in_reach(site, phones, name, who, path, control, tapped):
    base, ids = site
    page, errors = phones(who)
    page.goto(base + path.format(**ids))

    page_width, screen, too_wide = page.evaluate(WIDEST)
    assert page_width <= screen, f"{name}: the page is {page_width}px wide on a {screen}px screen: {too_wide}"

    reachable = [page.locator(".brand")]
    if who:
        reachable += page.locator("nav.main-nav a").all() + [page.locator(".header-tools button").last]
    reachable.append(page.locator(control).first)
    for element in reachable:
        assert element.is_visible(), f"{name}: {element} is not visible"
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= screen + 0.5, f"{name}: {element} sticks out: {box}"
    if tapped:
        for element in reachable[1:]:
            assert element.bounding_box()["height"] >= TAP, f"{name}: {element} is too small to tap"
    assert errors == [], f"{name}: {errors}"  # e.g. a style attribute the CSP refuses


def test_hr_sees_where_learners_stand_and_each_count_opens_those_learners(client, published, make_user, login):
    _hr, hr_email = make_user(Role.HR, department="人力资源部")
    starters = [make_user()[1] for _ in range(2)]
    make_user()
    login(hr_email)
    first_look = client.get("/hr/").text
    assert re.search(r'class="card empty-state">.*href="/hr/people/import"', first_look, re.S), "says how to begin"
    client.post("/logout")
    for email in starters:
        login(email)
        client.post("/lessons/ic-definition/complete")
        client.post("/logout")

    login(hr_email)
    dashboard = client.get("/hr/").text
    counts = dict(re.findall(r'status=(\w+)">[^<]+</a>: <strong>(\d+)</strong>', dashboard))
    assert counts == {"completed": "0", "in_progress": "2", "not_started": "2"}  # the HR person has not started either
    assert "empty-state" not in dashboard
    for status, n in counts.items():
        assert f"{n} 名学员" in client.get(f"/hr/learners?status={status}").text
