"""Bulk staff import from CSV or Excel: read, check every row, plan, then apply in one transaction.

Reading and checking are pure (file in, rows and row errors out); `apply` writes to the database.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from itertools import islice

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert, select

from ..extensions import db
from ..models import Department, Role, User, UserRole
from ..people.departments import find_or_create, split_path, tree

MAX_ROWS = 20_000
MAX_UNPACKED_MB = 100  # a workbook of 20,000 staff unpacks to a few MB; a zip bomb to gigabytes
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
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ImportFileError(ValueError):
    """The file cannot be read as a table of staff at all."""


@dataclass(frozen=True)
class StaffRow:
    """One checked row. Empty `roles` means the file did not say: trainee when new, unchanged otherwise."""

    line: int
    email: str
    name: str
    department: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Importer:
    """Who is importing: only admins grant roles above trainee or touch people holding them;
    `allowed_paths` (None: everywhere) are the departments an HR user manages."""

    is_admin: bool
    allowed_paths: set[str] | None = None

    def manages(self, path: str) -> bool:
        return self.allowed_paths is None or any(path == p or path.startswith(p + " › ") for p in self.allowed_paths)


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

    _refuse_oversize_workbook(data)
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


def _refuse_oversize_workbook(data: bytes) -> None:
    """Refuse a workbook whose parts would unpack past the limit, before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise ImportFileError(f"not a readable .xlsx file ({error.__class__.__name__})") from error
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
        raise ImportFileError(f"the workbook unpacks to more than {MAX_UNPACKED_MB} MB; save only the staff list in it")


def _columns(header: list[str]) -> dict[str, int]:
    columns = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for name, aliases in HEADERS.items():
            if key in aliases and name not in columns:
                columns[name] = index
    return columns


def check_rows(table: list[tuple[int, dict[str, str]]]) -> tuple[list[StaffRow], list[RowError]]:
    """Check every row on its own; return the good rows and, for each bad one, its line and reason."""
    rows, errors, seen = [], [], {}
    for line, values in table:
        problem, row = _check(line, values)
        if problem is None and row.email in seen:
            problem = f"email {row.email} is also on line {seen[row.email]}"
        if problem:
            errors.append(RowError(line, problem))
            continue
        seen[row.email] = line
        rows.append(row)
    return rows, errors


def _check(line: int, values: dict[str, str]) -> tuple[str | None, StaffRow | None]:
    if any(CONTROL_CHARACTERS.search(value) for value in values.values()):
        return "the row contains a control character (such as NUL or a line break inside a cell); remove it", None
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
    roles = []
    for raw in filter(None, (r.strip().lower() for r in values.get("roles", "").replace("；", ";").replace("，", ",").replace(";", ",").split(","))):
        if raw not in ROLE_NAMES:
            return f"unknown role '{raw}' (use trainee, trainer, hr, admin)", None
        roles.append(ROLE_NAMES[raw].value)
    return None, StaffRow(line, email, name, " › ".join(parts), tuple(sorted(set(roles))))


def plan(rows: list[StaffRow], errors: list[RowError], importer: Importer) -> Plan:
    """Sort good rows into people to create, to update and already up to date, as `importer` may.

    Runs at the preview and again at the confirm, so a row is judged by who holds which role now.
    """
    result = Plan(errors=list(errors))
    existing = _existing_users({row.email for row in rows})
    paths = _department_paths()
    for row in rows:
        user = existing.get(row.email)
        current_roles = tuple(sorted(r.role for r in user.role_rows)) if user else ()
        current_path = paths.get(user.department_id, "") if user else ""
        if problem := _refusal(row, user, current_roles, current_path, importer):
            result.errors.append(RowError(row.line, problem))
        elif user is None:
            result.creates.append(replace(row, roles=row.roles or (Role.TRAINEE.value,)))
        else:
            row = replace(row, roles=row.roles or current_roles)
            if (user.name, current_path, current_roles) == (row.name, row.department, row.roles):
                result.unchanged.append(row)
            else:
                result.updates.append(row)
    result.errors.sort(key=lambda error: error.line)
    return result


def _refusal(row: StaffRow, user: User | None, current_roles: tuple[str, ...], current_path: str, importer: Importer) -> str | None:
    """Why `importer` may not apply `row`, or None."""
    if not importer.manages(row.department):
        return f"department {row.department} is outside the departments you manage"
    if user is not None and not importer.manages(current_path):
        return f"{row.email} belongs to {current_path}, outside the departments you manage"
    if importer.is_admin:
        return None
    if set(row.roles) - {Role.TRAINEE.value}:
        return "only an administrator can give the roles trainer, hr or admin"
    if user is not None and set(current_roles) - {Role.TRAINEE.value}:
        held = ", ".join(r for r in current_roles if r != Role.TRAINEE.value)
        return f"{row.email} holds the role {held}; only an administrator can change this account"
    return None


def _existing_users(emails: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    email_list = sorted(emails)
    for start in range(0, len(email_list), 500):
        chunk = email_list[start:start + 500]
        for user in db.session.scalars(select(User).where(User.email.in_(chunk))):
            found[user.email] = user
    return found


def _department_paths() -> dict[int, str]:
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
