"""Assign the course or a module to departments or people with a due date; move the date or withdraw it.

Every change is audited, and everyone it covers is told on their home page and by e-mail.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Optional, ValidationError

from ..access import hr_required
from ..extensions import db
from ..forms import EmptyForm, FlaskForm, options
from ..inputs import within_window
from ..models import Assignment, AuditEntry, User
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from . import bp, due_dates, notifications, reminders, reports
from .assignments import in_scope, today
from .notifications import NoticeKind


def not_in_the_past(form, field: DateField) -> None:
    if field.data and field.data < today():
        raise ValidationError(_l("The due date is in the past."))


class AssignmentForm(FlaskForm):
    activity = SelectField(_l("What"), validators=[DataRequired()])
    department = SelectField(_l("Department (with its sub-departments)"), coerce=int, validators=[Optional()])
    email = EmailField(_l("…or one person's email"), validators=[Optional()])
    due_on = DateField(_l("Due date"), validators=[DataRequired(), within_window, not_in_the_past])


class DueDateForm(FlaskForm):
    due_on = DateField(_l("New due date"), validators=[DataRequired(), within_window, not_in_the_past])


class ExtensionForm(FlaskForm):
    person = StringField(_l("Email or employee ID"), validators=[DataRequired()])
    due_on = DateField(_l("Their due date"), validators=[DataRequired(), within_window, not_in_the_past])


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
            db.session.flush()
            told = notifications.notify(assignment, NoticeKind.ASSIGNED, live.course.titles[assignment.activity_id])
            _audit("assign", assignment, told)
            db.session.commit()
            flash(ngettext("Assigned. %(num)d person has been told, on their home page and by e-mail.",
                           "Assigned. %(num)d people have been told, on their home page and by e-mail.", told), "success")
            return redirect(url_for(".assignments"))
    listed = db.session.scalars(in_scope(visible)).all()
    paths = {n.id: n.path for n in nodes}
    return render_template(
        "hr/assignments.html", form=form, assignments=listed, names=live.course.titles, paths=paths,
        counts=reports.assignment_counts(today(), visible), extensions=due_dates.by_assignment([a.id for a in listed]),
    )


def _assignment_or_404(assignment_id: int) -> Assignment:
    """An assignment HR may change: set on one of its departments, or for one of its people."""
    return db.session.scalar(in_scope(visible_department_ids()).where(Assignment.id == assignment_id)) or abort(404)


def _audit(action: str, assignment: Assignment, told: int, **detail) -> None:
    db.session.add(AuditEntry(
        user_id=current_user.id, action=action, subject_user_id=assignment.user_id,
        detail={"assignment_id": assignment.id, "activity_id": assignment.activity_id,
                "department_id": assignment.department_id, "due_on": assignment.due_on.isoformat(), "told": told, **detail},
    ))


@bp.post("/assignments/<int:assignment_id>/due")
@hr_required
def change_due_date(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    form = DueDateForm()
    if not form.validate_on_submit():
        flash(" ".join(str(error) for error in form.due_on.errors) or _("Enter a valid due date."), "error")
        return redirect(url_for(".assignments"))
    before = assignment.due_on.isoformat()
    assignment.due_on = form.due_on.data
    dropped = due_dates.drop_reached(assignment)
    unchanged = {person.id for person in due_dates.still_later(assignment)}  # their own date still holds
    told = notifications.notify(assignment, NoticeKind.DUE_CHANGED, _title(assignment), leave_out=unchanged)
    _audit("change_due_date", assignment, told, before=before, extensions_dropped=dropped)
    db.session.commit()
    flash(ngettext("Due date moved. %(num)d person has been told.", "Due date moved. %(num)d people have been told.", told), "success")
    return redirect(url_for(".assignments"))


@bp.post("/assignments/<int:assignment_id>/withdraw")
@hr_required
def withdraw_assignment(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    if EmptyForm().validate_on_submit():
        told = notifications.notify(assignment, NoticeKind.WITHDRAWN, _title(assignment))
        _audit("withdraw_assignment", assignment, told)
        reminders.forget_assignment(assignment.id)
        db.session.delete(assignment)
        db.session.commit()
        flash(ngettext("Withdrawn. %(num)d person has been told.", "Withdrawn. %(num)d people have been told.", told), "success")
    return redirect(url_for(".assignments"))


@bp.post("/assignments/<int:assignment_id>/extensions")
@hr_required
def extend_due_date(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    form = ExtensionForm()
    person = _extendable(assignment, form)
    if person is None:
        return redirect(url_for(".assignments"))
    extension = due_dates.of(assignment, person)
    before = extension.due_on if extension else assignment.due_on
    due_dates.extend(assignment, person, form.due_on.data, current_user)
    notifications.notify_each(assignment, NoticeKind.EXTENDED, _title(assignment), {person: form.due_on.data})
    _audit_person("extend_due_date", assignment, person, before, form.due_on.data)
    db.session.commit()
    flash(_("%(name)s's due date is now %(date)s. They have been told.", name=person.name, date=form.due_on.data.isoformat()), "success")
    return redirect(url_for(".assignments"))


@bp.post("/assignments/<int:assignment_id>/extensions/<int:user_id>/remove")
@hr_required
def remove_extension(assignment_id: int, user_id: int):
    assignment = _assignment_or_404(assignment_id)
    person = db.session.get(User, user_id)
    extension = due_dates.of(assignment, person) if person else None
    visible = visible_department_ids()
    if extension is None or (visible is not None and person.department_id not in visible):
        abort(404)
    if EmptyForm().validate_on_submit():
        db.session.delete(extension)
        if person.active:
            notifications.notify_each(assignment, NoticeKind.DUE_CHANGED, _title(assignment), {person: assignment.due_on})
        _audit_person("remove_extension", assignment, person, extension.due_on, assignment.due_on)
        db.session.commit()
        flash(_("%(name)s's due date is the assignment's again: %(date)s.", name=person.name, date=assignment.due_on.isoformat()), "success")
    return redirect(url_for(".assignments"))


def _extendable(assignment: Assignment, form: ExtensionForm) -> User | None:
    """The person the form names, if they may be given their own date on this assignment; else flash why."""
    if not form.validate_on_submit():
        flash(" ".join(str(error) for errors in form.errors.values() for error in errors), "error")
        return None
    person = User.by_login(form.person.data)
    visible = visible_department_ids()
    if assignment.user_id is not None:
        problem = _("This assignment is for one person: move its due date instead.")
    elif person is None or not person.active:
        problem = _("Nobody active has this email or employee ID.")
    elif visible is not None and person.department_id not in visible:
        problem = _("This person is outside the departments you manage.")
    elif not due_dates.covers(assignment, person):
        problem = _("This assignment does not cover %(name)s.", name=person.name)
    elif form.due_on.data <= assignment.due_on:
        problem = _("Choose a date after the assignment's due date, %(date)s.", date=assignment.due_on.isoformat())
    else:
        return person
    flash(problem, "error")
    return None


def _audit_person(action: str, assignment: Assignment, person: User, before: date, after: date) -> None:
    db.session.add(AuditEntry(
        user_id=current_user.id, action=action, subject_user_id=person.id,
        detail={"assignment_id": assignment.id, "activity_id": assignment.activity_id,
                "before": before.isoformat(), "after": after.isoformat()},
    ))


def _title(assignment: Assignment) -> str:
    live = require_live_course()
    return live.course.titles.get(assignment.activity_id, assignment.activity_id)


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
