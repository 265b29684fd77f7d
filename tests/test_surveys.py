"""Survey rounds and answering: HR's rounds, the screener and ratings, reminders, response rates, the
privacy export, and the proof that no stored column can join a rating to the person who gave it."""
from __future__ import annotations

import json
from datetime import timedelta
from itertools import combinations

import pytest
from conftest import in_english, mails_to
from flask_babel import force_locale
from sqlalchemy import func, inspect, select, text

from courseware.extensions import db
from courseware.hr.assignments import today
from courseware.models import (
    SCORES,
    AuditEntry,
    Department,
    Notice,
    Role,
    SurveyParticipation,
    SurveyResponse,
    SurveyRound,
    User,
)
from courseware.people import privacy
from courseware.people.departments import find_or_create
from courseware.surveys import announcements, answering, results, rounds

RESPONSE_COLUMNS = {"id", "round_id", "supplier_department_id", "customer_department_id", *SCORES, "comment"}
GOOD = {"communication": "4", "understanding": "3", "collaboration": "5", "feedback": "2", "overall": "4"}


@pytest.fixture
def depts(app) -> dict[str, int]:
    with app.app_context():
        ids = {name: find_or_create(name).id for name in ("销售部", "生产部", "质量部")}
        db.session.commit()
        return ids


def day(app):
    """Today in the organisation's time zone."""
    with app.app_context():
        return today()


def make_round(app, department_ids, opens=0, closes=7, threshold=3, **extra) -> int:
    """A round opening `opens` days from today and closing `closes` days from today; its id."""
    with app.test_request_context():
        survey = rounds.save_round(
            SurveyRound(), title=extra.get("title", "2026 上半年"), opens_on=today() + timedelta(days=opens),
            closes_on=today() + timedelta(days=closes), threshold=threshold, department_ids=list(department_ids),
            questions=extra.get("questions", rounds.default_questions()),
        )
        db.session.commit()
        return survey.id


def rate(app, user_id, round_id, department_id, overall=4, comment=None) -> bool:
    with app.test_request_context():
        user, survey = db.session.get(User, user_id), db.session.get(SurveyRound, round_id)
        scores = dict.fromkeys(SCORES, overall) | {"feedback": None}
        return answering.save_rating(user, survey, department_id, scores, comment, today())


def form_for(department_id: int, **scores) -> dict[str, str]:
    return {"department": str(department_id)} | {f"d{department_id}-{k}": v for k, v in (GOOD | scores).items()}


def counts(app, round_id) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(SurveyParticipation).where(SurveyParticipation.round_id == round_id)),
            db.session.scalar(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.round_id == round_id)),
        )


# --- HR: rounds -----------------------------------------------------------------------------


def round_form(app, **changes) -> dict[str, str]:
    """What HR submits for a round that keeps every suggested wording (in English)."""
    with app.test_request_context(), force_locale("en"):
        data = {
            f"{key}_{part}": str(default)
            for key in SCORES for part, default in zip(rounds.SCORE_PARTS, rounds.DEFAULT_QUESTIONS[key])
        } | {"comment_text": str(rounds.DEFAULT_COMMENT), "comment_enabled": "y"}
        data |= {"title": "2026 H1", "opens_on": day(app).isoformat(), "closes_on": (day(app) + timedelta(days=14)).isoformat(), "threshold": "5"}
    return data | changes


def test_hr_creates_a_round_and_the_form_says_what_is_wrong(app, client, make_user, login, depts):
    login(make_user(Role.HR, department="质量部")[1])
    in_english(client)
    employee, _ = make_user(department="销售部")
    wrong = client.post("/surveys/rounds/new", data=round_form(
        app, closes_on=(day(app) - timedelta(days=1)).isoformat(), threshold="2", overall_text="",
    ) | {"opens_on": day(app).isoformat()})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 200
    for message in ("The survey must close on or after the day it opens.", "Choose at least one department to be rated.",
                    "Choose a threshold from 3 to 50 answers.", "This field is required."):
        assert message in page
    past = client.post("/surveys/rounds/new", data=round_form(app, opens_on=(day(app) - timedelta(days=1)).isoformat()))
    assert "The survey cannot open in the past." in past.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyRound)) == 0

    data = round_form(app, communication_text="How well do they keep you informed?", comment_enabled="") | {
        "departments": [str(depts["生产部"]), str(depts["质量部"])],
    }
    created = client.post("/surveys/rounds/new", data=data, follow_redirects=True)
    assert "Survey saved and open." in created.get_data(as_text=True)
    with app.app_context():
        survey = db.session.scalar(select(SurveyRound))
        assert survey.department_ids == {depts["生产部"], depts["质量部"]} and survey.threshold == 5
        assert survey.questions["communication"]["text"] == "How well do they keep you informed?"
        assert survey.questions["overall"] == {"text": "", "low": "", "high": ""}  # the default: in each reader's language
        assert survey.questions["comment"]["enabled"] is False and rounds.comment_question(survey) is None
        told = set(db.session.scalars(select(Notice.user_id).where(Notice.kind == "survey_open")))
        assert employee in told  # the HR user in 质量部 is asked too (to rate 生产部)
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "create_survey_round")) is not None
    assert client.get(f"/surveys/rounds/{survey.id}/edit").status_code == 302  # open: no longer changed


def test_an_upcoming_round_is_edited_and_announced_only_when_it_opens(app, client, make_user, login, depts):
    login(make_user(Role.HR)[1])
    round_id = make_round(app, [depts["生产部"]], opens=3, closes=10)
    in_english(client)
    form = client.get(f"/surveys/rounds/{round_id}/edit").get_data(as_text=True)
    assert "Communication: they keep me informed" in form
    client.post(f"/surveys/rounds/{round_id}/edit", data=round_form(
        app, title="Renamed", opens_on=(day(app) + timedelta(days=2)).isoformat()) | {"departments": [str(depts["质量部"])]})
    with app.app_context():
        survey = db.session.get(SurveyRound, round_id)
        assert survey.title == "Renamed" and survey.department_ids == {depts["质量部"]}
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    runner = app.test_cli_runner()
    with app.test_request_context():
        assert announcements.daily(day(app) + timedelta(days=2))["announced"] == 1  # the HR user, in 销售部
        assert announcements.daily(day(app) + timedelta(days=2))["announced"] == 0  # told once
    assert "announced to 0 people" in runner.invoke(args=["surveys", "notify"]).output


# --- employees: answering -------------------------------------------------------------------


def test_an_employee_picks_and_rates_two_departments(app, client, make_user, login, depts, published):
    round_id = make_round(app, depts.values())
    _, email = make_user(department="销售部")
    login(email)
    in_english(client)
    assert "Survey: 2026 上半年" in client.get("/").get_data(as_text=True)
    screener = client.get(f"/surveys/{round_id}").get_data(as_text=True)
    assert "生产部" in screener and "质量部" in screener and "销售部" not in screener.split("<main", 1)[1]
    picked = f"/surveys/{round_id}/rate?department={depts['生产部']}&department={depts['质量部']}"
    page = client.get(picked).get_data(as_text=True)
    assert "cannot be changed once saved" in page and page.count("Save this rating") == 2
    saved = client.post(picked, data=form_for(depts["生产部"], feedback=""), follow_redirects=True).get_data(as_text=True)
    assert "Saved. Thank you" in saved and saved.count("Save this rating") == 1
    client.post(picked, data=form_for(depts["质量部"]))
    after = client.get(picked).get_data(as_text=True)
    assert after.count("Saved. Thank you.") == 2 and 'value="4" checked' not in after  # shown as saved, never its values
    assert counts(app, round_id) == (2, 2)
    with app.app_context():
        response = db.session.scalar(select(SurveyResponse).where(SurveyResponse.supplier_department_id == depts["生产部"]))
        assert (response.customer_department_id, response.feedback, response.overall) == (depts["销售部"], None, 4)
    assert "Survey: 2026 上半年" not in client.get("/").get_data(as_text=True)


def test_a_missing_overall_rating_is_asked_for(app, client, make_user, login, depts):
    round_id = make_round(app, depts.values())
    login(make_user(department="销售部")[1])
    in_english(client)
    url = f"/surveys/{round_id}/rate?department={depts['生产部']}"
    page = client.post(url, data=form_for(depts["生产部"], overall="")).get_data(as_text=True)
    assert "Give an overall rating from 1 to 5." in page
    assert counts(app, round_id) == (0, 0)


def test_a_double_submit_leaves_one_participation_and_one_response(app, client, make_user, login, depts):
    round_id = make_round(app, depts.values())
    login(make_user(department="销售部")[1])
    in_english(client)
    url = f"/surveys/{round_id}/rate?department={depts['生产部']}"
    first = client.post(url, data=form_for(depts["生产部"]))
    second = client.post(url, data=form_for(depts["生产部"], overall="1"), follow_redirects=True)
    assert first.status_code == 302
    assert "your first answer stands" in second.get_data(as_text=True)
    assert counts(app, round_id) == (1, 1)
    with app.app_context():
        assert db.session.scalar(select(SurveyResponse.overall)) == 4


def test_own_department_and_closed_rounds_are_refused(app, client, make_user, login, depts):
    open_id = make_round(app, depts.values())
    closed_id = make_round(app, depts.values(), opens=-10, closes=-1)
    user_id, email = make_user(department="销售部/华东区")  # inside 销售部: rating it would be rating their own
    login(email)
    in_english(client)
    own = client.post(f"/surveys/{open_id}/rate", data=form_for(depts["销售部"]), follow_redirects=True)
    assert "You cannot rate your own department." in own.get_data(as_text=True)
    closed = client.post(f"/surveys/{closed_id}/rate", data=form_for(depts["生产部"]), follow_redirects=True)
    assert "This survey is closed" in closed.get_data(as_text=True)
    assert client.get(f"/surveys/{closed_id}").status_code == 404
    assert counts(app, open_id) == (0, 0) and counts(app, closed_id) == (0, 0)
    with app.test_request_context():
        user, survey = db.session.get(User, user_id), db.session.get(SurveyRound, open_id)
        with pytest.raises(answering.Refused):
            answering.save_rating(user, survey, 10**9, dict.fromkeys(SCORES, 3), None, day(app))
        with pytest.raises(answering.Refused):
            answering.save_rating(user, survey, depts["生产部"], dict.fromkeys(SCORES, 6), None, day(app))
        with pytest.raises(answering.Refused):
            answering.save_rating(user, survey, depts["生产部"], dict.fromkeys(SCORES, 3), None, day(app) + timedelta(days=8))


def test_the_screener_ticks_what_the_department_rated_last_time(app, make_user, depts):
    before = make_round(app, depts.values(), opens=-20, closes=-10)
    now = make_round(app, depts.values())
    colleague, _ = make_user(department="销售部")
    with app.app_context():
        db.session.get(SurveyRound, before).opens_on = day(app) - timedelta(days=20)
        db.session.add_all([
            SurveyResponse(round_id=before, supplier_department_id=depts["质量部"], customer_department_id=depts["销售部"], overall=3),
            SurveyResponse(round_id=before, supplier_department_id=depts["质量部"], customer_department_id=depts["销售部"], overall=4),
            SurveyResponse(round_id=before, supplier_department_id=depts["生产部"], customer_department_id=depts["销售部"], overall=4),
        ])
        db.session.commit()
    with app.test_request_context():
        choices = answering.screener(db.session.get(User, colleague), db.session.get(SurveyRound, now))
        assert [(c.department_id, c.suggested) for c in choices] == [(depts["质量部"], True), (depts["生产部"], True)]


# --- anonymity ------------------------------------------------------------------------------


def test_no_stored_column_joins_a_rating_to_its_rater(app, make_user, depts):
    round_id = make_round(app, depts.values())
    raters = {name: [make_user(department=name)[0] for _ in range(2)] for name in depts}
    for name, people in raters.items():
        for person in people:
            for other in depts:
                if other != name:
                    rate(app, person, round_id, depts[other], overall=1 + person % 5)
    with app.app_context():
        # (1) a response has exactly these columns: none for a person, a time or a sequence
        columns = inspect(db.engine).get_columns("survey_response")
        assert {column["name"] for column in columns} == RESPONSE_COLUMNS
        assert not any(column.get("autoincrement") is True or "nextval" in str(column.get("default") or "") for column in columns)
        assert {fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys("survey_response")} == {"survey_round", "department"}
        assert inspect(db.engine).get_pk_constraint("survey_response")["constrained_columns"] == ["id"]
        assert str(SurveyResponse.__table__.c.id.type).startswith("VARCHAR")
        if db.engine.dialect.name == "sqlite":
            for table in ("survey_response", "survey_participation"):
                sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": table})
                assert sql.rstrip().upper().endswith("WITHOUT ROWID"), table

        # (2) whatever shared columns a query joins on, each person's participation matches more than one response
        participation = db.session.execute(
            select(SurveyParticipation.round_id, SurveyParticipation.department_id, User.department_id)
            .join(User, User.id == SurveyParticipation.user_id)
        ).all()
        responses = db.session.execute(
            select(SurveyResponse.round_id, SurveyResponse.supplier_department_id, SurveyResponse.customer_department_id)
        ).all()
        assert len(participation) == len(responses) == 12
        shared = {"round": (0, 0), "rated department": (1, 1), "rater's department": (2, 2)}
        for size in range(1, len(shared) + 1):
            for keys in combinations(shared.values(), size):
                for row in participation:
                    matches = [r for r in responses if all(row[a] == r[b] for a, b in keys)]
                    assert len(matches) >= 2, (keys, row)


def test_a_closed_round_is_sealed_so_no_transaction_or_order_pairs_an_answer_with_its_rater(app, make_user, depts):
    """While a round runs, a response and its participation are written by one transaction (on
    PostgreSQL both rows carry its xmin). Results are read only after sealing rewrites the responses."""
    round_id = make_round(app, depts.values())
    names = list(depts)
    raters = [make_user(department=names[0])[0] for _ in range(3)]
    for person in raters:
        rate(app, person, round_id, depts[names[1]], overall=2 + person % 3)
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    xmin = "SELECT xmin::text FROM {} WHERE round_id = :round"
    with app.app_context():
        before = db.session.execute(select(SurveyResponse.id, SurveyResponse.overall)).all()
        if postgres:
            paired = set(db.session.scalars(text(xmin.format("survey_participation")), {"round": round_id}))
            assert paired == set(db.session.scalars(text(xmin.format("survey_response")), {"round": round_id}))  # what sealing ends
        survey = db.session.get(SurveyRound, round_id)
        assert not results.closed(survey, survey.closes_on)  # open: nothing to read, nothing sealed
        assert results.closed(survey, survey.closes_on + timedelta(days=1))
        after = db.session.execute(select(SurveyResponse.id, SurveyResponse.overall)).all()
        assert sorted(v for _, v in after) == sorted(v for _, v in before)  # every answer kept
        assert not {i for i, _ in after} & {i for i, _ in before}  # and none under its old id
        if postgres:
            sealed = set(db.session.scalars(text(xmin.format("survey_response")), {"round": round_id}))
            assert len(sealed) == 1 and not sealed & set(db.session.scalars(text(xmin.format("survey_participation")), {"round": round_id}))
        assert not answering.seal(round_id)  # once only
        with pytest.raises(answering.Refused):
            rate(app, make_user(department=names[0])[0], round_id, depts[names[1]])


def test_the_privacy_export_shows_participation_never_answers(app, make_user, depts):
    round_id = make_round(app, depts.values(), title="年度调查")
    person, _ = make_user(department="销售部")
    rate(app, person, round_id, depts["生产部"], comment="一个独特的评论XYZ")
    with app.test_request_context():
        export = privacy.person_export(person)
    assert export["survey_participation"] == [{"round_id": round_id, "title": "年度调查", "departments_rated": ["生产部"]}]
    dumped = json.dumps(export, ensure_ascii=False)
    assert "一个独特的评论XYZ" not in dumped
    assert not any(f'"{score}"' in dumped for score in SCORES)


# --- response rates and reminders -----------------------------------------------------------


def test_response_rates_count_people_by_department_and_ratings_by_rated_department(app, client, make_user, login, depts):
    round_id = make_round(app, [depts["生产部"], depts["质量部"]])
    sales = [make_user(department="销售部")[0] for _ in range(3)]
    plant = [make_user(department="生产部")[0] for _ in range(2)]
    rate(app, sales[0], round_id, depts["生产部"])
    rate(app, sales[0], round_id, depts["质量部"])
    rate(app, sales[1], round_id, depts["生产部"])
    rate(app, plant[0], round_id, depts["质量部"])
    with app.app_context():
        rates = rounds.response_rates(db.session.get(SurveyRound, round_id))
    by_customer = {rate.department_id: (rate.asked, rate.answered, rate.percent) for rate in rates.by_customer}
    assert by_customer == {depts["销售部"]: (3, 2, 67), depts["生产部"]: (2, 1, 50)}
    assert (rates.overall.asked, rates.overall.answered) == (5, 3)
    assert rates.by_rated == {depts["生产部"]: 2, depts["质量部"]: 2}
    login(make_user(Role.HR, department="生产部")[1])
    in_english(client)
    page = client.get(f"/surveys/rounds/{round_id}").get_data(as_text=True)
    assert "3 of 6 people asked have answered (50%)." in page  # the HR user in 生产部 is asked too


def test_a_reminder_reaches_only_those_who_have_not_answered(app, client, make_user, login, depts):
    round_id = make_round(app, [depts["生产部"]])
    answered, answered_email = make_user(department="销售部")
    waiting, waiting_email = make_user(department="质量部")
    make_user(department="生产部")  # nothing to rate: not asked
    rate(app, answered, round_id, depts["生产部"])
    hr_id, hr_email = make_user(Role.HR, department="生产部")
    login(hr_email)
    in_english(client)
    page = client.post(f"/surveys/rounds/{round_id}/remind", follow_redirects=True).get_data(as_text=True)
    assert "1 person who has not answered yet has been reminded." in page
    with app.app_context():
        assert set(db.session.scalars(select(Notice.user_id).where(Notice.kind == "survey_reminder"))) == {waiting}
        assert db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "remind_survey")) == {"round_id": round_id, "told": 1}
    assert mails_to(app, answered_email) == [] and len(mails_to(app, waiting_email)) == 1


def test_the_daily_run_reminds_two_days_before_closing_once(app, make_user, depts):
    round_id = make_round(app, [depts["生产部"]], opens=-3, closes=2)
    answered, _ = make_user(department="销售部")
    waiting, _ = make_user(department="质量部")
    rate(app, answered, round_id, depts["生产部"])
    with app.test_request_context():
        assert announcements.daily(day(app)) == {"announced": 0, "reminded": 1}
        assert announcements.daily(day(app)) == {"announced": 0, "reminded": 0}
        assert set(db.session.scalars(select(Notice.user_id).where(Notice.kind == "survey_closing"))) == {waiting}


def test_clicks_racing_on_two_devices_save_one_response(app, make_user, depts):
    from conftest import at_once

    round_id = make_round(app, depts.values())
    person, _ = make_user(department="销售部")
    assert at_once(app, lambda: rate(app, person, round_id, depts["生产部"]), 4) == []
    assert counts(app, round_id) == (1, 1)


def test_the_admin_picks_a_departments_head_among_its_people(app, client, make_user, login, depts):
    head, _ = make_user(department="生产部")
    outsider, _ = make_user(department="销售部")
    login(make_user(Role.ADMIN)[1])
    in_english(client)
    assert f'value="{head}"' in client.get(f"/admin/departments/{depts['生产部']}").get_data(as_text=True)
    refused = client.post(f"/admin/departments/{depts['生产部']}/head", data={"head": str(outsider)}, follow_redirects=True)
    assert "The head must be an active person" in refused.get_data(as_text=True)
    client.post(f"/admin/departments/{depts['生产部']}/head", data={"head": str(head)})
    with app.test_request_context():
        assert db.session.get(Department, depts["生产部"]).head_id == head
        assert privacy.person_export(head)["account"]["head_of"] == ["生产部"]
