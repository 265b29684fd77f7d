"""Closing the loop (反馈机制): a supplier department answers each low-rated interface with an
improvement plan, its customer department sees it, and the next round shows whether the rating moved.

An interface is low when its cell is shown (it meets the threshold) and its overall mean is under
`LOW_RATING`. One plan per round, supplier and customer; only the supplier's head writes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Department, ImprovementPlan, PlanStatus, SurveyRound, User, utcnow
from .audience import headed_department_ids
from .results import Figure, Matrix

# Under 3.5 on the 1–5 scale: below the midpoint between "neutral" (3) and "good" (4), so the
# customers' average leans to dissatisfied rather than satisfied.
LOW_RATING = 3.5


@dataclass(frozen=True)
class LowInterface:
    supplier_id: int
    customer_id: int
    overall: Figure


def low_interfaces(matrix: Matrix, supplier_id: int | None = None) -> list[LowInterface]:
    """Shown cells whose overall mean is under LOW_RATING, lowest first."""
    low = [
        LowInterface(supplier, customer, scores.overall)
        for (supplier, customer), scores in matrix.cells.items()
        if (supplier_id is None or supplier == supplier_id) and scores.overall.shown and scores.overall.mean < LOW_RATING
    ]
    return sorted(low, key=lambda cell: (cell.overall.mean, cell.supplier_id, cell.customer_id))


def is_low(matrix: Matrix, supplier_id: int, customer_id: int) -> bool:
    overall = matrix.cell(supplier_id, customer_id).overall
    return overall.shown and overall.mean < LOW_RATING


def may_write(user: User, supplier_id: int) -> bool:
    """Only the head of the supplier department (or of one above it) writes its plans; HR reads them."""
    return supplier_id in headed_department_ids(user)


def plans_of(survey_id: int, supplier_ids: list[int]) -> dict[tuple[int, int], ImprovementPlan]:
    """The round's plans of these suppliers, by (supplier, customer)."""
    rows = db.session.scalars(select(ImprovementPlan).where(
        ImprovementPlan.round_id == survey_id, ImprovementPlan.supplier_department_id.in_(supplier_ids or [-1])
    ))
    return {(plan.supplier_department_id, plan.customer_department_id): plan for plan in rows}


def find(survey_id: int, supplier_id: int, customer_id: int) -> ImprovementPlan | None:
    return db.session.scalar(select(ImprovementPlan).where(
        ImprovementPlan.round_id == survey_id, ImprovementPlan.supplier_department_id == supplier_id,
        ImprovementPlan.customer_department_id == customer_id,
    ))


def save(survey: SurveyRound, supplier_id: int, customer_id: int, by: User, *, actions: str, owner: str,
         due_on: date, status: PlanStatus) -> ImprovementPlan:
    """Create the interface's plan or update it (committed). Two first saves at once make one plan."""
    values = {"actions": actions, "owner": owner, "due_on": due_on, "status": status.value, "updated_at": utcnow()}
    plan = find(survey.id, supplier_id, customer_id)
    if plan is None:
        plan = ImprovementPlan(round_id=survey.id, supplier_department_id=supplier_id, customer_department_id=customer_id,
                               created_by_id=by.id, **values)
        db.session.add(plan)
        try:
            db.session.commit()
            return plan
        except IntegrityError:  # the other click's plan won the unique key: update that one instead
            db.session.rollback()
            plan = find(survey.id, supplier_id, customer_id)
    for name, value in values.items():
        setattr(plan, name, value)
    db.session.commit()
    return plan


def addressed_to(department: Department | None) -> list[tuple[ImprovementPlan, str]]:
    """Plans other departments made for `department` or a department above it, with the round's
    title, newest round first."""
    if department is None:
        return []
    ids = [int(part) for part in department.lineage.strip("/").split("/") if part] or [department.id]
    return [tuple(row) for row in db.session.execute(
        select(ImprovementPlan, SurveyRound.title).join(SurveyRound, SurveyRound.id == ImprovementPlan.round_id)
        .where(ImprovementPlan.customer_department_id.in_(ids))
        .order_by(SurveyRound.opens_on.desc(), ImprovementPlan.due_on)
    )]


@dataclass(frozen=True)
class Outcome:
    """A plan from the previous round beside the same interface's rating then and now."""

    plan: ImprovementPlan
    before: Figure
    after: Figure

    @property
    def moved(self) -> float | None:
        """The change in overall mean, only when both rounds show the cell."""
        return self.after.mean - self.before.mean if self.before.shown and self.after.shown else None


def outcomes(previous: Matrix, previous_plans: dict[tuple[int, int], ImprovementPlan], current: Matrix) -> list[Outcome]:
    """For each plan of the previous round: the interface's overall rating before and after."""
    return [
        Outcome(plan, previous.cell(*key).overall, current.cell(*key).overall)
        for key, plan in sorted(previous_plans.items())
    ]
