"""The lesson page and the course home reuse what every learner sees alike (built once per revision and
locale); what is personal stays with its learner, the language is the reader's, and a publish shows at once."""
from __future__ import annotations

import re

from conftest import in_english

from courseware.models import Role
from courseware.publishing import publish

LESSON = "/lessons/ic-definition"


def _aside_status(page: str, lesson_id: str) -> str:
    return re.search(rf'<li class="status-(\w+)">\s*<a href="/lessons/{lesson_id}"', page)[1]


def test_each_learner_sees_their_own_name_and_progress(client, published, make_user, login):
    _, first = make_user()
    _, second = make_user()
    login(first)
    client.get("/lessons/ic-three-kinds")
    assert client.post("/lessons/ic-three-kinds/complete").status_code == 302
    lesson, home = client.get(LESSON).get_data(as_text=True), client.get("/").get_data(as_text=True)
    assert "用户1" in lesson and _aside_status(lesson, "ic-three-kinds") == "completed"
    assert "用户1" in home and "badge-in_progress" in home

    client.post("/logout")
    login(second)
    lesson, home = client.get(LESSON).get_data(as_text=True), client.get("/").get_data(as_text=True)
    assert "用户2" in lesson and "用户1" not in lesson
    assert _aside_status(lesson, "ic-three-kinds") == "not_started" and 'id="complete-form"' in lesson
    assert "用户1" not in home and "badge-completed" not in home


def test_the_shared_parts_are_in_the_readers_language(client, published, trainee):
    assert "第 1 课，共 3 课" in client.get(LESSON).get_data(as_text=True)
    assert "Modules" not in client.get("/").get_data(as_text=True)
    in_english(client)
    lesson, home = client.get(LESSON).get_data(as_text=True), client.get("/").get_data(as_text=True)
    assert "Lesson 1 of 3" in lesson and "Module progress" in lesson and "第 1 课" not in lesson
    assert "Modules" in home and "Progress in" in home and 'aria-label="Main"' in home


def test_a_publish_shows_on_the_pages_at_once(app, client, course_sources, published, trainee):
    assert "内部客户的定义" in client.get(LESSON).get_data(as_text=True)
    path = next(p for p in course_sources if p.endswith("01-definition.md"))
    renamed = course_sources[path].replace("title: 内部客户的定义".encode(), "title: 新的标题".encode())
    with app.app_context():
        publish({**course_sources, path: renamed})
    lesson = client.get(LESSON).get_data(as_text=True)
    assert "新的标题" in lesson and "内部客户的定义" not in lesson
    assert client.get("/modules/what-is-internal-customer").status_code == 200


def test_the_frame_is_shared_but_what_fills_it_is_each_page_s_own(client, published, make_user, login):
    """The frame is rendered once per language, sign-in state and roles; the title, the path the language
    switch returns to, the name and the flashed messages are the page's and the reader's."""
    signed_out = client.get("/login?next=%2F").get_data(as_text=True)
    assert "<title>" in signed_out and 'name="next" value="/login?next=%2F"' in signed_out
    assert "/logout" not in signed_out and "\x00" not in signed_out

    _, hr = make_user(Role.HR)
    _, trainee = make_user()
    for email, name, sees_hr in ((hr, "用户1", True), (trainee, "用户2", False)):
        login(email)
        page = client.get(LESSON).get_data(as_text=True)
        assert re.search(r"<title>内部客户的定义[^<]* · 内部客户服务意识</title>", page)
        assert f'class="user-name">{name}</a>' in page and 'name="next" value="/lessons/ic-definition"' in page
        assert ('href="/hr/"' in page) is sees_hr
        assert page.count('name="csrf_token"') >= 2 and "\x00" not in page
        client.post("/logout")
    login(trainee)
    client.post("/lessons/ic-definition/complete")
    assert '<p class="flash flash-success">' in client.get(LESSON).get_data(as_text=True)
