"""A learner in Chromium submits a quiz with blanks, is shown what is missing, answers and submits."""
from __future__ import annotations

import test_browser
from browser_support import BROWSER_MARKS, log_in
from test_browser import answer_in_browser

pytestmark = BROWSER_MARKS
site, open_page = test_browser.site, test_browser.open_page  # the journeys' site and pages


def test_a_learner_is_shown_the_blanks_follows_a_link_answers_and_submits(site, open_page):
    quiz = site.course().quiz("quiz-what-is-internal-customer")
    first, second, *others = quiz.questions
    page = open_page()
    log_in(page, site.url)
    page.goto(f"{site.url}/quizzes/{quiz.id}")
    page.get_by_text("每次作答后可以看到正确答案和解析。").wait_for()
    page.get_by_role("button", name="开始测验").click()
    answer_in_browser(page, first)
    page.get_by_role("button", name="提交答案").click()

    total = len(quiz.questions)
    page.get_by_role("heading", name=f"{total} 题中有 {total - 1} 题未作答").wait_for()
    page.get_by_role("link", name="第 2 题").click()
    page.wait_for_url(f"**#{second.field()}")
    assert page.locator(f"fieldset#{first.field()} input:checked").count() == 1  # kept
    for question in (second, *others):
        answer_in_browser(page, question)
    page.get_by_role("button", name="提交答案").click()
    page.get_by_role("heading", name="已通过 · 100%").wait_for()
