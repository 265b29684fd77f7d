"""Exports of the learner matrix as CSV (UTF-8 with BOM, so Excel shows Chinese) and XLSX, streamed."""
from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, stream_with_context
from flask_babel import gettext as _

from ..access import hr_required
from ..extensions import db
from ..models import Status
from ..people import audit
from ..people.departments import tree
from ..people.scope import visible_department_ids
from ..publishing import require_live_course
from . import bp, reports
from .learner_filter import filter_form, learner_query, matrix_columns

CHUNK = 500


def _labels() -> dict[str, str]:
    """Words used in the file, translated before streaming starts (the stream outlives the request)."""
    return {
        Status.COMPLETED: _("Completed"), Status.IN_PROGRESS: _("In progress"), Status.NOT_STARTED: _("Not started"),
        "name": _("Name"), "email": _("Email"), "department": _("Department"), "course": _("Course"),
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
    yield [labels["name"], labels["email"], labels["department"]] + [title for _id, title in columns] + [
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
            yield [user.name, user.email, row.department_name] + [
                _cell(cells.get((user.id, activity_id)), tz, labels) for activity_id, _t in columns
            ] + [labels[row.course_status or Status.NOT_STARTED], completed]


# Where a formula could start: the cell, or any piece a spreadsheet splitting on another
# separator (Excel uses `;` in many locales) or on line breaks would make into a cell of its own.
FORMULA_START = re.compile(r"(^|[;,\t\r\n])(?=[=+\-@\t\r])")
# What XML 1.0, and so XLSX, cannot hold. openpyxl's ILLEGAL_CHARACTERS_RE has only the control
# characters, and U+FFFE/U+FFFF would silently make a file Excel refuses to open.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _printable(value: str) -> str:
    """Drop the control characters old sign-ups let into names, which no spreadsheet can show."""
    return NOT_XML.sub("", value)


def _inert(value: str) -> str:
    """A cell Excel shows as typed: text that would start a formula gets a leading apostrophe.

    Names and departments come from staff imports and sign-ups, so `=HYPERLINK(...)` (or
    `x;=HYPERLINK(...)`, split on `;`) must not become a live formula on an HR computer.
    """
    return FORMULA_START.sub(lambda match: match[1] + "'", value)


def _csv(rows: Iterator[list[str]]) -> Iterator[str]:
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)  # a quoted separator stays inside its cell
    for row in rows:
        writer.writerow([_inert(_printable(value)) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx(rows: Iterator[list[str]], sheet_name: str) -> Iterator[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, _printable(value))
            cell.data_type = "s"  # always text: openpyxl would store "=..." as a formula
            cells.append(cell)
        sheet.append(cells)
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(256 * 1024):
            yield chunk


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
    if fmt == "csv":
        body, mimetype = _csv(rows), "text/csv"
    else:
        body, mimetype = _xlsx(rows, labels["sheet"]), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        stream_with_context(body),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="learners-{stamp}.{fmt}"'},
    )
