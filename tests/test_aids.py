"""Job aids: compiled from lessons/aids/, listed for learners, each a print-ready page linked from its modules."""
from __future__ import annotations

import pytest

from courseware.content import CourseInvalid, compile_sources
from courseware.publishing import publish
from courseware.resources import folder

MODULE = "what-is-internal-customer"
MAP = f"""---
id: internal-customer-map
title: 内部客户地图工作表
summary: 理清谁在用你的工作成果。
order: 1
modules: [{MODULE}]
---

## 第一步

| 内部客户 | 需求 | 期望 |
| --- | --- | --- |
| 例：财务部 | 单据 | 一次交齐 |
|  |  |  |

改进：＿＿＿＿＿＿
"""
CARD = """---
id: feedback-card
title: 事实-影响-期望反馈卡
order: 2
---

- 事实：＿＿＿＿
"""


@pytest.fixture
def with_aids(app, course_sources):
    sources = {**course_sources, "lessons/aids/01-map.md": MAP, "lessons/aids/02-card.md": CARD}
    with app.app_context():
        return publish(sources).revision.id


def test_the_compiler_reads_aids_in_order_with_their_modules(course_sources):
    course = compile_sources({**course_sources, "lessons/aids/02-card.md": CARD, "lessons/aids/01-map.md": MAP})
    assert [aid.id for aid in course.aids] == ["internal-customer-map", "feedback-card"]
    assert course.aids_for(MODULE) == (course.aid("internal-customer-map"),)
    assert "<table>" in course.aid("internal-customer-map").html
    assert type(course).from_dict(course.to_dict()).aids == course.aids


@pytest.mark.parametrize("name, text, line, says", [
    ("01-map.md", MAP.replace(f"modules: [{MODULE}]", "modules: [no-such-module]"), 6, "module 'no-such-module' does not exist"),
    ("01-map.md", MAP.replace("order: 1\n", ""), 1, "missing required field 'order'"),
    ("01-map.md", MAP.replace("title: 内部客户地图工作表\n", "title: 内部客户地图工作表\npages: 2\n"), 4, "unknown field 'pages'"),
    ("01-map.md", MAP.replace("## 第一步", "![图](media/none.png)"), 9, "there is no picture media/none.png"),
    ("01-map.md", MAP.split("---\n\n")[0] + "---\n", 1, "has no text"),
    ("02-card.md", CARD.replace("order: 2", "order: 1"), 4, "job aid order 1 is also used by lessons/aids/01-map.md"),
    ("02-card.md", CARD.replace("feedback-card", "internal-customer-map"), 2, "id 'internal-customer-map' is already used"),
])
def test_a_broken_aid_is_refused_with_file_line_and_reason(course_sources, name, text, line, says):
    with pytest.raises(CourseInvalid) as invalid:
        compile_sources({**course_sources, "lessons/aids/01-map.md": MAP, f"lessons/aids/{name}": text})
    found = [(e.path, e.line, e.reason) for e in invalid.value.errors]
    assert [(f"lessons/aids/{name}", line)] == [(path, at) for path, at, reason in found if says in reason], found


def test_learners_find_the_aids_and_print_one(client, with_aids, trainee):
    home = client.get("/")
    assert 'href="/aids"' in home.text, "the main navigation links the job aids"
    listing = client.get("/aids")
    assert listing.status_code == 200
    assert "内部客户地图工作表" in listing.text and 'href="/aids/feedback-card"' in listing.text
    assert listing.text.index("内部客户地图工作表") < listing.text.index("事实-影响-期望反馈卡")

    page = client.get("/aids/internal-customer-map")
    assert page.status_code == 200
    assert 'href="/static/css/aids.css"' in page.text and 'src="/static/js/print.js"' in page.text
    assert "<table>" in page.text and "<script>" not in page.text and "onclick" not in page.text
    assert "data-print hidden" in page.text and "Ctrl+P" in page.text, "without JavaScript the page says how to print"
    assert f'href="/modules/{MODULE}"' in page.text
    assert "http://" not in page.text and "https://" not in page.text
    assert client.get("/aids/no-such-aid").status_code == 404


def test_a_module_page_links_its_aids(client, with_aids, trainee):
    module = client.get(f"/modules/{MODULE}")
    assert 'href="/aids/internal-customer-map"' in module.text and "feedback-card" not in module.text
    assert "/aids/" not in client.get("/modules/why-it-matters").text


def test_the_print_stylesheet_hides_the_page_around_the_aid_and_keeps_tables_whole():
    css = (folder("static") / "css" / "aids.css").read_text(encoding="utf-8")
    assert "size: A4" in css and "@media print" in css
    assert ".site-header" in css and "display: none" in css
    assert "break-inside: avoid" in css and "border: 1px solid #000" in css


def test_a_course_without_aids_shows_an_empty_list(client, published, trainee):
    empty = client.get("/aids")
    assert empty.status_code == 200 and "aid-list" not in empty.text


def test_anonymous_visitors_are_sent_to_log_in(client, with_aids):
    for url in ("/aids", "/aids/internal-customer-map"):
        assert client.get(url).status_code == 302


def test_a_trainer_adds_an_aid_that_compiles_as_written(app, client, published, make_user, login):
    from courseware.models import Role
    from courseware.studio import drafts

    login(make_user(Role.TRAINER)[1])
    added = client.post("/studio/new", data={"kind": "aid", "name": "meeting-agenda"})
    assert added.status_code == 302 and added.location.endswith("/studio/files/lessons/aids/meeting-agenda.md")
    assert 'value="lessons/aids"' not in client.get("/studio/").text, "aids/ is no module folder for lessons"
    with app.app_context():
        check = drafts.check(drafts.working_files())
    assert check.errors == () and [aid.id for aid in check.course.aids] == ["meeting-agenda"]
