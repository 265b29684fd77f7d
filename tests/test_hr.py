"""HR completion records: assignments, dashboard, matrix filters, transcripts, exports, scoping."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from conftest import pass_quiz
from sqlalchemy import select

from courseware.extensions import db
from courseware.models import Assignment, AuditEntry, HRScope, Progress, Role, utcnow
from courseware.people.departments import find_or_create


def complete_course(app, user_id: int, course_id: str = "internal-customer-service") -> None:
    """Factory: record the course as completed for a learner (as records.py would at the end)."""
    with app.app_context():
        now = utcnow()
        db.session.add(Progress(user_id=user_id, activity_id=course_id, kind="course", status="completed",
                                revision_id=1, started_at=now, completed_at=now, updated_at=now))
        db.session.commit()


@pytest.fixture
def staff(app, make_user, published):
    """Learners in nested departments: 销售部 › 华东区 (2), 销售部 › 华南区 (1), 生产部 (1)."""
    people = {
        "east1": make_user(department="销售部/华东区"),
        "east2": make_user(department="销售部/华东区"),
        "south": make_user(department="销售部/华南区"),
        "plant": make_user(department="生产部"),
    }
    complete_course(app, people["east1"][0])
    return people


@pytest.fixture
def hr(make_user, login):
    user_id, email = make_user(Role.HR, department="人力资源部")
    login(email)
    return user_id


def org_today(app) -> date:
    """Today where the organisation is (Asia/Shanghai by default), not where the tests run."""
    from courseware.hr.assignments import today

    with app.app_context():
        return today()


def department_id(app, path: str) -> int:
    with app.app_context():
        return find_or_create(path).id


def test_dashboard_shows_completion_by_department(client, staff, hr):
    page = client.get("/hr/").get_data(as_text=True)
    assert "销售部 › 华东区" in page and "<svg" in page
    assert "<td>2</td><td>1</td><td>50%</td>" in page  # 华东区: 2 learners, 1 completed
    assert "<td>3</td><td>1</td><td>33%</td>" in page  # 销售部 counts its sub-departments


def test_assignment_reaches_sub_departments_and_turns_overdue(client, staff, hr, app, login, make_user):
    sales = department_id(app, "销售部")
    due = org_today(app) + timedelta(days=10)
    response = client.post("/hr/assignments", data={
        "activity": "internal-customer-service", "department": sales, "email": "", "due_on": due.isoformat(),
    })
    assert response.status_code == 302
    page = client.get("/hr/").get_data(as_text=True)
    assert "3 人中已完成 1 人" in page

    with app.app_context():  # the due date passes
        assignment = db.session.scalar(select(Assignment))
        assignment.due_on = org_today(app) - timedelta(days=1)
        assignment_id = assignment.id
        db.session.commit()
    overdue = client.get(f"/hr/learners?assignment={assignment_id}&status=overdue").get_data(as_text=True)
    assert overdue.count('href="/hr/learners/') == 2  # east2 and south; east1 completed; plant not assigned

    client.post("/logout")
    login(staff["south"][1])
    home = client.get("/").get_data(as_text=True)
    assert "分配给你的学习" in home and "已逾期" in home


def test_a_date_in_the_past_gets_a_message_on_the_form(client, staff, hr, app):
    response = client.post("/hr/assignments", data={
        "activity": "internal-customer-service", "department": department_id(app, "生产部"),
        "due_on": "2001-01-01",
    })
    assert response.status_code == 200 and "截止日期已过" in response.get_data(as_text=True)
    bad = client.post("/hr/assignments", data={"activity": "nope", "department": "x", "due_on": "someday"})
    assert bad.status_code == 200


def test_matrix_filters_by_sub_department_search_and_pages(client, staff, hr, app, make_user):
    for _ in range(55):
        make_user(department="销售部/华南区")
    south = department_id(app, "销售部/华南区")
    page1 = client.get(f"/hr/learners?department={south}").get_data(as_text=True)
    assert "56" in page1 and "rel=\"next\"" in page1
    page2 = client.get(f"/hr/learners?department={south}&page=2").get_data(as_text=True)
    assert page2.count('href="/hr/learners/') == 6
    sales = department_id(app, "销售部")
    found = client.get(f"/hr/learners?department={sales}&q={staff['east2'][1]}").get_data(as_text=True)
    assert found.count('href="/hr/learners/') == 1
    weird = client.get("/hr/learners?department=abc&from=notadate&page=-4")
    assert weird.status_code == 200


def test_exports_honour_filters_open_in_excel_and_are_audited(client, staff, hr, app):
    """华东区: east1 completed the course, east2 is 4 days late on the department's assignment."""
    on = org_today(app)
    with app.app_context():
        db.session.add(Assignment(activity_id="internal-customer-service", department_id=find_or_create("销售部").id,
                                  due_on=on - timedelta(days=4)))
        db.session.commit()
    east = department_id(app, "销售部/华东区")
    response = client.get(f"/hr/learners.csv?department={east}")
    body = response.get_data()
    assert body.startswith("\ufeff".encode()) and "华东区".encode() in body
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:10] == ["姓名", "工号", "邮箱", "部门", "课程状态", "完成日期", "结业测评最高分（%）", "学时（分钟）", "截止日期", "逾期天数"]
    assert len(rows) == 3
    by_email = {row[2]: row for row in rows[1:]}
    done, late = by_email[staff["east1"][1]], by_email[staff["east2"][1]]
    assert done[3:10] == ["销售部 › 华东区", "已完成", on.isoformat(), "", "0", (on - timedelta(days=4)).isoformat(), ""]
    assert late[3:10] == ["销售部 › 华东区", "未开始", "", "", "0", (on - timedelta(days=4)).isoformat(), "4"]

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client.get(f"/hr/learners.xlsx?department={east}").get_data())).active
    values = {row[2]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values[staff["east1"][1]][5].date() == on  # a date cell Excel sorts and filters as a date
    assert values[staff["east2"][1]][9] == 4  # a number
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}3"
    assert sheet.column_dimensions["D"].width >= 12
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export_learners")).all()
        assert [e.detail for e in entries] == [
            {"format": "csv", "filter": {"department": str(east)}},
            {"format": "xlsx", "filter": {"department": str(east)}},
        ]


def test_exported_names_never_become_formulas_in_excel(client, app, make_user, login, published):
    from openpyxl import load_workbook

    from courseware.models import User

    learner_id, _ = make_user(department="=2+3")
    with app.app_context():
        db.session.get(User, learner_id).name = '=HYPERLINK("http://evil.example","点我")'
        db.session.commit()
    login(make_user(Role.HR)[1])
    rows = list(csv.reader(io.StringIO(client.get("/hr/learners.csv").get_data().decode("utf-8-sig"))))
    hostile = next(row for row in rows if "HYPERLINK" in row[0])
    assert hostile[0] == '\'=HYPERLINK("http://evil.example","点我")' and hostile[3] == "\'=2+3"
    sheet = load_workbook(io.BytesIO(client.get("/hr/learners.xlsx").get_data())).active
    cell = next(row[0] for row in sheet.iter_rows() if "HYPERLINK" in str(row[0].value))
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil.example","点我")'


@pytest.mark.parametrize(("name", "in_csv", "in_xlsx"), [
    ("x;=1+1", "x;'=1+1", "x;=1+1"),  # Excel with `;` as list separator would split it
    ("a,@SUM(1)\t-2\n+3", "a,'@SUM(1)\t'-2\n'+3", "a,@SUM(1)\t-2\n+3"),
    ("张\x01三\x1b[31m", "张三[31m", "张三[31m"),  # control characters an old sign-up let in
    ("\x01=1+1", "'=1+1", "=1+1"),
    ("李四\ufffe\uffff", "李四", "李四"),
])
def test_exports_survive_separators_and_control_characters(
    client, app, make_user, login, published, name, in_csv, in_xlsx
):
    from openpyxl import load_workbook

    from courseware.models import User

    learner_id, email = make_user(department="销售部")
    with app.app_context():
        db.session.get(User, learner_id).name = name
        db.session.commit()
    login(make_user(Role.HR)[1])
    body = client.get("/hr/learners.csv").get_data()
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(text)) if row[2] == email] == [in_csv]
    assert text.startswith('"姓名","工号","邮箱","部门"')  # every field quoted, even where no quote is needed
    pieces = [piece.strip('"') for piece in re.split(r"[;,\t\r\n]", text)]  # however a spreadsheet splits it
    assert not [piece for piece in pieces if piece.startswith(("=", "+", "-", "@"))]
    sheet = load_workbook(io.BytesIO(client.get("/hr/learners.xlsx").get_data())).active
    assert [row[0] for row in sheet.values if row[2] == email] == [in_xlsx]


def test_transcript_drills_down_to_a_quiz_answer_and_is_audited(client, make_user, login, published, app):
    learner_id, learner_email = make_user(department="销售部")
    login(learner_email)
    with app.test_request_context():
        from courseware.publishing import live_course

        quiz = live_course().course.quiz("quiz-why-it-matters")
    pass_quiz(client, quiz)
    client.post("/logout")
    _, hr_email = make_user(Role.HR)
    login(hr_email)
    transcript = client.get(f"/hr/learners/{learner_id}").get_data(as_text=True)
    link = transcript.split(f'href="/hr/learners/{learner_id}/attempts/')[1].split('"')[0]
    detail = client.get(f"/hr/learners/{learner_id}/attempts/{link}").get_data(as_text=True)
    first = quiz.questions[0]
    assert first.describe(first.correct_answer())[0] in detail and "100%" in detail
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions == ["view_transcript", "view_attempt"]


def test_hr_limited_to_one_department_sees_only_its_learners(client, staff, make_user, login, app):
    hr_id, hr_email = make_user(Role.HR, department="销售部")
    with app.app_context():
        db.session.add(HRScope(user_id=hr_id, department_id=find_or_create("销售部/华南区").id))
        db.session.commit()
    login(hr_email)
    matrix = client.get("/hr/learners").get_data(as_text=True)
    assert matrix.count('href="/hr/learners/') == 1  # only 华南区's learner
    assert client.get(f"/hr/learners/{staff['east1'][0]}").status_code == 404
    assert client.get(f"/hr/learners/{staff['south'][0]}").status_code == 200
    rows = list(csv.reader(io.StringIO(client.get("/hr/learners.csv").get_data().decode("utf-8-sig"))))
    assert [row[2] for row in rows[1:]] == [staff["south"][1]]
    plant = department_id(app, "生产部")
    refused = client.post("/hr/assignments", data={
        "activity": "internal-customer-service", "department": plant, "due_on": (org_today(app) + timedelta(days=3)).isoformat(),
    })
    assert refused.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Assignment)) is None
        db.session.add(Assignment(activity_id="internal-customer-service", user_id=staff["plant"][0],
                                  due_on=org_today(app) + timedelta(days=3)))
        db.session.commit()
    assert staff["plant"][1] not in client.get("/hr/assignments").get_data(as_text=True)


def test_hr_sees_employee_ids_in_the_list_the_transcript_and_the_exports(client, staff, hr, app):
    from openpyxl import load_workbook

    from courseware.models import User

    east_id, east_email = staff["east1"]
    with app.app_context():
        db.session.get(User, east_id).employee_id = "E0042"
        db.session.commit()
    matrix = client.get("/hr/learners").get_data(as_text=True)
    assert re.search(rf'href="/hr/learners/{east_id}">[^<]+</a>.*?</th>\s*<td>E0042</td>', matrix, re.S)
    assert matrix.count("<td>E0042</td>") == 1  # the others have none
    assert "工号 E0042" in client.get(f"/hr/learners/{east_id}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(client.get("/hr/learners.csv").get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["姓名", "工号", "邮箱"]
    assert {row[2]: row[1] for row in rows[1:] if row[1]} == {east_email: "E0042"} and len(rows) > 2
    sheet = load_workbook(io.BytesIO(client.get("/hr/learners.xlsx").get_data())).active
    assert [row[1] for row in sheet.values if row[2] == east_email] == ["E0042"]


@pytest.mark.parametrize("role", [Role.TRAINEE, Role.TRAINER])
def test_hr_pages_are_for_hr_and_admins(client, make_user, login, published, role):
    _, email = make_user(role)
    login(email)
    for path in ("/hr/", "/hr/learners", "/hr/learners.csv", "/hr/assignments", "/hr/learners/1"):
        assert client.get(path).status_code == 403, path


def test_internal_customer_view_ranks_interfaces_and_profiles_departments(client, make_user, login, published, app):
    from conftest import play_model_path

    from courseware.learning.roleplay import model_path, play

    with app.test_request_context():
        from courseware.publishing import live_course

        scenario = live_course().course.scenario("scenario-rush-order")
    model = model_path(scenario)
    _, sales = make_user(department="销售部")
    login(sales)
    play_model_path(client, scenario)
    client.post("/logout")

    _, plant = make_user(department="生产部")
    login(plant)
    run_url = client.post(f"/scenarios/{scenario.id}/start").location
    choices: list[str] = []
    while not (state := play(scenario, choices)).finished:  # always the last-listed choice
        choice = state.node.choices[-1].id
        client.post(f"{run_url}/choose", data={"step": len(choices), "choice": choice})
        choices.append(choice)
    client.post("/logout")

    _, hr_email = make_user(Role.HR)
    login(hr_email)
    page = client.get("/hr/internal-customers").get_data(as_text=True)
    best, other = sum(model.profile.values()), sum(state.profile.values())
    expected = round(100 * ((best + other) / 2) / best)
    assert f"<td>{scenario.supplier}</td><td>{scenario.receiver}</td>" in page
    assert f'<span class="progress-value">{expected}%</span>' in page
    assert f"{state.profile['沟通']:+.1f}" in page and f"{model.profile['沟通']:+.1f}" in page


def test_hr_sees_who_is_expiring(client, make_user, login, published, app):
    from datetime import datetime, timezone

    from courseware.models import Certificate

    learner_id, _ = make_user(department="生产部")
    with app.app_context():
        db.session.add(Certificate(code="TEST-CODE-0001", user_id=learner_id, course_id="internal-customer-service",
                                   course_title="内部客户服务意识", revision_id=published,
                                   issued_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
                                   expires_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
        db.session.commit()
    _, hr_email = make_user(Role.HR)
    login(hr_email)
    assert "已于 2026-01-01 过期" in client.get("/hr/").get_data(as_text=True)


def test_a_due_date_outside_the_calendar_window_gets_a_message_on_the_form(client, staff, hr, app):
    client.post("/language/en")
    for due_on in ("9999-12-31", "0001-01-01"):
        response = client.post("/hr/assignments", data={
            "activity": "internal-customer-service", "department": department_id(app, "生产部"), "due_on": due_on,
        })
        assert response.status_code == 200
        assert "Choose a date between 1900-01-01 and 9998-12-31." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Assignment)).all() == []


def test_a_search_with_a_control_character_is_shown_refused_and_ignored(client, staff, hr):
    client.post("/language/en")
    page = client.get("/hr/learners?q=east%01").get_data(as_text=True)
    assert "This field contains a control character; remove it." in page
    assert page.count('href="/hr/learners/') == client.get("/hr/learners").get_data(as_text=True).count('href="/hr/learners/')


def assignment_choices(client) -> list[str]:
    """The assignment ids the learner list's filter offers."""
    page = client.get("/hr/learners").get_data(as_text=True)
    return re.findall(r'<option[^>]*value="([1-9]\d*)"', page.split('name="assignment"')[1].split("</select>")[0])


def test_the_assignment_filter_offers_only_assignments_in_scope(client, staff, make_user, login, app):
    due = org_today(app) + timedelta(days=5)
    with app.app_context():
        made = {
            path: Assignment(activity_id="internal-customer-service", department_id=find_or_create(path).id, due_on=due)
            for path in ("销售部", "销售部/华南区", "销售部/华东区", "生产部")
        } | {
            name: Assignment(activity_id="internal-customer-service", user_id=staff[name][0], due_on=due)
            for name in ("south", "plant")
        }
        db.session.add_all(made.values())
        db.session.commit()
        ids = {name: str(assignment.id) for name, assignment in made.items()}
    hr_id, hr_email = make_user(Role.HR, department="销售部")
    admin_id, admin_email = make_user(Role.ADMIN, department="销售部")
    with app.app_context():
        db.session.add_all(HRScope(user_id=user_id, department_id=find_or_create("销售部/华南区").id)
                           for user_id in (hr_id, admin_id))
        db.session.commit()
    login(hr_email)
    # 销售部's assignment reaches 华南区's people too (and the dashboard links to it).
    assert sorted(assignment_choices(client)) == sorted([ids["销售部"], ids["销售部/华南区"], ids["south"]])
    hidden = client.get(f"/hr/learners?assignment={ids['plant']}").get_data(as_text=True)
    assert hidden.count('href="/hr/learners/') == 1  # the filter is refused: 华南区's one learner
    client.post("/logout")
    for email in (admin_email, make_user(Role.HR)[1]):  # an admin is never limited, nor HR without a scope
        login(email)
        assert sorted(assignment_choices(client)) == sorted(ids.values())
        client.post("/logout")
