"""HR imports staff from CSV or Excel: a preview first, row errors with line numbers, then all at once."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from courseware.extensions import db
from courseware.hr.staff_import import Importer, check_rows, plan, read_table
from courseware.models import HRScope, Role, User
from courseware.people.departments import tree

DEPARTMENTS = ["销售部/华东区", "销售部/华南区", "生产部/一车间", "生产部/二车间/夜班", "人力资源部"]


def staff_csv(count: int = 200, bad_line: int | None = 57, encoding: str = "utf-8-sig", third_role: str = "学员") -> bytes:
    lines = ["email,name,department,roles"]
    for n in range(1, count + 1):
        email = f"staff{n}@example.com"
        if n + 1 == bad_line:
            email = "not-an-email"
        lines.append(f"{email},员工{n},{DEPARTMENTS[n % len(DEPARTMENTS)]},{third_role if n == 3 else ''}")
    return ("\n".join(lines) + "\n").encode(encoding)


@pytest.fixture
def hr_user(make_user, login):
    user_id, email = make_user(Role.HR, department="人力资源部")
    login(email)
    return user_id


@pytest.fixture
def admin_user(make_user, login):
    user_id, email = make_user(Role.ADMIN, department="人力资源部")
    login(email)
    return user_id


def upload(client, data: bytes, filename: str = "staff.csv"):
    return client.post("/hr/people/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_two_hundred_staff_with_one_bad_row(client, admin_user, app):
    before = count_users(app)
    response = upload(client, staff_csv(third_role="hr"))
    assert response.status_code == 302
    preview_url = response.location
    preview = client.get(preview_url).get_data(as_text=True)
    assert count_users(app) == before  # nothing imported by a preview
    assert re.search(r'<span class="stat-value">199</span>', preview)
    assert "<td>57</td><td>&#39;not-an-email&#39; is not a valid email address</td>" in preview

    client.post(preview_url)
    client.post(preview_url)  # a double click imports once
    assert count_users(app) == before + 199
    with app.app_context():
        paths = {node.path for node in tree()}
        assert {"销售部 › 华东区", "生产部 › 二车间 › 夜班"} <= paths
        person = db.session.scalar(select(User).where(User.email == "staff3@example.com"))
        assert person.roles == {Role.HR} and person.department.name == "夜班"
        assert not person.check_password("")  # imported people set a password before logging in

    again = client.get(upload(client, staff_csv(third_role="hr")).location).get_data(as_text=True)
    assert re.search(r'<span class="stat-value">199</span> 未变化', again)


def test_excel_and_gbk_files_are_read(client, admin_user, app):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["邮箱", "姓名", "部门", "角色"])
    sheet.append(["wang@example.com", "王芳", "财务部 › 核算组", "学员"])
    sheet.append([None, None, None, None])
    sheet.append(["li@example.com", "李强", "财务部", "讲师, hr"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.post(upload(client, buffer.getvalue(), "staff.xlsx").location)
    client.post(upload(client, "email,name,department\nzhao@example.com,赵敏,质量部\n".encode("gb18030"), "gbk.csv").location)
    with app.app_context():
        li = db.session.scalar(select(User).where(User.email == "li@example.com"))
        assert li.roles == {Role.TRAINER, Role.HR}
        assert db.session.scalar(select(User.name).where(User.email == "zhao@example.com")) == "赵敏"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"name,department\nx,y\n", "a.csv", "missing column(s): email"),
        (b"", "a.csv", "the file is empty"),
        (b"PK\x03\x04garbage", "a.xlsx", "not a readable .xlsx file"),
        (b"email,name,department\n", "a.pdf", "File does not have an approved extension"),
    ],
)
def test_unreadable_files_get_a_message_on_the_form(client, hr_user, data, filename, message):
    client.post("/language/en")
    response = upload(client, data, filename)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_row_checks_name_every_problem():
    table = read_table("s.csv", (
        "email,name,department,roles\n"
        "a@example.com,甲,销售部,\n"
        "A@example.com,乙,销售部,\n"
        "b@example.com,,销售部,\n"
        "c@example.com,丙,,\n"
        "d@example.com,丁,销售部,boss\n"
        "e@example.com,戊,生产部,\n"
    ).encode())
    rows, errors = check_rows(table)
    assert [r.email for r in rows] == ["a@example.com", "e@example.com"]
    assert [(e.line, e.reason.split(" ")[0]) for e in errors] == [(3, "email"), (4, "a"), (5, "a"), (6, "unknown")]
    nul = check_rows(read_table("s.csv", "email,name,department\nf@example.com,己\x00,销售部\n".encode()))
    assert nul[0] == [] and "control character" in nul[1][0].reason


def test_the_plan_refuses_what_the_importer_may_not_do(app, make_user):
    """Pure rules, checked without a browser: scope first, then roles above trainee."""
    _, outsider = make_user(department="生产部")
    _, colleague = make_user(Role.TRAINER, department="销售部")
    table = read_table("s.csv", (
        "email,name,department,roles\n"
        "new@example.com,新,销售部/华东区,\n"
        f"{outsider},外,销售部,\n"
        f"{colleague},同,销售部,\n"
        "boss@example.com,老板,销售部,admin\n"
        "far@example.com,远,生产部,\n"
    ).encode())
    with app.app_context():
        scoped = plan(*check_rows(table), Importer(is_admin=False, allowed_paths={"销售部"}))
        assert [r.email for r in scoped.creates] == ["new@example.com"] and scoped.creates[0].roles == ("trainee",)
        assert [(e.line, e.reason) for e in scoped.errors] == [
            (3, f"{outsider} belongs to 生产部, outside the departments you manage"),
            (4, f"{colleague} holds the role trainer; only an administrator can change this account"),
            (5, "only an administrator can give the roles trainer, hr or admin"),
            (6, "department 生产部 is outside the departments you manage"),
        ]
        admin = plan(*check_rows(table), Importer(is_admin=True))
        assert admin.errors == [] and len(admin.creates) == 3
        assert [(r.email, r.roles) for r in admin.updates] == [(outsider, ("trainee",)), (colleague, ("trainer",))]


def test_hr_cannot_grant_roles_or_reach_beyond_its_scope_through_the_import(client, make_user, login, app):
    """The review's probes: HR making itself admin, creating an admin, demoting an admin, and pulling
    a learner from another department into its own scope to read their transcript."""
    hr_id, hr_email = make_user(Role.HR, department="销售部")
    admin_id, admin_email = make_user(Role.ADMIN, department="总经办")
    learner_id, learner_email = make_user(department="生产部")
    with app.app_context():
        sales = next(node.id for node in tree() if node.path == "销售部")
        db.session.add(HRScope(user_id=hr_id, department_id=sales))
        db.session.commit()
    login(hr_email)
    preview_url = upload(client, (
        "email,name,department,roles\n"
        f"{hr_email},我,销售部,\"hr,admin\"\n"
        "root@example.com,新管理员,销售部,admin\n"
        f"{admin_email},管理员,销售部,trainee\n"
        f"{learner_email},学员,销售部,\n"
        "fresh@example.com,新同事,销售部,\n"
    ).encode()).location
    preview = client.get(preview_url).get_data(as_text=True)
    refused = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", preview))
    assert refused == {
        "2": "only an administrator can give the roles trainer, hr or admin",
        "3": "only an administrator can give the roles trainer, hr or admin",
        "4": f"{admin_email} belongs to 总经办, outside the departments you manage",
        "5": f"{learner_email} belongs to 生产部, outside the departments you manage",
    }
    assert re.search(r'<span class="stat-value">4</span>', preview) and re.search(r'<span class="stat-value">1</span>', preview)
    client.post(preview_url)
    with app.app_context():
        roles = {u.email: (u.roles, u.department.name) for u in db.session.scalars(select(User))}
    assert roles[hr_email][0] == {Role.HR}
    assert roles[admin_email] == ({Role.ADMIN}, "总经办")
    assert roles[learner_email] == ({Role.TRAINEE}, "生产部")
    assert "root@example.com" not in roles and roles["fresh@example.com"] == ({Role.TRAINEE}, "销售部")
    assert client.get(f"/hr/learners/{learner_id}").status_code == 404


def test_an_admin_grants_roles_and_a_file_without_roles_changes_none(client, admin_user, make_user, app):
    _, hr_email = make_user(Role.HR, department="人力资源部")
    client.post(upload(client, f"email,name,department,roles\nnew-hr@example.com,新,人力资源部,hr\n{hr_email},改名,人力资源部,\n".encode()).location)
    with app.app_context():
        assert User.by_email("new-hr@example.com").roles == {Role.HR}
        kept = User.by_email(hr_email)
        assert (kept.name, kept.roles) == ("改名", {Role.HR})


def test_hr_limited_to_a_department_cannot_import_elsewhere(client, make_user, login, app):
    user_id, email = make_user(Role.HR, department="销售部")
    with app.app_context():
        sales = next(node.id for node in tree() if node.path == "销售部")
        db.session.add(HRScope(user_id=user_id, department_id=sales))
        db.session.commit()
    login(email)
    preview = client.get(upload(client, "email,name,department\nx@example.com,某,销售部/华东区\ny@example.com,某,生产部\n".encode()).location)
    assert "outside the departments you manage" in preview.get_data(as_text=True)


def test_only_hr_and_admins_import(client, make_user, login):
    _, email = make_user(Role.TRAINEE)
    login(email)
    assert client.get("/hr/people/import").status_code == 403
