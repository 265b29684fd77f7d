"""HR's questions answered with SQL aggregates over Progress; learner-facing aggregates too.

Queries return `Select` objects or small summaries; none loops over learners in Python.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    ELEMENT_COLUMNS,
    Assignment,
    Certificate,
    Department,
    DueDateExtension,
    Progress,
    ScenarioRun,
    Status,
    User,
)
from ..people.departments import DepartmentNode
from ..people.scope import in_departments
from .assignments import AssignmentStatus, effective_due_on, extension_of


def assigned_learners(on: date) -> Select:
    """Every (assignment, learner) pair with the learner's own due date and status on `on`, as a subquery-ready Select."""
    home, target = aliased(Department), aliased(Department)
    done = Progress.status == Status.COMPLETED.value
    due_on = effective_due_on()
    return (
        select(
            Assignment.id.label("assignment_id"),
            User.id.label("user_id"),
            due_on.label("due_on"),
            case(
                (done, literal(AssignmentStatus.COMPLETED.value)),
                (due_on < on, literal(AssignmentStatus.OVERDUE.value)),
                (Progress.status == Status.IN_PROGRESS.value, literal(AssignmentStatus.IN_PROGRESS.value)),
                else_=literal(AssignmentStatus.NOT_STARTED.value),
            ).label("status"),
            Progress.completed_at,
        )
        .select_from(Assignment)
        .join(User, User.active.is_(True))
        .join(home, home.id == User.department_id)
        .outerjoin(target, target.id == Assignment.department_id)
        .outerjoin(DueDateExtension, extension_of(User.id))
        .outerjoin(Progress, and_(Progress.user_id == User.id, Progress.activity_id == Assignment.activity_id))
        .where(or_(Assignment.user_id == User.id, home.lineage.startswith(target.lineage)))
    )


def due_dates(user_ids: list[int], on: date) -> dict[int, tuple[date | None, date]]:
    """For a page of learners with assignments: (the soonest due date not yet met, or None when they
    completed everything; the latest due date of all), in one query."""
    if not user_ids:
        return {}
    pairs = assigned_learners(on).subquery()
    still_open = func.min(case((pairs.c.status != AssignmentStatus.COMPLETED.value, pairs.c.due_on)))
    rows = db.session.execute(
        select(pairs.c.user_id, still_open, func.max(pairs.c.due_on))
        .where(pairs.c.user_id.in_(user_ids))
        .group_by(pairs.c.user_id)
    )
    return {user_id: (open_due, last_due) for user_id, open_due, last_due in rows}


@dataclass(frozen=True)
class AssignmentCounts:
    assigned: int = 0
    completed: int = 0
    in_progress: int = 0
    not_started: int = 0
    overdue: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.assigned) if self.assigned else 0


def assignment_counts(on: date, department_ids: set[int] | None) -> dict[int, AssignmentCounts]:
    """Per assignment: how many learners it covers and where they stand."""
    pairs = in_departments(assigned_learners(on), department_ids).subquery()
    rows = db.session.execute(
        select(pairs.c.assignment_id, pairs.c.status, func.count()).group_by(pairs.c.assignment_id, pairs.c.status)
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for assignment_id, state, count in rows:
        found[assignment_id][state] = count
    return {
        assignment_id: AssignmentCounts(assigned=sum(by_state.values()), **by_state)
        for assignment_id, by_state in found.items()
    }


@dataclass(frozen=True)
class DepartmentRate:
    node: DepartmentNode | None
    learners: int
    completed: int

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.learners) if self.learners else 0


def completion_by_department(
    course_id: str, nodes: list[DepartmentNode], department_ids: set[int] | None
) -> list[DepartmentRate]:
    """Course completion per department, each counting its sub-departments too."""
    statement = (
        select(User.department_id, func.count(User.id), func.count(Progress.id))
        .outerjoin(
            Progress,
            and_(Progress.user_id == User.id, Progress.activity_id == course_id,
                 Progress.status == Status.COMPLETED.value),
        )
        .where(User.active.is_(True))
        .group_by(User.department_id)
    )
    own = {dept: (n, done) for dept, n, done in db.session.execute(in_departments(statement, department_ids))}
    totals = {node.id: list(own.get(node.id, (0, 0))) for node in nodes}
    for node in reversed(nodes):  # children come after their parent in tree order
        if node.parent_id in totals:
            totals[node.parent_id][0] += totals[node.id][0]
            totals[node.parent_id][1] += totals[node.id][1]
    return [
        DepartmentRate(node, *totals[node.id])
        for node in nodes
        if (department_ids is None or node.id in department_ids) and totals[node.id][0]
    ]


def completion_total(course_id: str, department_ids: set[int] | None) -> DepartmentRate:
    """All visible active learners and how many completed the course."""
    statement = (
        select(func.count(User.id), func.count(Progress.id))
        .outerjoin(
            Progress,
            and_(Progress.user_id == User.id, Progress.activity_id == course_id,
                 Progress.status == Status.COMPLETED.value),
        )
        .where(User.active.is_(True))
    )
    learners, completed = db.session.execute(in_departments(statement, department_ids)).one()
    return DepartmentRate(None, learners, completed)


def recent_completions(department_ids: set[int] | None, kinds: tuple[str, ...], limit: int = 10) -> list:
    statement = (
        select(User.id, User.name, Department.name.label("department"), Progress.activity_id, Progress.completed_at)
        .join(User, User.id == Progress.user_id)
        .join(Department, Department.id == User.department_id)
        .where(Progress.status == Status.COMPLETED.value, Progress.kind.in_(kinds))
        .order_by(Progress.completed_at.desc())
        .limit(limit)
    )
    return db.session.execute(in_departments(statement, department_ids)).all()


def average_quiz_scores(department_ids: set[int] | None) -> dict[str, tuple[float, int]]:
    """Average kept score per quiz (0–1) and how many learners it covers."""
    statement = (
        select(Progress.activity_id, func.avg(Progress.score), func.count())
        .join(User, User.id == Progress.user_id)
        .where(Progress.kind == "quiz", Progress.score.is_not(None))
        .group_by(Progress.activity_id)
    )
    return {quiz_id: (float(avg), n) for quiz_id, avg, n in db.session.execute(in_departments(statement, department_ids))}


def overdue_learners(on: date, department_ids: set[int] | None) -> int:
    pairs = in_departments(assigned_learners(on), department_ids).subquery()
    return db.session.scalar(
        select(func.count(func.distinct(pairs.c.user_id))).where(pairs.c.status == AssignmentStatus.OVERDUE.value)
    )


# --- the learner × module matrix ---------------------------------------------------------


@dataclass(frozen=True)
class MatrixFilter:
    """HR's filters on the learner list; every field optional."""

    department_id: int | None = None
    status: AssignmentStatus | None = None
    assignment_id: int | None = None
    completed_from: date | None = None
    completed_to: date | None = None
    search: str = ""

    def as_dict(self) -> dict[str, str]:
        """The filter as query-string values (for links, exports and the audit log)."""
        values = {
            "department": self.department_id, "status": self.status, "assignment": self.assignment_id,
            "from": self.completed_from, "to": self.completed_to, "q": self.search,
        }
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def learners(
    course_id: str, on: date, flt: MatrixFilter, department_ids: set[int] | None, tz: tzinfo = timezone.utc
) -> Select:
    """Select the learners matching `flt`, ordered by department and name (not yet paginated)."""
    course = aliased(Progress)
    statement = (
        select(User, Department.name.label("department_name"), course.status.label("course_status"), course.completed_at.label("course_completed_at"))
        .join(Department, Department.id == User.department_id)
        .outerjoin(course, and_(course.user_id == User.id, course.activity_id == course_id))
        .where(User.active.is_(True))
        .order_by(Department.lineage, User.name, User.id)
    )
    statement = in_departments(statement, department_ids)
    if flt.department_id:
        top = aliased(Department)
        statement = statement.join(top, top.id == flt.department_id).where(Department.lineage.startswith(top.lineage))
    if flt.search:
        pattern = f"%{flt.search.strip().lower()}%"
        statement = statement.where(or_(
            func.lower(User.name).like(pattern), func.lower(User.email).like(pattern),
            func.lower(User.employee_id).like(pattern),
        ))
    if flt.completed_from:
        statement = statement.where(course.completed_at >= datetime.combine(flt.completed_from, time.min, tz))
    if flt.completed_to:
        day_after = flt.completed_to + timedelta(days=1)
        statement = statement.where(course.completed_at < datetime.combine(day_after, time.min, tz))
    if flt.assignment_id or flt.status == AssignmentStatus.OVERDUE:
        pairs = assigned_learners(on).subquery()
        statement = statement.where(
            User.id.in_(
                select(pairs.c.user_id).where(
                    *([pairs.c.assignment_id == flt.assignment_id] if flt.assignment_id else []),
                    *([pairs.c.status == flt.status] if flt.status else []),
                )
            )
        )
    elif flt.status == AssignmentStatus.COMPLETED:
        statement = statement.where(course.status == Status.COMPLETED.value)
    elif flt.status == AssignmentStatus.IN_PROGRESS:
        statement = statement.where(course.status == Status.IN_PROGRESS.value)
    elif flt.status == AssignmentStatus.NOT_STARTED:
        statement = statement.where(course.id.is_(None))
    return statement


def count_of(statement: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))


def progress_cells(user_ids: list[int], activity_ids: list[str]) -> dict[tuple[int, str], Any]:
    """Status, score and completion date for a page of learners and a set of activities, in one query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Progress.user_id, Progress.activity_id, Progress.status, Progress.score, Progress.completed_at)
        .where(Progress.user_id.in_(user_ids), Progress.activity_id.in_(activity_ids))
    )
    return {(row.user_id, row.activity_id): row for row in rows}


# --- the internal-customer view -----------------------------------------------------------


@dataclass(frozen=True)
class ElementProfile:
    """Average totals on the four core elements over finished role-play runs."""

    label: str
    runs: int
    averages: dict[str, float]


def _element_averages():
    return [func.avg(getattr(ScenarioRun, column)).label(column) for column in ELEMENT_COLUMNS.values()]


def element_profiles(department_ids: set[int] | None) -> list[ElementProfile]:
    """Per department (of the learner): the average profile of every finished role-play run."""
    statement = (
        select(Department.id, Department.name, func.count(ScenarioRun.id), *_element_averages())
        .join(User, User.id == ScenarioRun.user_id)
        .join(Department, Department.id == User.department_id)
        .where(ScenarioRun.status == "finished")
        .group_by(Department.id, Department.name)
        .order_by(Department.name)
    )
    rows = db.session.execute(in_departments(statement, department_ids)).all()
    return [
        ElementProfile(row.name, row[2], {e: float(row._mapping[c] or 0) for e, c in ELEMENT_COLUMNS.items()})
        for row in rows
    ]


def scenario_results(department_ids: set[int] | None) -> dict[str, tuple[int, float]]:
    """Per scenario: finished runs and the average of their element totals summed."""
    total = sum(getattr(ScenarioRun, column) for column in ELEMENT_COLUMNS.values())
    statement = (
        select(ScenarioRun.scenario_id, func.count(), func.avg(total))
        .join(User, User.id == ScenarioRun.user_id)
        .where(ScenarioRun.status == "finished")
        .group_by(ScenarioRun.scenario_id)
    )
    return {sid: (n, float(avg or 0)) for sid, n, avg in db.session.execute(in_departments(statement, department_ids))}


def expiring_certificates(until: datetime, department_ids: set[int] | None, limit: int = 20) -> list:
    """Certificates that lapse before `until` (already lapsed ones first): who must recertify."""
    statement = (
        select(Certificate, User.name, Department.name.label("department"))
        .join(User, User.id == Certificate.user_id)
        .join(Department, Department.id == User.department_id)
        .where(Certificate.expires_at.is_not(None), Certificate.expires_at < until, User.active.is_(True))
        .order_by(Certificate.expires_at)
        .limit(limit)
    )
    return db.session.execute(in_departments(statement, department_ids)).all()
