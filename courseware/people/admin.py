"""Administration: people, their roles and departments (with their group robots), HR scopes, personal data,
and the audit log."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..access import admin_required
from ..extensions import db
from ..forms import EmptyForm, FlaskForm, options
from ..inputs import MAX_ID, control_character, int_arg, integer
from ..models import AuditEntry, Department, HRScope, OutboxMessage, Role, User
from ..outbox import queue as outbox
from ..outbox.robots import PLATFORMS
from . import audit, privacy, sessions, tokens
from .departments import add_child, find_child, tree
from .forms import AnonymiseForm, strong_password

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50
ROLE_LABELS = {Role.TRAINEE: _l("Trainee"), Role.TRAINER: _l("Trainer"), Role.HR: _l("HR"), Role.ADMIN: _l("Admin")}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    department = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])
    roles = CheckboxesField(_l("Roles"), choices=options([(r.value, label) for r, label in ROLE_LABELS.items()]))
    scope = SelectMultipleField(_l("HR limited to these departments (none: all)"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Active (can log in)"))
    password = PasswordField(_l("Set a new password"), validators=[Optional(), strong_password])


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    parent = SelectField(_l("Part of"), coerce=int, validators=[Optional()])


def web_address(form, field) -> None:
    parts = urlsplit(field.data or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_l("Enter the robot's webhook address, starting with https:// or http://."))


class RobotForm(FlaskForm):
    kind = SelectField(_l("Group robot"), choices=options([("", _l("None"))] + [(k, p.label) for k, p in PLATFORMS.items()]))
    url = StringField(_l("Webhook address"), validators=[Optional(), Length(max=500), web_address])
    secret = PasswordField(_l("Signing secret (DingTalk and Feishu; blank keeps the one set)"), validators=[Optional(), Length(max=200)])
    clear_secret = BooleanField(_l("Remove the signing secret"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data and not self.url.data:
            self.url.errors.append(_l("A group robot needs its webhook address."))
            return False
        return valid


@bp.route("/users")
@admin_required
def users():
    search = request.args.get("q", "").strip()[:100]
    statement = select(User).order_by(User.name, User.id)
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(or_(func.lower(User.name).like(pattern), func.lower(User.email).like(pattern)))
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    pages = max(1, -(-total // PER_PAGE))
    page = min(int_arg("page", 1, lo=1), pages)
    people = db.session.scalars(statement.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    paths = {node.id: node.path for node in tree()}
    return render_template(
        "admin/users.html", users=people, paths=paths, search=search, page=page, pages=pages,
        total=total, role_labels=ROLE_LABELS,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = _user_form(user, submitted=request.method == "POST")
    if form.validate_on_submit():
        roles = {Role(r) for r in form.roles.data}
        if user.id == current_user.id and (Role.ADMIN not in roles or not form.active.data):
            form.roles.errors.append(_("You cannot remove your own admin role or deactivate yourself."))
        else:
            user.name = form.name.data.strip()
            user.department_id = form.department.data
            user.roles = roles or {Role.TRAINEE}
            user.active = form.active.data
            user.scope_rows = [HRScope(department_id=d) for d in form.scope.data]
            if form.password.data:
                user.set_password(form.password.data)
            if form.password.data or not user.active:
                sessions.end_sessions(user)  # a copied cookie or an old password's session ends here
                tokens.revoke(user.email)  # and an invitation or reset link not used yet
            db.session.commit()
            flash(_("Saved %(name)s.", name=user.name), "success")
            return redirect(url_for(".users", q=user.email))
    return _user_page(user, form)


@bp.route("/users/<int:user_id>/export.json")
@admin_required
def export_person(user_id: int):
    """Download everything stored about one person (a subject access request)."""
    user = db.session.get(User, user_id) or abort(404)
    audit.record("export_person", user.id)
    return Response(
        json.dumps(privacy.person_export(user.id), ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="person-{user.id}.json"'},
    )


@bp.route("/users/<int:user_id>/anonymise", methods=["POST"])
@admin_required
def anonymise_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = AnonymiseForm()
    if form.validate_on_submit():
        if User.normalise_email(form.email.data) != user.email:
            form.email.errors.append(_("That is not this person's email; nothing was changed."))
        else:
            try:
                privacy.anonymise(user.id, current_user)
            except privacy.Refused as refusal:
                form.email.errors.append(str(refusal))
            else:
                flash(_("The person was anonymised; their learning records are kept without their name."), "success")
                return redirect(url_for(".edit_user", user_id=user.id))
    return _user_page(user, anonymise_form=form)


def _user_form(user: User, submitted: bool) -> UserForm:
    """The account form, as the admin sent it or, if not `submitted`, filled in from `user`."""
    nodes = tree()
    form = UserForm() if submitted else UserForm(formdata=None, obj=user)
    form.personal = (user.email,)
    form.department.choices = options([(n.id, n.path) for n in nodes])
    form.scope.choices = options([(n.id, n.path) for n in nodes])
    if not submitted:
        form.department.data = user.department_id
        form.roles.data = sorted(r.value for r in user.roles)
        form.scope.data = sorted(user.scope_department_ids)
    return form


def _user_page(user: User, form: UserForm | None = None, anonymise_form: AnonymiseForm | None = None) -> str:
    return render_template(
        "admin/user.html", user=user, form=form or _user_form(user, submitted=False),
        anonymise_form=anonymise_form or AnonymiseForm(formdata=None), anonymised=privacy.is_anonymised(user),
    )


@bp.route("/departments", methods=["GET", "POST"])
@admin_required
def departments():
    nodes = tree()
    form = DepartmentForm()
    form.parent.choices = options([(0, _("— top level —"))] + [(n.id, n.path) for n in nodes])
    if form.validate_on_submit():
        parent = db.session.get(Department, form.parent.data) if form.parent.data else None
        name = form.name.data.strip()
        if find_child(name, parent):
            form.name.errors.append(_("This department exists already."))
        else:
            add_child(name, parent)
            db.session.commit()
            flash(_("Department created."), "success")
            return redirect(url_for(".departments"))
    counts = dict(db.session.execute(select(User.department_id, func.count()).where(User.active.is_(True)).group_by(User.department_id)).all())
    contacts = dict(db.session.execute(
        select(Department.id, User.email).join(User, User.id == Department.hr_contact_id)
    ).all())
    robots = {
        department_id: PLATFORMS[kind].label
        for department_id, kind in db.session.execute(select(Department.id, Department.robot_kind).where(Department.robot_kind.in_(PLATFORMS)))
    }
    return render_template("admin/departments.html", nodes=nodes, form=form, counts=counts, contacts=contacts, robots=robots)


@bp.route("/departments/<int:department_id>/rename", methods=["POST"])
@admin_required
def rename_department(department_id: int):
    department = db.session.get(Department, department_id) or abort(404)
    name = request.form.get("name", "").strip()
    if control_character(name):
        flash(_("This field contains a control character; remove it."), "warning")
    elif not name or len(name) > 120:
        flash(_("A department needs a name of at most 120 characters."), "warning")
    else:
        department.name = name
        db.session.commit()
        flash(_("Department renamed."), "success")
    return redirect(url_for(".departments"))


@bp.route("/departments/<int:department_id>/contact", methods=["POST"])
@admin_required
def department_contact(department_id: int):
    """Set who receives the department's daily digest of overdue learners (blank: nobody)."""
    department = db.session.get(Department, department_id) or abort(404)
    email = request.form.get("email", "").strip()
    contact = User.by_email(email) if email else None
    if email and (contact is None or not contact.has_role(Role.HR)):
        flash(_("The HR contact must be an HR user's email."), "warning")
    else:
        department.hr_contact_id = contact.id if contact else None
        db.session.commit()
        flash(_("HR contact saved."), "success")
    return redirect(url_for(".departments"))


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@admin_required
def department(department_id: int):
    """The department's group robot: which platform, its webhook and secret, and the posts it refused."""
    department = db.session.get(Department, department_id) or abort(404)
    form = RobotForm() if request.method == "POST" else RobotForm(formdata=None, kind=department.robot_kind or "", url=department.robot_url)
    if form.validate_on_submit():
        _set_robot(department, form)
        db.session.commit()
        flash(_("Group robot saved."), "success")
        return redirect(url_for(".department", department_id=department.id))
    failures = db.session.scalars(outbox.robot_failures(department.id).limit(PER_PAGE)).all()
    path = next((node.path for node in tree() if node.id == department.id), department.name)
    return render_template(
        "admin/department.html", department=department, path=path, form=form, failures=failures,
        people=_people_in(department), head_form=EmptyForm(),
    )


def _people_in(department: Department) -> list[User]:
    """The active people of a department and those below it, by name: whom it may have as its head."""
    below = select(Department.id).where(Department.lineage.startswith(department.lineage))
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.department_id.in_(below)).order_by(User.name, User.id)
    ))


@bp.post("/departments/<int:department_id>/head")
@admin_required
def department_head(department_id: int):
    """Set the department's head, who sees its survey results and answers them with improvement plans (none: nobody)."""
    department = db.session.get(Department, department_id) or abort(404)
    if EmptyForm().validate_on_submit():
        head_id = integer(request.form.get("head", ""))
        head = next((person for person in _people_in(department) if person.id == head_id), None)
        if head_id and head is None:
            flash(_("The head must be an active person of the department or one below it."), "warning")
        else:
            department.head_id = head.id if head else None
            db.session.add(AuditEntry(user_id=current_user.id, action="department_head", subject_user_id=department.head_id,
                                      detail={"department_id": department.id}))
            db.session.commit()
            flash(_("Department head saved."), "success")
    return redirect(url_for(".department", department_id=department.id))


def _set_robot(department: Department, form: RobotForm) -> None:
    """Change the robot as the form says, and audit it without the secret or the address's key."""
    kind = form.kind.data or None
    department.robot_kind = kind
    department.robot_url = form.url.data.strip() if kind else None
    if not kind or form.clear_secret.data:
        department.robot_secret = None
    elif form.secret.data:
        department.robot_secret = form.secret.data.strip()
    db.session.add(AuditEntry(user_id=current_user.id, action="department_robot", detail={
        "department_id": department.id, "kind": kind,
        "host": urlsplit(department.robot_url).hostname if department.robot_url else None,
        "secret": "set" if department.robot_secret else "none",
    }))


@bp.post("/departments/<int:department_id>/robot-posts/<int:message_id>/send-again")
@admin_required
def resend_robot_post(department_id: int, message_id: int):
    message = db.session.scalar(outbox.robot_failures(department_id).where(OutboxMessage.id == message_id, outbox.given_up())) or abort(404)
    if EmptyForm().validate_on_submit():
        outbox.send_again(message)
        db.session.add(AuditEntry(user_id=current_user.id, action="resend_message", detail={
            "message_id": message.id, "kind": message.kind, "department_id": department_id, "last_error": message.last_error,
        }))
        db.session.commit()
        flash(_("The post will be sent again shortly."), "success")
    return redirect(url_for(".department", department_id=department_id))


@bp.route("/audit")
@admin_required
def audit_log():
    page = int_arg("page", 1, lo=1, hi=MAX_ID // PER_PAGE)  # the offset must fit a BIGINT too
    entries = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    return render_template("admin/audit.html", entries=entries, page=page, more=len(entries) == PER_PAGE)
