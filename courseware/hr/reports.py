"""HR's questions answered with SQL aggregates over Progress; learner-facing aggregates too.

Queries return `Select` objects or small summaries; none loops over learners in Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from .. import summaries
from ..extensions import db
from ..models import (
    ELEMENT_COLUMNS,
    Assignment,
    Certificate,
    Department,
    DueDateExtension,
    Progress,
    ProgressTally,
    Status,
    User,
)
from ..people.departments import DepartmentNode, tree
from ..people.scope import in_departments
from . import tallies
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
    found = tallies.assignment_counts(assigned_learners(on), on, tree(), department_ids)
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
    found = tallies.read([course_id], department_ids)
    own = {dept: (people, found.count([dept], course_id, Status.COMPLETED.value)) for dept, people in found.people.items()}
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
    found = tallies.read([course_id], department_ids)
    return DepartmentRate(None, found.people_in(found.people), found.count(found.people, course_id, Status.COMPLETED.value))


def recent_completions(department_ids: set[int] | None, kinds: tuple[str, ...], limit: int = 10) -> list:
    """The latest completions of activities of these kinds: the latest of each kind (read backwards along
    the kind's index, however many rows there are), then the latest of those."""
    latest = [
        in_departments(
            select(User.id, User.name, Department.name.label("department"), Progress.activity_id, Progress.completed_at)
            .join(User, User.id == Progress.user_id)
            .join(Department, Department.id == User.department_id)
            .where(Progress.kind == kind, Progress.completed_at.is_not(None), Progress.status == Status.COMPLETED.value)
            .order_by(Progress.completed_at.desc())
            .limit(limit),
            department_ids,
        ).subquery()
        for kind in kinds
    ]
    merged = union_all(*(select(*sub.c) for sub in latest)).subquery()
    return db.session.execute(select(*merged.c).order_by(merged.c.completed_at.desc()).limit(limit)).all()


def average_quiz_scores(department_ids: set[int] | None) -> dict[str, tuple[float, int]]:
    """Average kept score per quiz (0–1) and how many learners it covers (those deactivated too)."""
    statement = (
        select(ProgressTally.activity_id, func.sum(ProgressTally.score_sum), func.sum(ProgressTally.scored))
        .where(ProgressTally.kind == "quiz")
        .group_by(ProgressTally.activity_id)
        .having(func.sum(ProgressTally.scored) > 0)
    )
    if department_ids is not None:
        statement = statement.where(ProgressTally.department_id.in_(department_ids or {-1}))
    return {quiz_id: (float(total) / n, int(n)) for quiz_id, total, n in db.session.execute(statement)}


def overdue_learners(on: date, department_ids: set[int] | None) -> int:
    """How many learners in scope are overdue on any of their assignments."""
    counted = tallies.overdue_learners(assigned_learners(on), on, tree(), department_ids)
    if counted is not None:
        return counted
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

    @property
    def by_department_only(self) -> bool:
        """Whether the filter names at most a department (so the list is the departments' active people)."""
        return not (self.status or self.assignment_id or self.completed_from or self.completed_to or self.search.strip())


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


def departments_listed(flt: MatrixFilter, department_ids: set[int] | None) -> list[tuple[int, int]]:
    """(department, active people) in the learner list's order, for a filter naming at most a department;
    the counts come from the tallies."""
    statement = select(Department.id).order_by(Department.lineage)
    if flt.department_id:
        top = aliased(Department)
        statement = statement.join(top, top.id == flt.department_id).where(Department.lineage.startswith(top.lineage))
    if department_ids is not None:
        statement = statement.where(Department.id.in_(department_ids or {-1}))
    people = tallies.read([], department_ids).people
    return [(department_id, people[department_id]) for department_id in db.session.scalars(statement) if people.get(department_id)]


def page_by_department(statement: Select, departments: list[tuple[int, int]], offset: int, limit: int) -> list:
    """Rows `offset` to `offset + limit` of `learners(...)` with a filter naming at most a department, read
    department by department along the index on (department, name, id): as fast at 100,000 learners as at 100."""
    rows: list = []
    for department_id, people in departments:
        if offset >= people:
            offset -= people
            continue
        rows += db.session.execute(
            statement.where(User.department_id == department_id).order_by(None).order_by(User.name, User.id)
            .offset(offset).limit(limit - len(rows))
        ).all()
        offset = 0
        if len(rows) >= limit:
            break
    return rows


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


def _run_sums(key, department_ids: set[int] | None) -> dict:
    """{(key..., element column): (finished runs, runs with a total, sum of the totals)} from the tallies."""
    statement = (
        select(*key, ProgressTally.status, func.sum(ProgressTally.learners), func.sum(ProgressTally.scored),
               func.sum(ProgressTally.score_sum))
        .where(ProgressTally.status.in_([summaries.RUN + column for column in ELEMENT_COLUMNS.values()]))
        .group_by(*key, ProgressTally.status)
    )
    if department_ids is not None:
        statement = statement.where(ProgressTally.department_id.in_(department_ids or {-1}))
    found = {}
    for *keys, status, runs, scored, total in db.session.execute(statement):
        found[(*keys, status.removeprefix(summaries.RUN))] = (int(runs), int(scored), float(total or 0))
    return found


def element_profiles(department_ids: set[int] | None) -> list[ElementProfile]:
    """Per department (of the learner): the average profile of every finished role-play run."""
    sums = _run_sums((ProgressTally.department_id,), department_ids)
    names = dict(db.session.execute(select(Department.id, Department.name).where(
        Department.id.in_({department_id for department_id, _column in sums}))).all())
    profiles = []
    for department_id in sorted({d for d, _column in sums}, key=lambda d: names[d]):
        by_column = {column: sums[(department_id, column)] for column in ELEMENT_COLUMNS.values() if (department_id, column) in sums}
        runs = max(n for n, _scored, _total in by_column.values())
        if runs:
            profiles.append(ElementProfile(names[department_id], runs, {
                element: (by_column[column][2] / by_column[column][1]) if by_column.get(column, (0, 0))[1] else 0.0
                for element, column in ELEMENT_COLUMNS.items()
            }))
    return profiles


def scenario_results(department_ids: set[int] | None) -> dict[str, tuple[int, float]]:
    """Per scenario: finished runs and the average of their element totals summed."""
    sums = _run_sums((ProgressTally.activity_id,), department_ids)
    found = {}
    for scenario_id in {s for s, _column in sums}:
        columns = [sums.get((scenario_id, column), (0, 0, 0.0)) for column in ELEMENT_COLUMNS.values()]
        runs = max(n for n, _scored, _total in columns)
        if runs:
            found[scenario_id] = (runs, sum(total for _n, _scored, total in columns) / runs)
    return found


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
