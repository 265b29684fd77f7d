"""HR imports staff from CSV or Excel: a preview first, row errors with line numbers, then all at once."""
from __future__ import annotations

import csv
import io
import re

import pytest
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import func, select

from courseware.extensions import db
from courseware.hr.staff_import import Importer, RowError, check_rows, plan, read_table
from courseware.models import UNUSABLE_PASSWORD, HRScope, ImportBatch, OutboxMessage, Role, User, utcnow
from courseware.people.departments import find_or_create, tree

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
    client.post("/language/en")
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
    assert re.search(r'<span class="stat-value">199</span> unchanged', again)


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
    assert [(e.line, e.code) for e in errors] == [
        (3, "duplicate_email"), (4, "name_required"), (5, "department_required"), (6, "unknown_role"),
    ]
    assert [e.reason for e in errors][0::3] == ["the same email is also on line 2", "unknown role 'boss' (use trainee, trainer, hr, admin)"]
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
    with app.app_context(), force_locale("en"):
        scoped = plan(*check_rows(table), Importer(is_admin=False, allowed_paths={"销售部"}))
        assert [r.email for r in scoped.creates] == ["new@example.com"] and scoped.creates[0].roles == ("trainee",)
        assert [(e.line, e.reason) for e in scoped.errors] == [
            (3, f"{outsider} belongs to 生产部, outside the departments you manage"),
            (4, f"{colleague} holds the role Trainer; only an administrator can change this account"),
            (5, "only an administrator can give the roles trainer, hr or admin"),
            (6, "department 生产部 is outside the departments you manage"),
        ]
        admin = plan(*check_rows(table), Importer(is_admin=True))
        assert admin.errors == [] and len(admin.creates) == 3
        assert [(r.email, r.roles) for r in admin.updates] == [(outsider, ("trainee",)), (colleague, ("trainer",))]
        assert admin.new_departments == ["销售部 › 华东区"]  # 销售部 and 生产部 exist already


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
    client.post("/language/en")
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
    client.post("/language/en")
    preview = client.get(upload(client, "email,name,department\nx@example.com,某,销售部/华东区\ny@example.com,某,生产部\n".encode()).location)
    assert "outside the departments you manage" in preview.get_data(as_text=True)


def test_only_hr_and_admins_import(client, make_user, login):
    _, email = make_user(Role.TRAINEE)
    login(email)
    assert client.get("/hr/people/import").status_code == 403


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        return User.by_email(email)


def set_employee_id(app, email: str, employee_id: str) -> None:
    with app.app_context():
        User.by_email(email).employee_id = employee_id
        db.session.commit()


@pytest.mark.parametrize("heading", ["employee_id", "工号", "员工编号", "Employee ID"])
def test_the_employee_id_column_is_read_under_each_of_its_headings(heading):
    rows, errors = check_rows(read_table("s.csv", f"email,name,department,{heading}\na@example.com,甲,销售部, e-0042 \n".encode()))
    assert errors == [] and rows[0].employee_id == "E-0042"


def test_employee_ids_are_imported_once_each_and_kept_when_left_empty(client, admin_user, make_user, app):
    _, holder = make_user(department="销售部")
    set_employee_id(app, holder, "E1")
    client.post("/language/en")
    preview_url = upload(client, (
        "email,name,department,工号\n"
        "new1@example.com,甲,销售部, e100\n"
        "new2@example.com,乙,销售部,E100\n"
        "new3@example.com,丙,销售部,E1\n"
        f"{holder},改名,销售部,\n"
        "new4@example.com,丁,销售部,a@b\n"
    ).encode()).location
    preview = client.get(preview_url).get_data(as_text=True)
    refused = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", preview))
    assert refused == {
        "3": "the same employee ID is also on line 2",
        "4": f"employee ID E1 belongs to {holder}",
        "6": "an employee ID cannot contain @ (people sign in with it in place of an email)",
    }
    assert "<td>new1@example.com</td><td>甲</td><td>E100</td>" in preview
    client.post(preview_url)
    assert user_by_email(app, "new1@example.com").employee_id == "E100"
    assert user_by_email(app, "new2@example.com") is None and user_by_email(app, "new3@example.com") is None
    assert (user_by_email(app, holder).name, user_by_email(app, holder).employee_id) == ("改名", "E1")

    client.post(upload(client, f"email,name,department,employee_id\n{holder},改名,销售部,E2\n".encode()).location)
    assert user_by_email(app, holder).employee_id == "E2"


def test_hr_is_not_told_whose_employee_id_it_is_outside_its_scope(app, make_user):
    _, outsider = make_user(department="生产部")
    set_employee_id(app, outsider, "P7")
    table = read_table("s.csv", "email,name,department,employee_id\nnew@example.com,新,销售部,P7\n".encode())
    with app.app_context(), force_locale("en"):
        scoped = plan(*check_rows(table), Importer(is_admin=False, allowed_paths={"销售部"}))
        admin = plan(*check_rows(table), Importer(is_admin=True))
        assert [e.reason for e in scoped.errors] == ["employee ID P7 belongs to someone outside the departments you manage"]
        assert [e.reason for e in admin.errors] == [f"employee ID P7 belongs to {outsider}"]


def test_row_reasons_are_shown_in_the_language_of_whoever_reads_them(client, make_user, login, app):
    _, colleague = make_user(Role.TRAINER, department="销售部")
    _, hr_email = make_user(Role.HR, department="销售部")
    login(hr_email)
    client.post("/language/en")
    preview_url = upload(client, f"email,name,department\n{colleague},同事,销售部\nnot-an-email,某,销售部\n".encode()).location
    english = client.get(preview_url).get_data(as_text=True)
    assert f"<td>{colleague} holds the role Trainer; only an administrator can change this account</td>" in english
    assert "<td>&#39;not-an-email&#39; is not a valid email address</td>" in english

    client.post("/language/zh")  # the batch was stored while the interface was English
    chinese = client.get(preview_url).get_data(as_text=True)
    with app.test_request_context(), force_locale("zh"):
        held = RowError(2, "holds_role", {"email": colleague, "roles": ["trainer"]}).reason
        invalid = RowError(3, "invalid_email", {"email": "not-an-email"}).reason
    assert f"<td>{escape(held)}</td>" in chinese and f"<td>{escape(invalid)}</td>" in chinese
    assert "讲师" in held and "Trainer" not in chinese  # the role is named as the interface names it


def test_a_batch_stored_before_reasons_were_translated_still_shows_them(client, admin_user, app):
    with app.app_context():
        db.session.add(ImportBatch(id="old-batch", created_by_id=admin_user, filename="old.csv", rows={
            "rows": [{"line": 2, "email": "old@example.com", "name": "旧", "department": "销售部", "roles": []}],
            "errors": [{"line": 3, "reason": "'x' is not a valid email address"}],
        }))
        db.session.commit()
    page = client.get("/hr/people/import/old-batch").get_data(as_text=True)
    assert "<td>3</td><td>&#39;x&#39; is not a valid email address</td>" in page
    assert "<td>old@example.com</td>" in page
    client.post("/hr/people/import/old-batch")
    assert user_by_email(app, "old@example.com").name == "旧"


def test_columns_the_import_does_not_read_are_named_at_the_preview(client, admin_user):
    table = read_table("s.csv", "email,name,phone,department,,备注,\na@example.com,甲,139,销售部,x,,\n".encode())
    assert [(c.number, c.title) for c in table.unused] == [(3, "phone"), (5, ""), (6, "备注")]
    client.post("/language/en")
    preview = client.get(upload(client, "email,name,phone,department,,备注,\na@example.com,甲,139,销售部,x,,\n".encode()).location)
    page = preview.get_data(as_text=True)
    assert "Column 'phone' is not used." in page and "Column '备注' is not used." in page
    assert "Column 5 has no heading and is not used." in page and "Column 7" not in page  # an empty column says nothing


def test_a_department_that_does_not_exist_yet_is_shown_as_new(client, admin_user, make_user):
    make_user(department="销售部")
    preview = client.get(upload(client, (
        "email,name,department\na@example.com,甲,销售部\nb@example.com,乙,销售部/华东区\nc@example.com,丙,消售部\n"
    ).encode()).location).get_data(as_text=True)
    listed = re.search(r'<section class="card new-departments">(.*?)</section>', preview, re.S).group(1)
    assert re.findall(r"<li>([^<]+)</li>", listed) == ["消售部", "销售部 › 华东区"]  # the typo stands out
    assert '<td>销售部 › 华东区 <span class="badge badge-warn">新建</span></td>' in preview
    assert "<td>销售部</td>" in preview


def test_the_result_page_counts_what_the_import_did(client, admin_user, make_user, app):
    _, existing = make_user(department="销售部")
    with app.app_context():
        name = User.by_email(existing).name
    client.post("/language/en")
    lines = [f"new{n}@example.com,新{n},销售部" for n in range(5)] + [f"{existing},{name},销售部", "bad,坏,销售部"]
    preview_url = upload(client, ("email,name,department\n" + "\n".join(lines) + "\n").encode()).location
    result = client.post(preview_url, follow_redirects=True).get_data(as_text=True)
    stats = dict((label.strip(), int(n)) for n, label in re.findall(r'<span class="stat-value">(\d+)</span>([^<]+)</li>', result))
    assert stats == {"people created": 5, "people updated": 0, "unchanged": 1, "rows refused": 1}
    assert "5 created, 0 updated, 1 unchanged, 1 rows skipped with errors." in result
    assert "<td>8</td><td>&#39;bad&#39; is not a valid email address</td>" in result


def test_roles_are_shown_by_the_names_the_interface_uses(client, admin_user):
    preview = client.get(upload(client, "email,name,department,roles\na@example.com,甲,销售部,\nb@example.com,乙,销售部,\"讲师,hr\"\n".encode()).location)
    cells = re.findall(r"<td>([^<]*)</td></tr>", preview.get_data(as_text=True))
    assert cells == ["学员", "人力资源, 讲师"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("language", "headings"), [("zh", ["邮箱", "姓名", "部门", "角色", "工号"]),
                                                    ("en", ["email", "name", "department", "roles", "employee_id"])])
def test_the_template_downloads_and_imports_as_it_is(client, hr_user, fmt, language, headings):
    from openpyxl import load_workbook

    client.post(f"/language/{language}")
    response = client.get(f"/hr/people/import/template.{fmt}")
    assert response.status_code == 200
    data = response.get_data()
    if fmt == "csv":
        assert data.startswith("\ufeff".encode()) and "张三".encode() in data  # Excel reads the BOM as UTF-8
        assert next(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == headings
    else:
        assert list(load_workbook(io.BytesIO(data)).active.values)[0] == tuple(headings)
    preview = client.get(upload(client, data, f"template.{fmt}").location).get_data(as_text=True)
    assert re.findall(r'<span class="stat-value">(\d+)</span>', preview) == ["1", "0", "0", "0"]
    assert "<td>zhang.san@example.com</td><td>张三</td><td>E1001</td>" in preview and "flash-warning" not in preview


def test_the_template_link_is_on_the_import_page_and_only_for_hr(client, make_user, login):
    _, hr_email = make_user(Role.HR)
    login(hr_email)
    assert 'href="/hr/people/import/template.csv"' in client.get("/hr/people/import").get_data(as_text=True)
    client.post("/logout")
    login(make_user(Role.TRAINEE)[1])
    assert client.get("/hr/people/import/template.csv").status_code == 403


# --- the command for scheduled syncs ---------------------------------------------------------

def run_import(app, path, *options: str):
    return app.test_cli_runner().invoke(args=["staff", "import", str(path), *options])


def test_the_command_imports_good_rows_names_refused_ones_and_exits_1(app, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("email,name,department,roles,工号,phone\na@example.com,甲,销售部/华东区,hr,e1\nnot-an-email,乙,销售部,,\nc@example.com,丙,销售部,,E1\n", encoding="utf-8")
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "line 3: 'not-an-email' is not a valid email address" in result.stderr
    assert "line 4: the same employee ID is also on line 2" in result.stderr
    assert "column 'phone' is not used" in result.stderr
    assert "new department: 销售部 › 华东区" in result.stdout
    assert result.stdout.splitlines()[-1] == "create 1, update 0, unchanged 0, refused 2"
    person = user_by_email(app, "a@example.com")
    assert person.roles == {Role.HR} and person.employee_id == "E1"  # the operator imports as an administrator

    path.write_text("email,name,department\na@example.com,甲,销售部/华东区\nb@example.com,乙,销售部\n", encoding="utf-8")
    again = run_import(app, path)
    assert again.exit_code == 0 and again.stdout.splitlines()[-1] == "create 1, update 0, unchanged 1, refused 0"


def test_a_dry_run_says_what_would_change_and_changes_nothing(app, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("email,name,department\na@example.com,甲,销售部\n", encoding="utf-8")
    result = run_import(app, path, "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "would create 1, would update 0, unchanged 0, refused 0; nothing was changed (--dry-run)"
    assert count_users(app) == 0
    path.write_text("email,name,department\nbad,甲,销售部\n", encoding="utf-8")
    assert run_import(app, path, "--dry-run").exit_code == 1


def test_an_unreadable_file_stops_the_command_with_its_reason(app, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("name,department\n甲,销售部\n", encoding="utf-8")
    result = run_import(app, path)
    assert result.exit_code == 1 and "line 1: missing column(s): email" in result.stderr


def test_the_command_invites_the_people_it_created_and_those_never_invited(app, tmp_path, make_user):
    _, hr_email = make_user(Role.HR, department="人力资源部")
    _, trainee_email = make_user(department="销售部")
    with app.app_context():
        for email, invited in (("waiting@example.com", None), ("invited@example.com", utcnow())):
            db.session.add(User(email=email, name="待", department=find_or_create("销售部"),
                                password_hash=UNUSABLE_PASSWORD, invited_at=invited))
        db.session.commit()
    path = tmp_path / "staff.csv"
    path.write_text("email,name,department\n" + "".join(
        f"{email},某,销售部\n" for email in ("new@example.com", "waiting@example.com", "invited@example.com", trainee_email)
    ), encoding="utf-8")

    assert run_import(app, path, "--invite").exit_code == 2  # --by is needed: the CLI has no signed-in user
    assert run_import(app, path, "--invite", "--by", trainee_email).exit_code == 2
    assert user_by_email(app, "new@example.com") is None

    dry = run_import(app, path, "--invite", "--by", hr_email, "--dry-run")
    assert dry.stdout.splitlines()[-1].endswith("would invite 2; nothing was changed (--dry-run)")
    result = run_import(app, path, "--invite", "--by", hr_email)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "create 1, update 3, unchanged 0, refused 0; invite 2"
    with app.app_context():
        mails = {m["to"]: m["body"] for m in db.session.scalars(select(OutboxMessage.payload))}
    assert set(mails) == {"new@example.com", "waiting@example.com"}
    assert app.config["PUBLIC_URL"] + "/invitation/" in mails["new@example.com"]
    assert run_import(app, path, "--invite", "--by", hr_email).stdout.splitlines()[-1].endswith("invite 0")
