"""Exports of the learner matrix as CSV (UTF-8 with BOM, so Excel shows Chinese) and XLSX, streamed.

One row per learner with a column per fact HR sorts and filters on: the course's status, its
completion date (a date cell), the final assessment's best score, credited learning time (学时),
the due date and days overdue, employee ID and the department's full path; then each module's
status, and with a pre-test, the gain on each objective.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app
from flask_babel import gettext as _

from ..access import hr_required
from ..content import Course
from ..content.quiz import Pool
from ..extensions import db
from ..models import Status
from ..learning.learning_time import NO_TIME, learning_minutes
from ..people import audit
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from . import bp, gains, reports, spreadsheets
from .assignments import today
from .learner_filter import filter_form, learner_query

CHUNK = 500


@dataclass(frozen=True)
class Sheet:
    """What the rows need, gathered (and translated) before streaming starts: the stream outlives the request."""

    course: Course
    paths: dict[int, str]
    tz: ZoneInfo
    on: date
    statuses: dict[str, str]
    objectives: tuple[Pool, ...]
    header: list[str]


def _sheet(course: Course, paths: dict[int, str]) -> Sheet:
    objectives = gains.objectives(course)
    header = [
        _("Name"), _("Employee ID"), _("Email"), _("Department"), _("Course status"), _("Completed on"),
        _("Final assessment, best score (%)"), _("Learning time (minutes)"), _("Due date"), _("Days overdue"),
    ] + [_("Module %(n)s: %(title)s", n=module.order, title=module.title) for module in course.modules] + [
        _("Gain: %(objective)s (points)", objective=objective.label) for objective in objectives
    ]
    statuses = {Status.COMPLETED: _("Completed"), Status.IN_PROGRESS: _("In progress"), Status.NOT_STARTED: _("Not started")}
    return Sheet(course, paths, ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]), today(), statuses, objectives, header)


def _rows(statement, sheet: Sheet) -> Iterator[list[spreadsheets.Value]]:
    """Yield the header, then one row per learner, fetching a chunk of learners at a time."""
    yield sheet.header
    with db.session.execute(statement.execution_options(yield_per=CHUNK)) as result:  # closes the cursor if the download stops
        for chunk in result.partitions():
            yield from _learner_rows(chunk, sheet)


def _learner_rows(chunk, sheet: Sheet) -> Iterator[list[spreadsheets.Value]]:
    user_ids = [row.User.id for row in chunk]
    final_id = sheet.course.final_quiz_id
    cells = reports.progress_cells(user_ids, [m.id for m in sheet.course.modules] + ([final_id] if final_id else []))
    due = reports.due_dates(user_ids, sheet.on)
    minutes = learning_minutes(user_ids, sheet.course)
    gained = gains.of_learners(sheet.course, user_ids) if sheet.objectives else {}
    for row in chunk:
        user = row.User
        final = cells.get((user.id, final_id))
        open_due, last_due = due.get(user.id, (None, None))
        points = {gain.objective.id: gain.points for gain in gained.get(user.id, ())}
        yield [
            user.name, user.employee_id, user.email, sheet.paths.get(user.department_id, row.department_name),
            sheet.statuses[row.course_status or Status.NOT_STARTED],
            row.course_completed_at.astimezone(sheet.tz).date() if row.course_completed_at else None,
            round(final.score * 100) if final is not None and final.score is not None else None,
            minutes.get(user.id, NO_TIME).total,
            open_due or last_due,
            max((sheet.on - open_due).days, 0) if open_due else None,
        ] + [_status(cells.get((user.id, module.id)), sheet) for module in sheet.course.modules] + [
            points.get(objective.id) for objective in sheet.objectives
        ]


def _status(progress, sheet: Sheet) -> str:
    return sheet.statuses[progress.status if progress is not None else Status.NOT_STARTED]


@bp.route("/learners.<fmt>")
@hr_required
def export_learners(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    live = require_live_course()
    nodes = tree()
    visible = visible_department_ids(nodes)
    _form, flt = filter_form(live.course, nodes, visible)
    audit.record("export_learners", detail={"format": fmt, "filter": flt.as_dict()})
    sheet = _sheet(live.course, {node.id: node.path for node in nodes})
    stamp = datetime.now(sheet.tz).strftime("%Y%m%d-%H%M")
    return spreadsheets.download(_rows(learner_query(live.course, flt, visible), sheet), fmt, f"learners-{stamp}", _("Learners"))
