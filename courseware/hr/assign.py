"""Assign the course or a module to departments or people, with a due date."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, EmailField, SelectField
from wtforms.validators import DataRequired, Optional, ValidationError

from ..access import hr_required
from ..extensions import db
from ..forms import FlaskForm, options
from ..inputs import within_window
from ..models import Assignment, User
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from . import bp
from .assignments import in_scope, today


class AssignmentForm(FlaskForm):
    activity = SelectField(_l("What"), validators=[DataRequired()])
    department = SelectField(_l("Department (with its sub-departments)"), coerce=int, validators=[Optional()])
    email = EmailField(_l("…or one person's email"), validators=[Optional()])
    due_on = DateField(_l("Due date"), validators=[DataRequired(), within_window])

    def validate_due_on(self, field: DateField) -> None:
        if field.data and field.data < today():
            raise ValidationError(_l("The due date is in the past."))


@bp.route("/assignments", methods=["GET", "POST"])
@hr_required
def assignments():
    live = require_live_course()
    nodes = tree()
    visible = visible_department_ids(nodes)
    form = AssignmentForm()
    form.activity.choices = options([(live.course.id, _("The whole course: %(title)s", title=live.course.title))] + [
        (m.id, _("Module %(n)s: %(title)s", n=m.order, title=m.title)) for m in live.course.modules
    ])
    form.department.choices = options([(0, "—")] + [
        (n.id, n.path) for n in nodes if visible is None or n.id in visible
    ])
    if form.validate_on_submit():
        assignment = _assignment_from(form, visible)
        if assignment is not None:
            db.session.add(assignment)
            db.session.commit()
            flash(_("Assigned. Learners see it on their home page with its due date."), "success")
            return redirect(url_for(".assignments"))
    listed = db.session.scalars(in_scope(visible)).all()
    paths = {n.id: n.path for n in nodes}
    return render_template(
        "hr/assignments.html", form=form, assignments=listed, names=live.course.titles, paths=paths
    )


def _assignment_from(form: AssignmentForm, visible: set[int] | None) -> Assignment | None:
    """Build the assignment, or put the reason on the form."""
    department_id = form.department.data or None
    email = (form.email.data or "").strip()
    if bool(department_id) == bool(email):
        form.email.errors.append(_("Choose a department or enter one person's email (not both)."))
        return None
    user = None
    if email:
        user = User.by_email(email)
        if user is None or not user.active:
            form.email.errors.append(_("Nobody active has this email."))
            return None
        if visible is not None and user.department_id not in visible:
            form.email.errors.append(_("This person is outside the departments you manage."))
            return None
    return Assignment(
        activity_id=form.activity.data,
        department_id=department_id,
        user_id=user.id if user else None,
        due_on=form.due_on.data,
        created_by_id=current_user.id,
    )
