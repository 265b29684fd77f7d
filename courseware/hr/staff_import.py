"""Bulk staff import from CSV or Excel: read, check every row, plan, then apply in one transaction.

Reading and checking are pure (file in, rows and row errors out); `apply` writes to the database.
A refused row keeps a reason code and its values, not a sentence: the preview is read later, and
perhaps in another language, so the sentence is put together only when it is shown.
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
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from .. import summaries
from ..extensions import db
from ..models import UNUSABLE_PASSWORD, Department, Role, User, UserRole
from ..people import invitations
from ..people.departments import find_or_create, split_path, tree

MAX_ROWS = 20_000
MAX_UNPACKED_MB = 100  # a workbook of 20,000 staff unpacks to a few MB; a zip bomb to gigabytes
MAX_DEPARTMENT_LEVELS = 10  # Department.lineage keeps the ids of every level in 255 characters
MAX_EMPLOYEE_ID = User.__table__.c.employee_id.type.length
HEADERS = {
    "email": {"email", "e-mail", "邮箱", "电子邮箱", "邮件"},
    "name": {"name", "姓名", "名字"},
    "department": {"department", "dept", "部门"},
    "roles": {"roles", "role", "角色"},
    "employee_id": {"employee_id", "employee id", "工号", "员工编号"},
}
ROLE_NAMES = {
    "trainee": Role.TRAINEE, "学员": Role.TRAINEE, "员工": Role.TRAINEE,
    "trainer": Role.TRAINER, "讲师": Role.TRAINER, "培训师": Role.TRAINER,
    "hr": Role.HR, "人力资源": Role.HR, "人事": Role.HR,
    "admin": Role.ADMIN, "管理员": Role.ADMIN,
}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ROLE_LABELS = {Role.TRAINEE: _l("Trainee"), Role.TRAINER: _l("Trainer"), Role.HR: _l("HR"), Role.ADMIN: _l("Admin")}
REASONS = {
    "control_character": _l("the row contains a control character (such as NUL or a line break inside a cell); remove it"),
    "email_required": _l("an email address is required"),
    "invalid_email": _l("'%(email)s' is not a valid email address"),
    "name_required": _l("a name is required (at most 120 characters)"),
    "department_required": _l("a department is required, e.g. 销售部/华东区"),
    "department_too_deep": _l("a department path has at most %(levels)s levels"),
    "unknown_role": _l("unknown role '%(role)s' (use trainee, trainer, hr, admin)"),
    "employee_id_too_long": _l("an employee ID has at most %(length)s characters"),
    "employee_id_with_at": _l("an employee ID cannot contain @ (people sign in with it in place of an email)"),
    "duplicate_email": _l("the same email is also on line %(line)s"),
    "duplicate_employee_id": _l("the same employee ID is also on line %(line)s"),
    "department_outside_scope": _l("department %(department)s is outside the departments you manage"),
    "person_outside_scope": _l("%(email)s belongs to %(department)s, outside the departments you manage"),
    "roles_need_admin": _l("only an administrator can give the roles trainer, hr or admin"),
    "holds_role": _l("%(email)s holds the role %(roles)s; only an administrator can change this account"),
    "employee_id_taken": _l("employee ID %(employee_id)s belongs to %(email)s"),
    "employee_id_taken_outside_scope": _l("employee ID %(employee_id)s belongs to someone outside the departments you manage"),
}


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
    employee_id: str = ""  # empty: the file did not say, so a person's employee ID stays as it is


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
    """A refused row: `code` picks its reason from REASONS, `params` fill it in when it is shown."""

    line: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """The reason in the interface's language (a batch stored before the codes keeps its English text)."""
        message = REASONS.get(self.code)
        if message is None:
            return str(self.params.get("reason", self.code))
        params = dict(self.params)
        if "roles" in params:
            params["roles"] = ", ".join(str(ROLE_LABELS[Role(role)]) for role in params["roles"])
        return str(message) % params if params else str(message)

    def to_json(self) -> dict[str, Any]:
        """As a batch stores it, with the English `reason` too for readers of the older {line, reason} shape
        (people.privacy scrubs it when anonymising). `params` name no one, so they need no scrubbing."""
        with force_locale("en"):
            return {"line": self.line, "code": self.code, "params": self.params, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RowError:
        if "code" not in data:  # stored as {"line", "reason"} before reasons were translated
            return cls(data["line"], "", {"reason": data["reason"]})
        return cls(data["line"], data["code"], data["params"])


@dataclass(frozen=True)
class UnusedColumn:
    """A column of the file the import does not read; `title` is empty for a column without a heading."""

    number: int
    title: str


@dataclass(frozen=True)
class Table:
    """The data rows of a file, as (line number, {column: value}), and the columns left unread."""

    rows: list[tuple[int, dict[str, str]]]
    unused: list[UnusedColumn] = field(default_factory=list)

    def __iter__(self):
        return iter(self.rows)


@dataclass
class Plan:
    creates: list[StaffRow] = field(default_factory=list)
    updates: list[StaffRow] = field(default_factory=list)
    unchanged: list[StaffRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    new_departments: list[str] = field(default_factory=list)  # paths the import would create

    @property
    def rows(self) -> list[StaffRow]:
        return self.creates + self.updates

    def counts(self) -> dict[str, int]:
        return {"created": len(self.creates), "updated": len(self.updates),
                "unchanged": len(self.unchanged), "errors": len(self.errors)}


def read_table(filename: str, data: bytes) -> Table:
    """Return (line number, {column: value}) for every data row of a CSV or .xlsx file."""
    if filename.lower().endswith(".xlsx"):
        records = _xlsx_rows(data)
    elif filename.lower().endswith((".csv", ".txt")):
        records = _csv_rows(data)
    else:
        raise ImportFileError(_l("upload a .csv or .xlsx file"))
    rows = list(islice(records, MAX_ROWS + 2))  # a header, the rows allowed, and one more to tell it is too long
    if not rows:
        raise ImportFileError(_l("the file is empty"))
    header_line, header = rows[0]
    columns = _columns(header)
    missing = [name for name in ("email", "name", "department") if name not in columns]
    if missing:
        raise ImportFileError(_l(
            "line %(line)s: missing column(s): %(columns)s (e.g. email,name,department,roles)",
            line=header_line, columns=", ".join(missing),
        ))
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(_l("at most %(n)s rows per file", n=MAX_ROWS))
    table = []
    for line, values in rows[1:]:
        if not any(v.strip() for v in values):
            continue
        table.append((line, {name: (values[i].strip() if i < len(values) else "") for name, i in columns.items()}))
    return Table(table, _unused_columns(header, rows[1:], set(columns.values())))


def _unused_columns(header: list[str], rows: list[tuple[int, list[str]]], used: set[int]) -> list[UnusedColumn]:
    """The headed columns the import does not read, and those without a heading that hold something."""
    titled = {i for i, title in enumerate(header) if title.strip()}
    unused = {i for i in titled if i not in used}
    unused |= {i for _line, values in rows for i, value in enumerate(values) if i not in titled and value.strip()}
    return [UnusedColumn(i + 1, header[i].strip() if i < len(header) else "") for i in sorted(unused)]


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
        raise ImportFileError(_l("the file is neither UTF-8, UTF-16 nor GBK text"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))  # rows end in CR LF, LF or CR
    start = 1
    try:
        for values in reader:
            yield start, values  # a row with a line break inside quotes is named by its first line
            start = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(_l("line %(line)s: %(error)s", line=reader.line_num, error=str(error))) from error


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
        raise ImportFileError(_l("not a readable .xlsx file (%(error)s)", error=error.__class__.__name__)) from error
    sheet = workbook.active
    if sheet is None:
        workbook.close()
        raise ImportFileError(_l("the workbook has no sheet to read"))
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, ["" if v is None else str(v) for v in values]
    except Exception as error:  # read-only mode reads the sheet as it goes: damage inside it shows up here
        raise ImportFileError(_l("not a readable .xlsx file (%(error)s)", error=error.__class__.__name__)) from error
    finally:
        workbook.close()


def _refuse_oversize_workbook(data: bytes) -> None:
    """Refuse a workbook whose parts would unpack past the limit, before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise ImportFileError(_l("not a readable .xlsx file (%(error)s)", error=error.__class__.__name__)) from error
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
        raise ImportFileError(_l("the workbook unpacks to more than %(mb)s MB; save only the staff list in it", mb=MAX_UNPACKED_MB))


def _columns(header: list[str]) -> dict[str, int]:
    columns = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for name, aliases in HEADERS.items():
            if key in aliases and name not in columns:
                columns[name] = index
    return columns


def check_rows(table: Iterable[tuple[int, dict[str, str]]]) -> tuple[list[StaffRow], list[RowError]]:
    """Check every row on its own; return the good rows and, for each bad one, its line and reason."""
    rows, errors, emails, employee_ids = [], [], {}, {}
    for line, values in table:
        row = _check(line, values)
        if isinstance(row, StaffRow) and row.email in emails:
            row = RowError(line, "duplicate_email", {"line": emails[row.email]})
        if isinstance(row, StaffRow) and row.employee_id in employee_ids:
            row = RowError(line, "duplicate_employee_id", {"line": employee_ids[row.employee_id]})
        if isinstance(row, RowError):
            errors.append(row)
            continue
        emails[row.email] = line
        if row.employee_id:
            employee_ids[row.employee_id] = line
        rows.append(row)
    return rows, errors


def _check(line: int, values: dict[str, str]) -> StaffRow | RowError:
    if any(CONTROL_CHARACTERS.search(value) for value in values.values()):
        return RowError(line, "control_character")
    if not values["email"]:
        return RowError(line, "email_required")
    try:
        email = validate_email(values["email"], check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return RowError(line, "invalid_email", {"email": values["email"]})
    name = values["name"]
    if not name or len(name) > 120:
        return RowError(line, "name_required")
    parts = split_path(values["department"])
    if not parts or any(len(part) > 120 for part in parts):
        return RowError(line, "department_required")
    if len(parts) > MAX_DEPARTMENT_LEVELS:
        return RowError(line, "department_too_deep", {"levels": MAX_DEPARTMENT_LEVELS})
    roles = []
    for raw in filter(None, (r.strip().lower() for r in values.get("roles", "").replace("；", ";").replace("，", ",").replace(";", ",").split(","))):
        if raw not in ROLE_NAMES:
            return RowError(line, "unknown_role", {"role": raw})
        roles.append(ROLE_NAMES[raw].value)
    employee_id = User.normalise_employee_id(values.get("employee_id", ""))
    if len(employee_id) > MAX_EMPLOYEE_ID:
        return RowError(line, "employee_id_too_long", {"length": MAX_EMPLOYEE_ID})
    if "@" in employee_id:  # User.by_login takes anything with an @ for an email
        return RowError(line, "employee_id_with_at")
    return StaffRow(line, email, name, " › ".join(parts), tuple(sorted(set(roles))), employee_id)


def plan(rows: list[StaffRow], errors: list[RowError], importer: Importer) -> Plan:
    """Sort good rows into people to create, to update and already up to date, as `importer` may.

    Runs at the preview and again at the confirm, so a row is judged by who holds which role
    (and which employee ID) now.
    """
    result = Plan(errors=list(errors))
    existing = _existing_users({row.email for row in rows})
    holders = _employee_id_holders({row.employee_id for row in rows if row.employee_id})
    paths = _department_paths()
    for row in rows:
        user = existing.get(row.email)
        current_roles = tuple(sorted(r.role for r in user.role_rows)) if user else ()
        current_path = paths.get(user.department_id, "") if user else ""
        holder = holders.get(row.employee_id)
        if error := _refusal(row, user, current_roles, current_path, importer) or _taken(row, holder, paths, importer):
            result.errors.append(error)
        elif user is None:
            result.creates.append(replace(row, roles=row.roles or (Role.TRAINEE.value,)))
        else:
            row = replace(row, roles=row.roles or current_roles, employee_id=row.employee_id or user.employee_id or "")
            if (user.name, current_path, current_roles, user.employee_id or "") == (row.name, row.department, row.roles, row.employee_id):
                result.unchanged.append(row)
            else:
                result.updates.append(row)
    result.errors.sort(key=lambda error: error.line)
    result.new_departments = _new_departments({row.department for row in result.rows}, set(paths.values()))
    return result


def _refusal(row: StaffRow, user: User | None, current_roles: tuple[str, ...], current_path: str, importer: Importer) -> RowError | None:
    """Why `importer` may not apply `row`, or None."""
    if not importer.manages(row.department):
        return RowError(row.line, "department_outside_scope", {"department": row.department})
    if user is not None and not importer.manages(current_path):
        return RowError(row.line, "person_outside_scope", {"email": row.email, "department": current_path})
    if importer.is_admin:
        return None
    if set(row.roles) - {Role.TRAINEE.value}:
        return RowError(row.line, "roles_need_admin")
    if user is not None and set(current_roles) - {Role.TRAINEE.value}:
        held = [r for r in current_roles if r != Role.TRAINEE.value]
        return RowError(row.line, "holds_role", {"email": row.email, "roles": held})
    return None


def _taken(row: StaffRow, holder: User | None, paths: dict[int, str], importer: Importer) -> RowError | None:
    """Refuse an employee ID someone else holds, naming them only to an importer who manages them."""
    if holder is None or holder.email == row.email:
        return None
    if importer.manages(paths.get(holder.department_id, "")):
        return RowError(row.line, "employee_id_taken", {"employee_id": row.employee_id, "email": holder.email})
    return RowError(row.line, "employee_id_taken_outside_scope", {"employee_id": row.employee_id})


def _new_departments(row_paths: set[str], known: set[str]) -> list[str]:
    """Every department (and level above it) the rows name that does not exist yet."""
    new = set()
    for path in row_paths:
        parts = path.split(" › ")
        new |= {p for depth in range(1, len(parts) + 1) if (p := " › ".join(parts[:depth])) not in known}
    return sorted(new)


def _existing_users(emails: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    email_list = sorted(emails)
    for start in range(0, len(email_list), 500):
        chunk = email_list[start:start + 500]
        for user in db.session.scalars(select(User).where(User.email.in_(chunk))):
            found[user.email] = user
    return found


def _employee_id_holders(employee_ids: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    id_list = sorted(employee_ids)
    for start in range(0, len(id_list), 500):
        for user in db.session.scalars(select(User).where(User.employee_id.in_(id_list[start:start + 500]))):
            found[user.employee_id] = user
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
                 "employee_id": r.employee_id or None, "password_hash": UNUSABLE_PASSWORD, "active": True}
                for r in import_plan.creates
            ],
        ).all()
        ids = {email: user_id for user_id, email in new_ids}
        summaries.people_added(ids.values())  # a bulk insert: the ORM's own writes are counted by themselves
        db.session.execute(
            insert(UserRole),
            [{"user_id": ids[r.email], "role": role} for r in import_plan.creates for role in r.roles],
        )
    existing = _existing_users({r.email for r in import_plan.updates})
    for row in import_plan.updates:
        user = existing[row.email]
        user.name = row.name
        user.department_id = departments[row.department]
        user.employee_id = row.employee_id or None
        user.roles = {Role(role) for role in row.roles}
    db.session.flush()
    return import_plan.counts()


def never_invited(import_plan: Plan) -> list[User]:
    """The people the plan names who wait for an invitation and never had one: everyone it created, and
    others in the file still without a password (one who was invited keeps the link they have)."""
    emails = sorted({row.email for row in import_plan.rows + import_plan.unchanged})
    people: list[User] = []
    for start in range(0, len(emails), 500):
        people += db.session.scalars(
            invitations.pending(None).where(User.invited_at.is_(None), User.email.in_(emails[start:start + 500]))
        )
    return people


def rows_to_json(rows: list[StaffRow]) -> list[dict]:
    return [asdict(row) for row in rows]


def rows_from_json(data: list[dict]) -> list[StaffRow]:
    return [StaffRow(**{**row, "roles": tuple(row["roles"])}) for row in data]


def errors_to_json(errors: list[RowError]) -> list[dict]:
    return [error.to_json() for error in errors]


def errors_from_json(data: list[dict]) -> list[RowError]:
    return [RowError.from_json(error) for error in data]


def template_rows(language: str) -> list[list[str]]:
    """A staff file to start from: the headings in the interface's language and one example person."""
    if language == "zh":
        return [["邮箱", "姓名", "部门", "角色", "工号"], ["zhang.san@example.com", "张三", "销售部/华东区", "学员", "E1001"]]
    return [["email", "name", "department", "roles", "employee_id"],
            ["zhang.san@example.com", "张三", "销售部/华东区", "trainee", "E1001"]]
