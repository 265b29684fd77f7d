"""Bulk staff import from CSV or Excel: read, check every row, plan, then apply in one transaction.

Reading and checking are pure (file in, rows and row errors out); `apply` writes to the database.
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from itertools import islice

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert, select

from .departments import find_or_create, split_path
from .extensions import db
from .models import Department, Role, User, UserRole

MAX_ROWS = 20_000
MAX_DEPARTMENT_LEVELS = 10  # Department.lineage keeps the ids of every level in 255 characters
HEADERS = {
    "email": {"email", "e-mail", "邮箱", "电子邮箱", "邮件"},
    "name": {"name", "姓名", "名字"},
    "department": {"department", "dept", "部门"},
    "roles": {"roles", "role", "角色"},
}
ROLE_NAMES = {
    "trainee": Role.TRAINEE, "学员": Role.TRAINEE, "员工": Role.TRAINEE,
    "trainer": Role.TRAINER, "讲师": Role.TRAINER, "培训师": Role.TRAINER,
    "hr": Role.HR, "人力资源": Role.HR, "人事": Role.HR,
    "admin": Role.ADMIN, "管理员": Role.ADMIN,
}
UNUSABLE_PASSWORD = "!"  # imported people set a password before their first login


class ImportFileError(ValueError):
    """The file cannot be read as a table of staff at all."""


@dataclass(frozen=True)
class StaffRow:
    line: int
    email: str
    name: str
    department: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class Plan:
    creates: list[StaffRow] = field(default_factory=list)
    updates: list[StaffRow] = field(default_factory=list)
    unchanged: list[StaffRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> list[StaffRow]:
        return self.creates + self.updates


def read_table(filename: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """Return (line number, {column: value}) for every data row of a CSV or .xlsx file."""
    if filename.lower().endswith(".xlsx"):
        records = _xlsx_rows(data)
    elif filename.lower().endswith((".csv", ".txt")):
        records = _csv_rows(data)
    else:
        raise ImportFileError("upload a .csv or .xlsx file")
    rows = list(islice(records, MAX_ROWS + 2))  # a header, the rows allowed, and one more to tell it is too long
    if not rows:
        raise ImportFileError("the file is empty")
    header_line, header = rows[0]
    columns = _columns(header)
    missing = [name for name in ("email", "name", "department") if name not in columns]
    if missing:
        raise ImportFileError(f"line {header_line}: missing column(s): {', '.join(missing)} (e.g. email,name,department,roles)")
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(f"at most {MAX_ROWS} rows per file")
    table = []
    for line, values in rows[1:]:
        if not any(v.strip() for v in values):
            continue
        table.append((line, {name: (values[i].strip() if i < len(values) else "") for name, i in columns.items()}))
    return table


def _csv_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    # Excel in China saves CSV as GBK, and "Unicode Text" as UTF-16 with a byte order mark.
    encodings = ("utf-16",) if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("the file is neither UTF-8, UTF-16 nor GBK text")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))  # rows end in CR LF, LF or CR
    start = 1
    try:
        for values in reader:
            yield start, values  # a row with a line break inside quotes is named by its first line
            start = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: {error}") from error


def _delimiter(text: str) -> str:
    """Tell the separator from the header row: the one that splits it into the most known columns.

    Excel writes ';' or a tab where ',' is the decimal mark; guessing from the rows instead is
    fooled by a comma inside a name or a list of roles.
    """
    header = text.splitlines()[0] if text else ""
    return max(",;\t", key=lambda delimiter: len(_columns(next(csv.reader([header], delimiter=delimiter)))))


def _xlsx_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(f"not a readable .xlsx file ({error.__class__.__name__})") from error
    sheet = workbook.active
    if sheet is None:
        workbook.close()
        raise ImportFileError("the workbook has no sheet to read")
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, ["" if v is None else str(v) for v in values]
    except Exception as error:  # read-only mode reads the sheet as it goes: damage inside it shows up here
        raise ImportFileError(f"not a readable .xlsx file ({error.__class__.__name__})") from error
    finally:
        workbook.close()


def _columns(header: list[str]) -> dict[str, int]:
    columns = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for name, aliases in HEADERS.items():
            if key in aliases and name not in columns:
                columns[name] = index
    return columns


def check_rows(table: list[tuple[int, dict[str, str]]], allowed_paths: set[str] | None = None) -> tuple[list[StaffRow], list[RowError]]:
    """Check every row; return the good rows and, for each bad one, its line and reason.

    `allowed_paths` limits an HR user to departments at or below those paths.
    """
    rows, errors, seen = [], [], {}
    for line, values in table:
        problem, row = _check(line, values, allowed_paths)
        if problem is None and row.email in seen:
            problem = f"email {row.email} is also on line {seen[row.email]}"
        if problem:
            errors.append(RowError(line, problem))
            continue
        seen[row.email] = line
        rows.append(row)
    return rows, errors


def _check(line: int, values: dict[str, str], allowed_paths: set[str] | None) -> tuple[str | None, StaffRow | None]:
    try:
        email = validate_email(values["email"], check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return f"'{values['email'] or '(empty)'}' is not a valid email address", None
    name = values["name"]
    if not name or len(name) > 120:
        return "a name is required (at most 120 characters)", None
    parts = split_path(values["department"])
    if not parts or any(len(part) > 120 for part in parts):
        return "a department is required, e.g. 销售部/华东区", None
    if len(parts) > MAX_DEPARTMENT_LEVELS:
        return f"a department path has at most {MAX_DEPARTMENT_LEVELS} levels", None
    path = " › ".join(parts)
    if allowed_paths is not None and not any(path == p or path.startswith(p + " › ") for p in allowed_paths):
        return f"department {path} is outside the departments you manage", None
    roles = []
    for raw in filter(None, (r.strip().lower() for r in values.get("roles", "").replace("；", ";").replace("，", ",").replace(";", ",").split(","))):
        if raw not in ROLE_NAMES:
            return f"unknown role '{raw}' (use trainee, trainer, hr, admin)", None
        roles.append(ROLE_NAMES[raw].value)
    return None, StaffRow(line, email, name, path, tuple(sorted(set(roles) or {Role.TRAINEE.value})))


def plan(rows: list[StaffRow], errors: list[RowError]) -> Plan:
    """Sort good rows into people to create, to update and already up to date."""
    result = Plan(errors=list(errors))
    existing = _existing_users({row.email for row in rows})
    paths = _department_paths()
    for row in rows:
        user = existing.get(row.email)
        if user is None:
            result.creates.append(row)
        elif (user.name, paths.get(user.department_id), tuple(sorted(r.role for r in user.role_rows))) == (row.name, row.department, row.roles):
            result.unchanged.append(row)
        else:
            result.updates.append(row)
    return result


def _existing_users(emails: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    email_list = sorted(emails)
    for start in range(0, len(email_list), 500):
        chunk = email_list[start:start + 500]
        for user in db.session.scalars(select(User).where(User.email.in_(chunk))):
            found[user.email] = user
    return found


def _department_paths() -> dict[int, str]:
    from .departments import tree

    return {node.id: node.path for node in tree()}


def apply(import_plan: Plan) -> dict[str, int]:
    """Create and update everyone in the plan; the caller commits, so it is all or nothing."""
    cache: dict[tuple[int | None, str], Department] = {}
    departments = {path: find_or_create(path, cache).id for path in {r.department for r in import_plan.rows}}
    if import_plan.creates:
        new_ids = db.session.execute(
            insert(User).returning(User.id, User.email, sort_by_parameter_order=True),
            [
                {"email": r.email, "name": r.name, "department_id": departments[r.department],
                 "password_hash": UNUSABLE_PASSWORD, "active": True}
                for r in import_plan.creates
            ],
        ).all()
        ids = {email: user_id for user_id, email in new_ids}
        db.session.execute(
            insert(UserRole),
            [{"user_id": ids[r.email], "role": role} for r in import_plan.creates for role in r.roles],
        )
    existing = _existing_users({r.email for r in import_plan.updates})
    for row in import_plan.updates:
        user = existing[row.email]
        user.name = row.name
        user.department_id = departments[row.department]
        user.roles = {Role(role) for role in row.roles}
    db.session.flush()
    return {"created": len(import_plan.creates), "updated": len(import_plan.updates),
            "unchanged": len(import_plan.unchanged), "errors": len(import_plan.errors)}


def rows_to_json(rows: list[StaffRow]) -> list[dict]:
    return [asdict(row) for row in rows]


def rows_from_json(data: list[dict]) -> list[StaffRow]:
    return [StaffRow(**{**row, "roles": tuple(row["roles"])}) for row in data]
