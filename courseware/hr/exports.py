"""Exports of the learner matrix as CSV (UTF-8 with BOM, so Excel shows Chinese) and XLSX, streamed."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app
from flask_babel import gettext as _

from ..access import hr_required
from ..extensions import db
from ..models import Status
from ..people import audit
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from . import bp, reports, spreadsheets
from .learner_filter import filter_form, learner_query, matrix_columns

CHUNK = 500


def _labels() -> dict[str, str]:
    """Words used in the file, translated before streaming starts (the stream outlives the request)."""
    return {
        Status.COMPLETED: _("Completed"), Status.IN_PROGRESS: _("In progress"), Status.NOT_STARTED: _("Not started"),
        "name": _("Name"), "employee_id": _("Employee ID"), "email": _("Email"), "department": _("Department"), "course": _("Course"),
        "completed_on": _("Completed on"), "sheet": _("Learners"),
    }


def _cell(progress, tz: ZoneInfo, labels: dict[str, str]) -> str:
    if progress is None:
        return labels[Status.NOT_STARTED]
    if progress.status == Status.COMPLETED:
        when = progress.completed_at.astimezone(tz).strftime("%Y-%m-%d")
        score = f" {round(progress.score * 100)}%" if progress.score is not None else ""
        return f"{labels[Status.COMPLETED]} {when}{score}"
    return labels[Status.IN_PROGRESS]


def _rows(statement, columns, tz: ZoneInfo, labels: dict[str, str]) -> Iterator[list[str]]:
    """Yield the header, then one row per learner, fetching progress a chunk of learners at a time."""
    yield [labels["name"], labels["employee_id"], labels["email"], labels["department"]] + [title for _id, title in columns] + [
        labels["course"], labels["completed_on"]
    ]
    with db.session.execute(statement.execution_options(yield_per=CHUNK)) as result:  # closes the cursor if the download stops
        yield from _learner_rows(result, columns, tz, labels)


def _learner_rows(result, columns, tz: ZoneInfo, labels: dict[str, str]) -> Iterator[list[str]]:
    for chunk in result.partitions():
        cells = reports.progress_cells([row.User.id for row in chunk], [c for c, _t in columns])
        for row in chunk:
            user = row.User
            completed = row.course_completed_at.astimezone(tz).strftime("%Y-%m-%d") if row.course_completed_at else ""
            yield [user.name, user.employee_id or "", user.email, row.department_name] + [
                _cell(cells.get((user.id, activity_id)), tz, labels) for activity_id, _t in columns
            ] + [labels[row.course_status or Status.NOT_STARTED], completed]


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
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    labels = _labels()
    rows = _rows(learner_query(live.course, flt, visible), matrix_columns(live.course), tz, labels)
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    return spreadsheets.download(rows, fmt, f"learners-{stamp}", labels["sheet"])
