"""Spreadsheets HR downloads, streamed: CSV (with a BOM, for Excel) or XLSX.

Text is always inert (never a formula); dates and numbers are real date and number cells, so HR
can sort, filter and sum them. The XLSX has a frozen header, an autofilter and column widths.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date

from flask import Response, abort, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

Value = str | int | float | date | None
DATE_FORMAT = "yyyy-mm-dd"

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Where a formula could start: the cell, or any piece a spreadsheet splitting on another
# separator (Excel uses `;` in many locales) or on line breaks would make into a cell of its own.
FORMULA_START = re.compile(r"(^|[;,\t\r\n])(?=[=+\-@\t\r])")
# What XML 1.0, and so XLSX, cannot hold. openpyxl's ILLEGAL_CHARACTERS_RE has only the control
# characters, and U+FFFE/U+FFFF would silently make a file Excel refuses to open.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(value: str) -> str:
    """Drop the control characters old sign-ups let into names, which no spreadsheet can show."""
    return NOT_XML.sub("", value)


def inert(value: str) -> str:
    """A cell Excel shows as typed: text that would start a formula gets a leading apostrophe.

    Names and departments come from staff imports and sign-ups, so `=HYPERLINK(...)` (or
    `x;=HYPERLINK(...)`, split on `;`) must not become a live formula on an HR computer.
    """
    return FORMULA_START.sub(lambda match: match[1] + "'", value)


def as_text(value: Value) -> str:
    """A cell as CSV holds it: dates as YYYY-MM-DD, numbers as written, nothing as empty, text inert."""
    if value is None:
        return ""
    if isinstance(value, str):
        return inert(printable(value))
    if isinstance(value, date):
        return value.isoformat()
    return f"{value:g}" if isinstance(value, float) else str(value)


def csv_chunks(rows: Iterable[list[Value]]) -> Iterator[str]:
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)  # a quoted separator stays inside its cell
    for row in rows:
        writer.writerow([as_text(value) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def width(text: str) -> float:
    """Roughly how many character widths Excel needs to show `text` (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(sheet, value: Value) -> WriteOnlyCell:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, printable(value))
        cell.data_type = "s"  # always text: openpyxl would store "=..." as a formula
    else:
        cell = WriteOnlyCell(sheet, value)
        if isinstance(value, date):
            cell.number_format = DATE_FORMAT
    return cell


def xlsx_chunks(rows: Iterable[list[Value]], sheet_name: str) -> Iterator[bytes]:
    """The header row sets the column widths and is frozen, with an autofilter over every row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.freeze_panes = "A2"
    rows = iter(rows)
    header = next(rows, [])
    for number, title in enumerate(header, start=1):  # before any row: write-only sheets write widths first
        sheet.column_dimensions[get_column_letter(number)].width = min(max(width(str(title)) + 2, 12), 40)
    sheet.append([_cell(sheet, title) for title in header])
    count = 1
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
        count += 1
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count}"
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(256 * 1024):
            yield chunk


def download(rows: Iterable[list[Value]], fmt: str, filename: str, sheet_name: str) -> Response:
    """Stream `rows` (the header first) as `filename`.csv or .xlsx; any other format is a 404."""
    if fmt == "csv":
        body, mimetype = csv_chunks(rows), "text/csv"
    elif fmt == "xlsx":
        body, mimetype = xlsx_chunks(rows, sheet_name), XLSX
    else:
        abort(404)
    return Response(
        stream_with_context(body),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
