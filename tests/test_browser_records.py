"""Issue K's records in Debian's Chromium, on a small course of the test's own: the diagnostic pre-test
offered on the home page (with its blanks summary and a score-only review), a role-play whose ending
follows what the learner did, and the studio's lint telling a trainer that a file cues its answers."""
from __future__ import annotations

import pytest
from browser_support import BROWSER_MARKS, chromium, log_in, serve
from conftest import PASSWORD, make_app
from test_gains import quiz
from test_scenario_paths import SCENARIO

from courseware.cli import create_user
from courseware.models import Role
from courseware.publishing import publish

pytestmark = BROWSER_MARKS

SOURCES = {
    "lessons/course.md": "---\nid: c\ntitle: 内部客户服务意识\nfinal_quiz: final-assessment\npretest: pretest\n---\n",
    "lessons/m/module.md": "---\nid: m\ntitle: 沟通\norder: 1\nscenarios: [meeting]\n---\n",
    "lessons/m/a.md": "---\nid: a-lesson\ntitle: 先听后说\norder: 1\nminutes: 3\n---\n正文\n",
    "quizzes/meeting.yaml": SCENARIO,
    "quizzes/final-assessment.yaml": quiz("final-assessment", "结业测评", "attempts: 2\n"),
    "quizzes/pretest.yaml": quiz("pretest", "课前诊断", "attempts: 1\nreview: score\n"),
}


@pytest.fixture
def site(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'records.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        publish(SOURCES)
        create_user("learner@example.com", "王小明", {Role.TRAINEE}, "销售部", PASSWORD)
        create_user("trainer@example.com", "讲师老陈", {Role.TRAINER}, "人力资源部", PASSWORD)
    with serve(app) as url:
        yield url


def test_a_learner_takes_the_diagnostic_and_earns_the_ending_their_path_deserves(site):
    with chromium() as browser:
        learner = browser.new_context().new_page()
        log_in(learner, site)
        learner.get_by_role("link", name="参加课前诊断").click()
        learner.get_by_text("每次作答后只显示得分，不显示答案。").wait_for()  # said before starting
        learner.get_by_role("button", name="开始测验").click()
        learner.get_by_role("button", name="提交答案").click()
        learner.get_by_role("heading", name="2 题中有 2 题未作答").wait_for()
        learner.get_by_role("button", name="仍然提交").click()
        learner.get_by_role("heading", name="未通过 · 0%").wait_for()
        assert "解析" not in learner.content() and "正确答案" not in learner.content()  # score only
        learner.goto(site + "/")
        assert learner.get_by_role("link", name="参加课前诊断").count() == 0  # offered once

        learner.goto(site + "/scenarios/meeting")
        learner.get_by_role("button", name="开始对话").click()
        learner.locator("button.choice-button[value='slam-table']").click()
        learner.locator("button.choice-button[value='plan']").click()
        learner.get_by_role("heading", level=1, name="挽回局面").wait_for()
        assert "开头失控，之后用计划挽回了信任。" in learner.content()
        assert "你始终保持了冷静。" not in learner.content()

        trainer = browser.new_context().new_page()
        log_in(trainer, site, "trainer@example.com")
        trainer.goto(site + "/studio/files/quizzes/final-assessment.yaml")
        trainer.get_by_text("此文件中有 1 处值得检查（不影响发布）").wait_for()  # every true/false answer is 正确
