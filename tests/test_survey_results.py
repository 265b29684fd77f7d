"""Survey results: the numbers, the anonymity threshold in every view and export, who sees what,
improvement plans from the head to the customer department, and a query count that stays put."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from conftest import in_english
from openpyxl import load_workbook
from sqlalchemy import select
from test_query_counts import counting

from courseware.extensions import db
from courseware.hr.assignments import today as company_today
from courseware.models import (
    AuditEntry,
    Department,
    HRScope,
    ImprovementPlan,
    Role,
    SurveyResponse,
    SurveyRound,
    SurveyRoundDepartment,
)
from courseware.people.departments import find_or_create
from courseware.surveys import heatmap, plans, results

QUESTIONS = {"overall": {"text": "Overall"}, "comment": {"text": "Comment", "enabled": True}}


def make_round(title: str, rated: list[int], opens_on: date, threshold: int = 5, open_now: bool = False) -> int:
    """A round that has closed (results are read only then), unless `open_now`."""
    closes_on = opens_on + timedelta(days=14) if open_now else min(opens_on + timedelta(days=14), date.today() - timedelta(days=1))
    survey = SurveyRound(title=title, opens_on=opens_on, closes_on=closes_on, threshold=threshold, questions=QUESTIONS)
    survey.scope_rows = [SurveyRoundDepartment(department_id=d) for d in rated]
    db.session.add(survey)
    db.session.commit()
    return survey.id


def rate(round_id: int, supplier: int, customer: int, overall: int, n: int = 1, comment: str | None = None, **elements) -> None:
    for _ in range(n):
        db.session.add(SurveyResponse(round_id=round_id, supplier_department_id=supplier, customer_department_id=customer,
                                      overall=overall, comment=comment, **elements))
    db.session.commit()


@pytest.fixture
def org(app, make_user):
    """Three departments, each with a head; an HR user limited to 生产部; an HR user for everything."""
    heads = {name: make_user(department=name) for name in ("生产部", "质量部", "采购部")}
    member = make_user(department="质量部")
    scoped_hr = make_user(Role.HR, department="人力资源部")
    hr = make_user(Role.HR, department="人力资源部")
    with app.app_context():
        ids = {name: find_or_create(name).id for name in heads}
        for name, (user_id, _email) in heads.items():
            db.session.get(Department, ids[name]).head_id = user_id
        db.session.add(HRScope(user_id=scoped_hr[0], department_id=ids["生产部"]))
        db.session.commit()
    return {"ids": ids, "heads": heads, "member": member, "scoped_hr": scoped_hr, "hr": hr}


def test_scorecard_and_matrix_figures_from_a_small_data_set(app, org):
    plant, quality, buying = (org["ids"][n] for n in ("生产部", "质量部", "采购部"))
    with app.test_request_context():
        survey_id = make_round("2026 Q1", [plant, quality], date(2026, 1, 1))
        rate(survey_id, plant, quality, 4, n=3, communication=5, feedback=2)
        rate(survey_id, plant, quality, 2, n=2, communication=3)
        rate(survey_id, plant, buying, 5, n=5, communication=4)
        rate(survey_id, quality, plant, 3, n=4)
        survey = db.session.get(SurveyRound, survey_id)
        cards = results.scorecards(survey, None)
        matrix = results.interface_matrix(survey, None)
    assert list(cards) == [plant, quality]
    assert cards[plant].answers.count == 10
    assert cards[plant].overall.mean == pytest.approx((4 * 3 + 2 * 2 + 5 * 5) / 10)
    assert cards[plant].scores["communication"].mean == pytest.approx((5 * 3 + 3 * 2 + 4 * 5) / 10)
    assert not cards[plant].scores["feedback"].shown  # three answers to it
    assert not cards[quality].answers.shown and not cards[quality].overall.shown
    assert matrix.cell(plant, quality).overall == results.Figure(pytest.approx(3.2), 5)
    assert matrix.cell(plant, buying).overall == results.Figure(5.0, 5)
    assert not matrix.cell(quality, plant).overall.shown
    assert [(c.supplier_id, c.customer_id) for c in plans.low_interfaces(matrix)] == [(plant, quality)]


def test_a_shown_cell_is_hidden_when_the_rest_of_its_row_would_be_a_small_group(app, org):
    plant, quality, buying = (org["ids"][n] for n in ("生产部", "质量部", "采购部"))
    with app.test_request_context():
        survey_id = make_round("R", [plant], date(2026, 1, 1))
        rate(survey_id, plant, quality, 4, n=6)
        rate(survey_id, plant, buying, 1, n=1)  # the department's mean minus the 质量部 cell would give this one away
        matrix = results.interface_matrix(db.session.get(SurveyRound, survey_id), None)
        assert results.scorecards(db.session.get(SurveyRound, survey_id), None)[plant].answers.count == 7
    assert not matrix.cell(plant, quality).answers.shown and not matrix.cell(plant, buying).answers.shown


def _everything_a_head_sees(client, survey_id: int, department_id: int) -> dict[str, str]:
    """The round page, the department page and both exports, as text (each read at once: exports stream)."""
    seen = {}
    for name, url in (("round", f"/surveys/results/{survey_id}"), ("department", f"/surveys/results/{survey_id}/departments/{department_id}"),
                      ("csv", f"/surveys/results/{survey_id}/results.csv"), ("xlsx", f"/surveys/results/{survey_id}/results.xlsx")):
        response = client.get(url)
        assert response.status_code == 200, url
        if name == "xlsx":
            rows = load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)
            seen[name] = "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows)
        else:
            seen[name] = response.get_data(as_text=True)
    return seen


def test_four_answers_show_nothing_anywhere_and_five_show_the_figures(app, client, org, login):
    plant, quality = org["ids"]["生产部"], org["ids"]["质量部"]
    with app.app_context():
        survey_id = make_round("2026 Q1", [plant], date.today() - timedelta(days=3))
        rate(survey_id, plant, quality, 2, n=4, comment="交接单总是缺页")
    in_english(client)
    login(org["heads"]["生产部"][1])
    seen = _everything_a_head_sees(client, survey_id, plant)
    for name, text in seen.items():
        assert "2.0" not in text and "交接单总是缺页" not in text, name
        assert "fewer than 5 answers" in text, name
    assert ",4," not in seen["csv"] and '"4"' not in seen["csv"] and ",4," not in seen["xlsx"]
    with app.test_request_context():
        survey = db.session.get(SurveyRound, survey_id)
        svg = str(heatmap.render(results.interface_matrix(survey, None), {plant: "生产部", quality: "质量部"}, 5, "caption"))
    assert "2.0" not in svg and "url(#too-few)" in svg

    with app.app_context():
        rate(survey_id, plant, quality, 2, n=1)
    seen = _everything_a_head_sees(client, survey_id, plant)
    for name in ("round", "department"):
        assert "2.0" in seen[name], name
    assert "生产部,质量部,5,,,,,2," in seen["xlsx"]
    assert '"生产部","质量部","5","","","","","2",""' in seen["csv"]
    assert "交接单总是缺页" in seen["department"] and "质量部" in seen["department"]
    assert '"5"' in seen["csv"] and seen["csv"].startswith("\ufeff")
    with app.test_request_context():
        svg = str(heatmap.render(results.interface_matrix(db.session.get(SurveyRound, survey_id), None), {plant: "生产部", quality: "质量部"}, 5, "c"))
    assert ">2.0</text>" in svg and svg.count('fill="url(#too-few)"') == 1  # the legend's swatch only
    with app.app_context():
        assert db.session.scalars(select(AuditEntry.action)).all().count("export_survey_results") == 4


def test_results_wait_until_the_round_closes(app, client, org, login):
    """While answers still come in, a figure that moves with each one would tell what that person said."""
    plant, quality = org["ids"]["生产部"], org["ids"]["质量部"]
    with app.app_context():
        survey_id = make_round("Open", [plant], date.today() - timedelta(days=3), open_now=True)
        rate(survey_id, plant, quality, 2, n=6)
    login(org["heads"]["生产部"][1])
    pages = (f"/surveys/results/{survey_id}", f"/surveys/results/{survey_id}/departments/{plant}", f"/surveys/results/{survey_id}/results.csv")
    for url in pages:
        assert client.get(url).status_code == 404, url
    assert f"/surveys/results/{survey_id}" not in client.get("/surveys/results").text

    client.post("/logout")
    login(org["hr"][1])
    assert client.post(f"/surveys/rounds/{survey_id}/end").status_code == 302
    with app.app_context():
        # yesterday in the organisation's time zone, which is a day ahead of the server's for part of every day
        assert db.session.get(SurveyRound, survey_id).closes_on == company_today() - timedelta(days=1)
    client.post("/logout")
    login(org["heads"]["生产部"][1])
    assert all(client.get(url).status_code == 200 for url in pages)


def test_a_head_sees_only_their_department_and_hr_only_its_scope(app, client, org, login, make_user):
    plant, quality, buying = (org["ids"][n] for n in ("生产部", "质量部", "采购部"))
    with app.app_context():
        survey_id = make_round("R", [plant, quality], date.today())
        rate(survey_id, plant, buying, 3, n=5)
        rate(survey_id, quality, buying, 4, n=5)
    department = f"/surveys/results/{survey_id}/departments/{{}}"
    login(org["heads"]["质量部"][1])
    assert client.get(department.format(quality)).status_code == 200
    assert client.get(department.format(plant)).status_code == 404
    round_page = client.get(f"/surveys/results/{survey_id}").get_data(as_text=True)
    assert "质量部" in round_page and "生产部" not in round_page
    client.post("/logout")

    login(org["heads"]["采购部"][1])  # heads a department this round did not rate
    assert client.get(f"/surveys/results/{survey_id}").status_code == 404
    assert client.get(f"/surveys/results/{survey_id}/results.csv").status_code == 404
    client.post("/logout")

    login(org["scoped_hr"][1])
    assert client.get(department.format(plant)).status_code == 200
    assert client.get(department.format(quality)).status_code == 404
    csv = client.get(f"/surveys/results/{survey_id}/results.csv").get_data(as_text=True)
    assert "生产部" in csv and "质量部" not in csv
    client.post("/logout")

    login(make_user(department="质量部")[1])  # a member, not the head
    assert client.get(department.format(quality)).status_code == 404
    assert client.get("/surveys/results").status_code == 200


def test_the_head_plans_the_customer_sees_it_and_the_next_round_shows_the_move(app, client, org, login):
    plant, quality = org["ids"]["生产部"], org["ids"]["质量部"]
    with app.app_context():
        first = make_round("Spring", [plant], date.today() - timedelta(days=120))
        rate(first, plant, quality, 2, n=5)
    plan_url = f"/surveys/results/{first}/plans/{plant}/{quality}"
    form = {"actions": "每周与质量部对一次交接单", "owner": "王经理", "due_on": (date.today() + timedelta(days=30)).isoformat(), "status": "planned"}

    login(org["hr"][1])
    assert client.get(plan_url).status_code == 404  # no plan yet, and HR does not write one
    client.post("/logout")

    login(org["heads"]["生产部"][1])
    assert client.post(plan_url, data=form).status_code == 302
    assert client.post(f"/surveys/results/{first}/plans/{plant}/{org['ids']['采购部']}", data=form).status_code == 404  # not a low cell
    client.post("/logout")

    login(org["hr"][1])
    assert client.get(plan_url).status_code == 200
    assert client.post(plan_url, data=form | {"status": "done"}).status_code == 403
    client.post("/logout")

    login(org["member"][1])  # a member of 质量部, the customer
    page = in_english(client).get("/surveys/improvement-plans").get_data(as_text=True)
    assert "每周与质量部对一次交接单" in page and "王经理" in page and "Planned" in page
    client.post("/logout")

    login(org["heads"]["生产部"][1])
    assert client.post(plan_url, data=form | {"status": "in_progress"}).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(ImprovementPlan.status)).all() == ["in_progress"]
        second = make_round("Autumn", [plant], date.today())
        rate(second, plant, quality, 4, n=5)
    page = in_english(client).get(f"/surveys/results/{second}/departments/{plant}").get_data(as_text=True)
    assert "Did the plans of Spring move the rating?" in page and "2.0 → 4.0" in page and "+2.0" in page
    client.post("/logout")

    login(org["member"][1])
    assert "In progress" in in_english(client).get("/surveys/improvement-plans").get_data(as_text=True)


def test_no_before_and_after_when_a_round_is_under_the_threshold(app, org):
    plant, quality = org["ids"]["生产部"], org["ids"]["质量部"]
    with app.test_request_context():
        first = make_round("Spring", [plant], date(2026, 1, 1))
        rate(first, plant, quality, 2, n=5)
        second = make_round("Autumn", [plant], date(2026, 6, 1))
        rate(second, plant, quality, 4, n=4)
        plan = ImprovementPlan(round_id=first, supplier_department_id=plant, customer_department_id=quality,
                               actions="x", owner="y", due_on=date(2026, 3, 1))
        db.session.add(plan)
        db.session.commit()
        one, two = db.session.get(SurveyRound, first), db.session.get(SurveyRound, second)
        assert results.previous_round(two, plant).id == first
        [outcome] = plans.outcomes(results.interface_matrix(one, {plant}), plans.plans_of(first, [plant]),
                                   results.interface_matrix(two, {plant}))
    assert outcome.before.shown and not outcome.after.shown and outcome.moved is None


def test_results_pages_ask_as_many_queries_however_many_answers(app, client, org, login):
    plant, quality, buying = (org["ids"][n] for n in ("生产部", "质量部", "采购部"))
    with app.app_context():
        survey_id = make_round("R", [plant, quality], date.today())
        rate(survey_id, plant, quality, 3, n=5, comment="a")
    login(org["hr"][1])
    pages = [f"/surveys/results/{survey_id}", f"/surveys/results/{survey_id}/departments/{plant}"]

    def counts() -> list[int]:
        found = []
        for page in pages:
            client.get(page)
            with counting(app) as statements:
                assert client.get(page).status_code == 200
            found.append(len(statements))
        return found

    before = counts()
    with app.app_context():
        rate(survey_id, plant, buying, 2, n=40, comment="b")
        rate(survey_id, quality, buying, 4, n=40)
        rate(survey_id, quality, plant, 5, n=40)
    assert counts() == before


def test_training_impact_on_the_hr_dashboard_and_the_internal_customer_view(app, client, org, login, published):
    plant, quality = org["ids"]["生产部"], org["ids"]["质量部"]
    with app.app_context():
        first = make_round("Spring", [plant], date.today() - timedelta(days=120))
        rate(first, plant, quality, 2, n=5)
        second = make_round("Autumn", [plant], date.today())
        rate(second, plant, quality, 3, n=5)
    in_english(client)
    login(org["hr"][1])
    dashboard = client.get("/hr/").get_data(as_text=True)
    assert "Training impact" in dashboard and "2.0" in dashboard and "+1.0" in dashboard
    page = client.get("/hr/internal-customers").get_data(as_text=True)
    assert page.index("What internal customers say") < page.index("Training impact") < page.index("In the role-plays")
    assert "<svg" in page and ">3.0</text>" in page and "Autumn" in page
    client.post("/logout")
    login(org["scoped_hr"][1])  # 生产部 is in this HR user's scope
    assert "+1.0" in client.get("/hr/").get_data(as_text=True)
