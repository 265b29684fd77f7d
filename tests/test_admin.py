"""Administration: edit people, roles, departments; deactivate without losing records; the audit log."""
from __future__ import annotations

from sqlalchemy import func, select

from courseware.extensions import db
from courseware.models import LearningRecord, Role, User
from courseware.people.departments import find_or_create, tree


def test_admin_edits_roles_department_and_hr_scope(client, make_user, login, app):
    _, admin = make_user(Role.ADMIN)
    person_id, person = make_user(department="销售部")
    login(admin)
    with app.app_context():
        east = find_or_create("销售部/华东区").id
        db.session.commit()
    page = client.get(f"/admin/users/{person_id}")
    assert page.status_code == 200
    response = client.post(f"/admin/users/{person_id}", data={
        "name": "新名字", "department": east, "roles": ["trainee", "hr"], "scope": [east], "active": "y",
        "password": "fresh-pass-1",
    })
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, person_id)
        assert user.name == "新名字" and user.department_id == east
        assert user.roles == {Role.TRAINEE, Role.HR} and user.scope_department_ids == {east}
        assert user.check_password("fresh-pass-1")


def test_deactivating_keeps_records_and_blocks_login(client, make_user, login, published, app):
    person_id, person = make_user()
    login(person)
    client.post("/lessons/ic-definition/complete")
    client.post("/logout")
    _, admin = make_user(Role.ADMIN)
    login(admin)
    with app.app_context():
        department = db.session.get(User, person_id).department_id
    client.post(f"/admin/users/{person_id}", data={"name": "x", "department": department, "roles": ["trainee"]})
    client.post("/logout")
    assert login(person).status_code == 200  # refused: the form is shown again
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LearningRecord).where(LearningRecord.user_id == person_id)) == 2


def test_an_admin_cannot_lock_themselves_out(client, make_user, login, app):
    admin_id, admin = make_user(Role.ADMIN)
    login(admin)
    with app.app_context():
        department = db.session.get(User, admin_id).department_id
    response = client.post(f"/admin/users/{admin_id}", data={"name": "x", "department": department, "roles": ["trainee"], "active": "y"})
    assert response.status_code == 200 and "不能移除自己的管理员角色" in response.get_data(as_text=True)


def test_departments_nest_and_rename(client, make_user, login, app):
    _, admin = make_user(Role.ADMIN, department="信息技术部")
    login(admin)
    with app.app_context():
        it = next(n.id for n in tree() if n.path == "信息技术部")
    client.post("/admin/departments", data={"name": "运维组", "parent": it})
    again = client.post("/admin/departments", data={"name": "运维组", "parent": it})
    assert "该部门已存在" in again.get_data(as_text=True)
    with app.app_context():
        ops = next(n for n in tree() if n.path == "信息技术部 › 运维组")
    client.post(f"/admin/departments/{ops.id}/rename", data={"name": "基础设施组"})
    with app.app_context():
        assert "信息技术部 › 基础设施组" in {n.path for n in tree()}


def test_admins_read_the_audit_log(client, make_user, login, published):
    learner_id, _ = make_user()
    _, admin = make_user(Role.ADMIN)
    login(admin)
    client.get(f"/hr/learners/{learner_id}")
    client.get("/hr/learners.csv?q=user").get_data()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "view_transcript" in page and '{"filter": {"q": "user"}, "format": "csv"}' in page
