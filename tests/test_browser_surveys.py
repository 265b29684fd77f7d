"""Issue M's loop in Debian's Chromium: HR opens a survey round for three departments, ten employees
rate them, and once the round is over a department's head reads its scorecard (another head, with
four answers, reads no figure at all), answers a low-rated interface with a plan that the customer
department then sees; a second round's change shows on HR's dashboard."""
from __future__ import annotations

from datetime import timedelta

import pytest
from browser_support import BROWSER_MARKS, chromium, log_in, serve
from conftest import PASSWORD, make_app
from test_browser_records import SOURCES

from courseware.cli import create_user
from courseware.extensions import db
from courseware.hr.assignments import today as company_today
from courseware.models import Department, Role, SurveyResponse, SurveyRound, SurveyRoundDepartment
from courseware.people.departments import find_or_create
from courseware.publishing import publish

pytestmark = [*BROWSER_MARKS, pytest.mark.slow]

RATED = ("生产部", "采购部", "仓储部")
RATERS = [(f"qa{n}@example.com", f"质检员{n}", "质量部") for n in range(6)] + [  # ten employees
    (f"sales{n}@example.com", f"销售员{n}", "销售部") for n in range(4)
]


@pytest.fixture
def site(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'surveys.db'}", tmp_path / "instance", WTF_CSRF_ENABLED=True)
    with app.app_context():
        publish(SOURCES)
        create_user("hr@example.com", "人事小周", {Role.HR}, "人力资源部", PASSWORD)
        for name in RATED:
            head = create_user(f"head-{RATED.index(name)}@example.com", f"{name}经理", {Role.TRAINEE}, name, PASSWORD)
            find_or_create(name).head_id = head.id
        for email, name, department in RATERS:
            create_user(email, name, {Role.TRAINEE}, department, PASSWORD)
        db.session.commit()
    with serve(app) as url:
        yield app, url


def rate(page, site, department_ids, ratings: dict[str, int]):
    """Answer as a person who worked with the departments in `ratings`, each given its overall score."""
    page.goto(f"{site}/surveys")
    page.get_by_role("link", name="填写问卷").click()
    for name in RATED:  # the screener: the departments this person worked with
        page.get_by_label(name, exact=True).set_checked(name in ratings)
    page.get_by_role("button", name="继续").click()
    for name, overall in ratings.items():
        form = page.locator("form", has=page.locator(f"input[name=department][value='{department_ids[name]}']"))
        prefix = f"d{department_ids[name]}-"  # each department's form has fields of its own
        form.locator(f"input[name={prefix}overall][value='{overall}']").check()
        form.locator(f"input[name={prefix}communication][value='3']").check()
        form.get_by_role("button", name="保存此评价").click()
        page.locator(f"#dept-{department_ids[name]} ~ p", has_text="已保存").first.wait_for()


def ratings_of(index: int, department: str) -> dict[str, int]:
    """质量部 finds 生产部 hard to work with; 销售部 works with 采购部 only; four people work with 仓储部."""
    if department == "销售部":
        return {"采购部": 4}
    return {"生产部": 2, "采购部": 4, **({"仓储部": 3} if index < 4 else {})}


def test_hr_opens_a_round_people_answer_a_head_plans_and_the_customer_sees_it(site):
    app, url = site
    with app.app_context():
        department_ids = {name: find_or_create(name).id for name in RATED}
        today = company_today()  # the organisation's day, which the forms check against, not the server's
    with chromium() as browser:
        hr = browser.new_context().new_page()
        log_in(hr, url, "hr@example.com")
        hr.goto(url + "/surveys/rounds")
        hr.get_by_role("link", name="新建问卷轮次").click()
        hr.get_by_label("标题").fill("2026 年第四季度内部客户调查")
        hr.get_by_label("开始日期").fill(today.isoformat())
        hr.get_by_label("结束日期（接受作答的最后一天）").fill((today + timedelta(days=14)).isoformat())
        for name in RATED:
            hr.get_by_label(name, exact=True).check()
        hr.get_by_role("button", name="保存").click()
        hr.get_by_role("heading", name="2026 年第四季度内部客户调查").wait_for()

        for index, (email, _name, department) in enumerate(RATERS):
            person = browser.new_context().new_page()
            log_in(person, url, email)
            rate(person, url, department_ids, ratings_of(index, department))
            person.context.close()

        hr.reload()
        assert "受邀的 14 人中已有 10 人作答（71%）" in hr.content()  # HR and the heads are asked too
        hr.get_by_role("button", name="现在结束问卷").click()
        hr.get_by_text("问卷已结束").wait_for()

        warehouse = browser.new_context().new_page()
        log_in(warehouse, url, "head-2@example.com")
        warehouse.goto(url + "/surveys/results")
        warehouse.get_by_role("link", name="2026 年第四季度内部客户调查").click()
        assert "不足 5 份回答" in warehouse.content()
        assert "生产部" not in warehouse.locator("main").inner_text()  # a head reads their own department only

        production = browser.new_context().new_page()
        log_in(production, url, "head-0@example.com")
        production.goto(f"{url}/surveys/results")
        production.get_by_role("link", name="2026 年第四季度内部客户调查").click()
        production.goto(f"{url}/surveys/results/1/departments/{department_ids['生产部']}")
        main = production.locator("main").inner_text()
        assert "2.0" in main and "质量部" in main  # six 2s from 质量部
        production.get_by_role("link", name="制定计划").click()
        production.get_by_label("本部门将采取的行动").fill("每周一与质量部核对一次交接单，缺页当天补齐")
        production.get_by_label("负责人").fill("生产部经理")
        production.get_by_label("完成日期").fill((today + timedelta(days=30)).isoformat())
        production.get_by_role("button", name="保存计划").click()

        customer = browser.new_context().new_page()
        log_in(customer, url, "qa0@example.com")
        customer.goto(url + "/surveys")
        customer.get_by_role("link", name="其他部门为我们部门制订的改进计划").click()
        assert "每周一与质量部核对一次交接单" in customer.content()

    with app.app_context():  # a second round, answered after the plan: 质量部 now rates 生产部 4
        first = db.session.get(SurveyRound, 1)
        second = SurveyRound(title="2027 年第一季度", opens_on=today, closes_on=today - timedelta(days=1),  # ended at once, like the first
                             threshold=5, questions=first.questions)
        second.scope_rows = [SurveyRoundDepartment(department_id=department_ids["生产部"])]
        db.session.add(second)
        db.session.flush()
        quality = db.session.query(Department).filter_by(name="质量部").one().id
        db.session.add_all(SurveyResponse(round_id=second.id, supplier_department_id=department_ids["生产部"],
                                          customer_department_id=quality, overall=4) for _ in range(6))
        db.session.commit()
    with chromium() as browser:
        hr = browser.new_context().new_page()
        log_in(hr, url, "hr@example.com")
        hr.goto(url + "/hr/")
        impact = hr.locator("#training-impact").inner_text()
        assert "生产部" in impact and "2.0" in impact and "4.0" in impact and "+2.0" in impact
