"""Spreadsheets HR downloads, streamed: CSV (with a BOM, for Excel) or XLSX, every cell inert text."""
from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator

from flask import Response, abort, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

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


def csv_chunks(rows: Iterable[list[str]]) -> Iterator[str]:
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)  # a quoted separator stays inside its cell
    for row in rows:
        writer.writerow([inert(printable(value)) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_chunks(rows: Iterable[list[str]], sheet_name: str) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, printable(value))
            cell.data_type = "s"  # always text: openpyxl would store "=..." as a formula
            cells.append(cell)
        sheet.append(cells)
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(256 * 1024):
            yield chunk


def download(rows: Iterable[list[str]], fmt: str, filename: str, sheet_name: str) -> Response:
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
