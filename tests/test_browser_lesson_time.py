"""In Chromium: a lesson's "Mark as complete" counts down its minimum reading time while the page is
visible, becomes usable when the time is reached, and the heartbeats have credited the time."""
from __future__ import annotations

import re

from browser_support import BROWSER_MARKS, chromium, log_in, serve
from conftest import PASSWORD, make_app
from sqlalchemy import select

from courseware.cli import create_user
from courseware.extensions import db
from courseware.models import LessonTime, Role
from courseware.publishing import publish

pytestmark = BROWSER_MARKS


def test_the_button_counts_down_and_becomes_usable_when_the_minimum_is_read(tmp_path, course_sources):
    path = next(p for p in course_sources if p.endswith("01-definition.md"))
    short = course_sources[path].decode().replace("minutes: 9\n", "minutes: 9\nmin_minutes: 0.05\n", 1)  # 3 seconds
    app = make_app(
        f"sqlite:///{tmp_path / 'browser.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True, LESSON_HEARTBEAT_SECONDS=1
    )
    with app.app_context():
        publish({**course_sources, path: short.encode()})
        user = create_user("learner@example.com", "王小明", {Role.TRAINEE}, "销售部", PASSWORD)
        user_id = user.id
    errors: list[str] = []
    with serve(app) as url, chromium() as browser:
        page = browser.new_context().new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        log_in(page, url)
        page.goto(url + "/lessons/ic-definition")
        button = page.get_by_role("button", name=re.compile("标记为已完成"))
        assert button.is_disabled()
        assert re.search(r"还需 0:0[1-3]", button.inner_text())
        page.get_by_text("阅读时间已够，可以把本课标记为完成了。").wait_for(timeout=20_000)  # said as it is enabled
        assert button.is_enabled() and "还需" not in button.inner_text()
        button.click()
        page.get_by_text("本课已完成。").wait_for()
    assert errors == [], errors
    with app.app_context():
        assert db.session.scalar(select(LessonTime.seconds).where(LessonTime.user_id == user_id)) >= 3
