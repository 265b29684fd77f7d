"""Regenerate the screenshots in this folder: a demo instance with learner activity, each key page at two widths.

    .venv/bin/python docs/screenshots/capture.py [--only NAME ...]

Builds the demo in a temporary folder (the real course, one account per role, learners in several
departments who have read, passed quizzes, played role-plays and earned certificates, written
through records.py as the app writes them), serves it, opens every key page in Debian's Chromium
at 360 × 740 (a phone) and 1280 × 800 (a laptop), and writes what the first screen shows as
`<page>-phone.png` and `<page>-desktop.png`, reduced to a 256-colour palette.
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import random
import shutil
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from courseware import create_app  # noqa: E402
from courseware.hr.assignments import today  # noqa: E402
from courseware.models import UNUSABLE_PASSWORD  # noqa: E402
from courseware.learning import records  # noqa: E402
from courseware.cli import create_user  # noqa: E402
from courseware.content import read_sources  # noqa: E402
from courseware.people.departments import find_or_create  # noqa: E402
from courseware.extensions import db  # noqa: E402
from courseware.models import Assignment, Role, User  # noqa: E402
from courseware.content import Course, Quiz, Scenario  # noqa: E402
from courseware.publishing import LiveCourse, live_course, publish  # noqa: E402

OUT = Path(__file__).resolve().parent
PASSWORD = "demo-password"
WIDTHS = {"phone": (360, 740), "desktop": (1280, 800)}

STAFF = {  # department path: how far each of its learners has got, as a share of the course's activities
    "销售部 / 华东区": [1.0, 1.0, 0.8, 0.5, 0.3, 0.0],
    "销售部 / 华南区": [1.0, 0.6, 0.4, 0.1, 0.0],
    "生产部 / 总装车间": [0.7, 0.4, 0.2, 0.1, 0.0, 0.0],
    "质量部": [1.0, 0.9, 0.5, 0.2],
    "财务部": [0.5, 0.2, 0.0],
    "信息技术部": [1.0, 0.3, 0.1],
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
GIVEN = ["晓明", "静", "伟", "芳", "磊", "娜", "洋", "敏", "杰", "丽", "强", "婷", "涛", "霞"]


def build_demo(instance: Path):
    """Create the demo app in `instance`; return it with the ids the screenshots need."""
    app = create_app({
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'demo.db'}",
        "SECRET_KEY": "screenshots",
        "RATELIMIT_ENABLED": False,
        "CONTENT_CHECK_SECONDS": 0,
        "REPORT_CACHE_SECONDS": 0,
    })
    with app.app_context():
        db.create_all()
        publish(read_sources(ROOT / "lessons"), note="demo")
        create_user("trainer@example.com", "陈讲师", {Role.TRAINER}, "人力资源部 / 培训组", PASSWORD)
        hr = create_user("hr@example.com", "赵人事", {Role.HR}, "人力资源部", PASSWORD)
        create_user("admin@example.com", "系统管理员", {Role.ADMIN}, "信息技术部", PASSWORD)
        names = (f"{s}{g}" for s, g in zip(SURNAMES, GIVEN * 3))
        with app.test_request_context():
            live = live_course()
            rng = random.Random(7)
            learner = create_user("learner@example.com", "王小明", {Role.TRAINEE}, "销售部 / 华东区", PASSWORD)
            ids = _learner_activity(learner, live, share=0.45, rng=rng)
            for number, (department, shares) in enumerate(STAFF.items()):
                for index, share in enumerate(shares):
                    person = _staff(f"staff{number}{index}@example.com", next(names), department)
                    _learner_activity(person, live, share, rng)
            _assign(live.course, hr)
            ids["learner"] = str(learner.id)
    return app, ids


def _staff(email: str, name: str, department: str) -> User:
    """A trainee as a staff import makes one: no password until they set one."""
    person = User(email=email, name=name, department=find_or_create(department), password_hash=UNUSABLE_PASSWORD)
    person.roles = {Role.TRAINEE}
    db.session.add(person)
    db.session.commit()
    return person


def _learner_activity(user: User, live: LiveCourse, share: float, rng: random.Random) -> dict[str, str]:
    """Do the first `share` of the course as `user`; return the ids of the pages a learner sees next."""
    course = live.course
    activities = course.activities
    done = round(share * len(activities))
    ids: dict[str, str] = {}
    for activity in activities[:done]:
        if activity.kind == "lesson":
            records.complete_lesson(user, live, course.lesson(activity.id))
        elif activity.kind == "quiz":
            quiz = course.quiz(activity.id)
            if rng.random() < 0.3:
                _take_quiz(user, live, quiz, right=len(quiz.questions) // 2)
            ids["quiz"], ids["result"] = quiz.id, _take_quiz(user, live, quiz, right=len(quiz.questions))
        else:
            ids["scenario"], ids["debrief"] = activity.id, _play(user, live, course.scenario(activity.id), rng)
    if done < len(activities):
        upcoming = activities[done:]
        quiz = next((course.quiz(a.id) for a in upcoming if a.kind == "quiz"), None)
        scenario = next((course.scenario(a.id) for a in upcoming if a.kind == "scenario"), None)
        if quiz is not None:
            ids["open_quiz"], ids["attempt"] = quiz.id, records.start_attempt(user, live, quiz).id
        if scenario is not None:
            run = records.start_run(user, live, scenario)
            node = scenario.node(scenario.start)
            records.choose(user, live, run, scenario, 0, next(c for c in node.choices if c.best).id)
            ids["open_scenario"], ids["run"] = scenario.id, run.id
        ids["lesson"] = next((a.id for a in upcoming if a.kind == "lesson"), course.lessons[-1].id)
    return ids


def _take_quiz(user: User, live: LiveCourse, quiz: Quiz, right: int) -> str:
    """Submit an attempt with the first `right` questions answered correctly and the rest left blank."""
    attempt = records.start_attempt(user, live, quiz)
    answers = {q.id: q.correct_answer() for q in quiz.questions[:right]}
    records.submit_attempt(user, live, attempt, quiz, answers)
    return attempt.id


def _play(user: User, live: LiveCourse, scenario: Scenario, rng: random.Random) -> str:
    """Play to an ending, mostly along the best choices, sometimes not."""
    run = records.start_run(user, live, scenario, fresh=True)
    node, step = scenario.node(scenario.start), 0
    while node.ending is None and step < 40:
        best = next(c for c in node.choices if c.best)
        choice = best if rng.random() < 0.7 else rng.choice(node.choices)
        records.choose(user, live, run, scenario, step, choice.id)
        node, step = scenario.node(choice.next), step + 1
    return run.id


def _assign(course: Course, hr: User) -> None:
    due = today()
    db.session.add_all([
        Assignment(activity_id=course.id, department_id=find_or_create("销售部").id, due_on=due + timedelta(days=30),
                   created_by_id=hr.id),
        Assignment(activity_id=course.modules[0].id, department_id=find_or_create("生产部").id,
                   due_on=due - timedelta(days=3), created_by_id=hr.id),
        Assignment(activity_id=course.id, department_id=find_or_create("质量部").id, due_on=due + timedelta(days=14),
                   created_by_id=hr.id),
    ])
    db.session.commit()


def pages(ids: dict[str, str], course: Course) -> list[tuple[str, str | None, str]]:
    """(file name, who is logged in, path) for every key page."""
    module = course.modules[1]
    quiz, scenario = ids["open_quiz"], ids["open_scenario"]
    return [
        ("login", None, "/login"),
        ("home", "learner", "/"),
        ("module", "learner", f"/modules/{module.id}"),
        ("lesson", "learner", f"/lessons/{ids['lesson']}"),
        ("quiz", "learner", f"/quizzes/{quiz}/attempts/{ids['attempt']}"),
        ("quiz-result", "learner", f"/quizzes/{ids['quiz']}/attempts/{ids['result']}/result"),
        ("scenario", "learner", f"/scenarios/{scenario}/runs/{ids['run']}"),
        ("debrief", "learner", f"/scenarios/{ids['scenario']}/runs/{ids['debrief']}"),
        ("progress", "learner", "/progress"),
        ("studio", "trainer", "/studio/"),
        ("studio-editor", "trainer", f"/studio/files/{course.lessons[0].path}"),
        ("analytics", "trainer", "/studio/analytics"),
        ("hr-dashboard", "hr", "/hr/"),
        ("hr-learners", "hr", "/hr/learners"),
        ("hr-transcript", "hr", f"/hr/learners/{ids['learner']}"),
        ("hr-import", "hr", "/hr/people/import"),
        ("admin-users", "admin", "/admin/users"),
    ]


def log_in(page, base: str, who: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=email]").fill(f"{who}@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/login" not in url)


def save_png(data: bytes, path: Path) -> None:
    """Write a screenshot as a 256-colour PNG: a fraction of the size, no visible difference for UI."""
    image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)


def font_config(folder: Path) -> Path:
    """A fontconfig file adding the Chinese font the app ships for certificates to the system's fonts.

    So the screenshots show hanzi, not empty boxes, on machines without CJK fonts (CI, containers).
    """
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{ROOT / "static" / "fonts"}</dir>'
        f"<cachedir>{folder / 'font-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return config


def capture(base: str, shots: list[tuple[str, str | None, str]], fonts: Path) -> list[Path]:
    """Screenshot every page at each width, logged in once per role and width; return the files written."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium not found: apt-get install chromium")
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"], env={**os.environ, "FONTCONFIG_FILE": str(fonts)}
        )
        for width_name, (width, height) in WIDTHS.items():
            for who in dict.fromkeys(who for _, who, _ in shots):
                context = browser.new_context(
                    viewport={"width": width, "height": height}, device_scale_factor=1, locale="zh-CN"
                )
                page = context.new_page()
                if who:
                    log_in(page, base, who)
                for name, _, path in (shot for shot in shots if shot[1] == who):
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    target = OUT / f"{name}-{width_name}.png"
                    save_png(page.screenshot(animations="disabled"), target)
                    written.append(target)
                context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="page names to capture (default: all)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app, ids = build_demo(Path(folder))
        with app.test_request_context():
            shots = pages(ids, live_course().course)
        if arguments.only:
            shots = [shot for shot in shots if shot[0] in arguments.only]
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{server.server_port}"
            for path in capture(base, shots, font_config(Path(folder))):
                print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
