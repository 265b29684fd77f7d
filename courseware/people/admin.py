"""Administration: people, their roles and departments, HR scopes, personal data, and the audit log."""
from __future__ import annotations

import json

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
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..access import admin_required
from ..extensions import db
from ..forms import FlaskForm, options
from ..inputs import MAX_ID, control_character, int_arg
from ..models import AuditEntry, Department, HRScope, Role, User
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
    return render_template("admin/departments.html", nodes=nodes, form=form, counts=counts, contacts=contacts)


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


@bp.route("/audit")
@admin_required
def audit_log():
    page = int_arg("page", 1, lo=1, hi=MAX_ID // PER_PAGE)  # the offset must fit a BIGINT too
    entries = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    return render_template("admin/audit.html", entries=entries, page=page, more=len(entries) == PER_PAGE)
