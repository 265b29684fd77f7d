"""HR's counts read from the progress tallies (`courseware.summaries`): as fast with 100,000 learners as with 100.

Assignments are counted per department from the tallies, due dates evaluated on the day asked; the few
learners the tallies cannot place (assigned by name, or given more time) are looked up one by one and
their share corrected, so every figure equals the per-learner aggregate (`reports.assigned_learners`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, case, literal, select, union

from .. import summaries
from ..extensions import db
from ..models import Assignment, DueDateExtension, Progress, ProgressTally, Status, User
from ..people.departments import DepartmentNode
from ..people.scope import in_departments
from .assignments import AssignmentStatus

COMPLETED, IN_PROGRESS = Status.COMPLETED.value, Status.IN_PROGRESS.value


@dataclass
class Tallies:
    """Active people per department, and how many of them stand at each status on some activities."""

    people: dict[int, int] = field(default_factory=dict)
    at: dict[tuple[int, str, str], int] = field(default_factory=dict)  # (department, activity, status)

    def people_in(self, departments: Iterable[int]) -> int:
        return sum(self.people.get(d, 0) for d in departments)

    def count(self, departments: Iterable[int], activity_id: str, status: str) -> int:
        return sum(self.at.get((d, activity_id, status), 0) for d in departments)


def read(activity_ids: Iterable[str], department_ids: set[int] | None) -> Tallies:
    """The tallies of active learners in `department_ids` (None: all) on `activity_ids` (one query)."""
    statement = (
        select(ProgressTally.department_id, ProgressTally.activity_id, ProgressTally.status, ProgressTally.learners)
        .where(ProgressTally.active.is_(True), ProgressTally.learners != 0,
               ProgressTally.activity_id.in_([summaries.PEOPLE, *activity_ids]))
    )
    if department_ids is not None:
        statement = statement.where(ProgressTally.department_id.in_(department_ids or {-1}))
    found = Tallies()
    for department_id, activity_id, status, learners in db.session.execute(statement):
        if activity_id == summaries.PEOPLE:
            found.people[department_id] = learners
        else:
            found.at[(department_id, activity_id, status)] = learners
    return found


def subtrees(nodes: list[DepartmentNode]) -> dict[int, set[int]]:
    """Each department's id with those of every department below it."""
    below = {node.id: {node.id} for node in nodes}
    for node in reversed(nodes):  # children come after their parent in tree order
        if node.parent_id in below:
            below[node.parent_id] |= below[node.id]
    return below


def _by_department():
    """The assignments set on a department: (id, activity, department, due date)."""
    return db.session.execute(
        select(Assignment.id, Assignment.activity_id, Assignment.department_id, Assignment.due_on)
        .where(Assignment.department_id.is_not(None))
    ).all()


def _special_pairs(assigned: Select, on: date, department_ids: set[int] | None) -> list:
    """Every assignment pair of the learners assigned something by name or given more time, with the status
    the department's tallies would give them (`plain`) and whether the assignment names them (`individual`)."""
    special = union(
        select(DueDateExtension.user_id), select(Assignment.user_id).where(Assignment.user_id.is_not(None))
    )
    plain = case(
        (Progress.status == COMPLETED, literal(AssignmentStatus.COMPLETED.value)),
        (Assignment.due_on < on, literal(AssignmentStatus.OVERDUE.value)),
        (Progress.status == IN_PROGRESS, literal(AssignmentStatus.IN_PROGRESS.value)),
        else_=literal(AssignmentStatus.NOT_STARTED.value),
    )
    statement = assigned.add_columns(plain.label("plain"), Assignment.user_id.is_not(None).label("individual"))
    return db.session.execute(in_departments(statement.where(User.id.in_(special)), department_ids)).all()


def assignment_counts(
    assigned: Select, on: date, nodes: list[DepartmentNode], department_ids: set[int] | None
) -> dict[int, dict[str, int]]:
    """Per assignment covering anyone: {status on `on`: learners}. `assigned` is `reports.assigned_learners(on)`."""
    below, listed = subtrees(nodes), _by_department()
    tallies = read({a.activity_id for a in listed}, department_ids)
    found: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for assignment_id, activity_id, department_id, due_on in listed:
        covered = below.get(department_id, set())
        if department_ids is not None:
            covered = covered & department_ids
        people, done = tallies.people_in(covered), tallies.count(covered, activity_id, COMPLETED)
        counts = found[assignment_id]
        counts[AssignmentStatus.COMPLETED.value] += done
        if due_on < on:
            counts[AssignmentStatus.OVERDUE.value] += people - done
        else:
            partway = tallies.count(covered, activity_id, IN_PROGRESS)
            counts[AssignmentStatus.IN_PROGRESS.value] += partway
            counts[AssignmentStatus.NOT_STARTED.value] += people - done - partway
    for row in _special_pairs(assigned, on, department_ids):
        counts = found[row.assignment_id]
        counts[row.status] += 1
        if not row.individual:
            counts[row.plain] -= 1
    return {
        assignment_id: {state: n for state, n in counts.items() if n}
        for assignment_id, counts in found.items()
        if any(counts.values())
    }


def overdue_learners(
    assigned: Select, on: date, nodes: list[DepartmentNode], department_ids: set[int] | None
) -> int | None:
    """How many learners are overdue on any assignment; None when a department is overdue on more than one
    activity (the tallies cannot tell who missed which: the caller counts learner by learner)."""
    below = subtrees(nodes)
    late: dict[int, set[str]] = defaultdict(set)
    for _id, activity_id, department_id, due_on in _by_department():
        if due_on < on:
            for covered in below.get(department_id, ()):
                late[covered].add(activity_id)
    if any(len(activities) > 1 for activities in late.values()):
        return None
    if department_ids is not None:
        late = {d: activities for d, activities in late.items() if d in department_ids}
    tallies = read({a for activities in late.values() for a in activities}, department_ids)
    plain = sum(
        tallies.people_in([d]) - tallies.count([d], activity_id, COMPLETED)
        for d, (activity_id,) in late.items()
    )
    rows = _special_pairs(assigned, on, department_ids)
    overdue = AssignmentStatus.OVERDUE.value
    counted_plainly = {row.user_id for row in rows if not row.individual and row.plain == overdue}
    really = {row.user_id for row in rows if row.status == overdue}
    return plain - len(counted_plainly) + len(really)
