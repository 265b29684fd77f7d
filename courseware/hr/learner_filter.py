"""HR's filters on the learner list, and the query they select: shared by the page and its exports."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select
from wtforms import DateField, SearchField, SelectField
from wtforms.validators import Optional

from ..content import Course
from ..extensions import db
from ..forms import FlaskForm, options
from ..inputs import within_window
from ..people.departments import DepartmentNode
from . import reports
from .assignments import AssignmentStatus, in_scope, today


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    department = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])
    assignment = SelectField(_l("Assignment"), coerce=int, validators=[Optional()])
    completed_from = DateField(_l("Completed from"), validators=[Optional(), within_window], name="from")
    completed_to = DateField(_l("Completed to"), validators=[Optional(), within_window], name="to")
    q = SearchField(_l("Name, email or employee ID"), validators=[Optional()])


def filter_form(
    course: Course, nodes: list[DepartmentNode], visible: set[int] | None
) -> tuple[FilterForm, reports.MatrixFilter]:
    """Read the filters from the query string; a refused value is shown on the form and ignored."""
    form = FilterForm(formdata=request.args)
    form.department.choices = options([(0, _l("All departments"))] + [
        (n.id, n.path) for n in nodes if visible is None or n.id in visible
    ])
    form.status.choices = options([
        ("", _l("Any status")),
        (AssignmentStatus.NOT_STARTED, _l("Not started")), (AssignmentStatus.IN_PROGRESS, _l("In progress")),
        (AssignmentStatus.COMPLETED, _l("Completed")), (AssignmentStatus.OVERDUE, _l("Overdue")),
    ])
    form.assignment.choices = options([(0, _l("Any assignment"))] + [
        (a.id, f"{course.titles.get(a.activity_id, a.activity_id)} · {a.due_on.isoformat()}")
        for a in db.session.scalars(in_scope(visible, _with_ancestors(visible, nodes)))
    ])
    if request.args:
        form.validate()  # a hand-edited link: show what is wrong, where it was typed, and ignore those filters
    status = _usable(form.status)
    flt = reports.MatrixFilter(
        department_id=_usable(form.department) or None,
        status=AssignmentStatus(status) if status else None,
        assignment_id=_usable(form.assignment) or None,
        completed_from=_usable(form.completed_from),
        completed_to=_usable(form.completed_to),
        search=(_usable(form.q) or "").strip()[:100],
    )
    return form, flt


def _usable(field):
    """A filter's value, or None when it was refused."""
    return None if field.errors else field.data


def _with_ancestors(visible: set[int] | None, nodes: list[DepartmentNode]) -> set[int] | None:
    """The visible departments and those above them: an assignment set on any of them reaches visible people."""
    if visible is None:
        return None
    parents = {node.id: node.parent_id for node in nodes}
    found: set[int] = set()
    for department_id in visible:
        while department_id is not None and department_id not in found:
            found.add(department_id)
            department_id = parents.get(department_id)
    return found


def matrix_columns(course: Course) -> list[tuple[str, str]]:
    columns = [(m.id, m.title) for m in course.modules]
    if course.final_quiz:
        columns.append((course.final_quiz.id, course.final_quiz.title))
    return columns


def learner_query(course: Course, flt: reports.MatrixFilter, visible: set[int] | None) -> Select:
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return reports.learners(course.id, today(), flt, visible, tz)
