"""A learner's personal action plan: who uses my output, what they need from me, how I will ask
for feedback, and one to three actions; about 30 days later, what happened.

The content is the learner's alone. HR reads only how many learners made and reviewed a plan,
per department (`counts_by_department`), never a word of what they wrote.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, case, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import summaries
from ..extensions import db
from ..inputs import control_character
from ..models import ActionPlan, User, utcnow
from ..outbox import queue as outbox
from ..people.departments import DepartmentNode
from ..people.scope import in_departments

REVIEW_AFTER = timedelta(days=30)
MAX_CUSTOMERS = 5
MAX_ACTIONS = 3
MAX_WHO = 120  # characters
MAX_NEEDS = 500  # "what they need from me" and "how I will ask for feedback"
MAX_ACTION = 300
MAX_OUTCOME = 2000
MAP_AID_ID = "internal-customer-map"  # the job aid whose worksheet this plan puts online


class PlanInvalid(ValueError):
    """What the learner must fix before the plan (or its review) can be saved, one message each."""

    def __init__(self, messages: list[str]):
        super().__init__(messages)
        self.messages = messages


def _text(value: str | None) -> str:
    return (value or "").strip()


def clean(customers: Sequence[dict[str, str | None]], actions: Sequence[str | None]) -> tuple[list[dict[str, str]], list[str]]:
    """Return the rows and actions the learner filled in (blank ones dropped), or raise PlanInvalid."""
    rows = [{key: _text(row.get(key)) for key in ("who", "needs", "feedback")} for row in customers]
    rows = [row for row in rows if any(row.values())]
    commitments = [text for text in map(_text, actions) if text]
    problems: list[str] = []
    if not rows:
        problems.append(_l("Name at least one internal customer: who uses your output?"))
    elif any(not row["who"] for row in rows):
        problems.append(_l("Every customer row needs who it is; empty rows are left out."))
    if len(rows) > MAX_CUSTOMERS:
        problems.append(_l("Name at most %(num)d internal customers.", num=MAX_CUSTOMERS))
    if not commitments:
        problems.append(_l("Commit to at least one action."))
    elif len(commitments) > MAX_ACTIONS:
        problems.append(_l("Commit to at most %(num)d actions: fewer actions are more often done.", num=MAX_ACTIONS))
    if any(len(row["who"]) > MAX_WHO for row in rows):
        problems.append(_l("Keep who each customer is under %(num)d characters.", num=MAX_WHO))
    if any(len(row["needs"]) > MAX_NEEDS or len(row["feedback"]) > MAX_NEEDS for row in rows):
        problems.append(_l("Keep what they need and how you will ask under %(num)d characters each.", num=MAX_NEEDS))
    if any(len(text) > MAX_ACTION for text in commitments):
        problems.append(_l("Keep each action under %(num)d characters.", num=MAX_ACTION))
    typed = [row["who"] for row in rows] + commitments
    if any(control_character(text) for text in typed) or any(
        control_character(row[key], multiline=True) for row in rows for key in ("needs", "feedback")
    ):
        problems.append(_l("The plan contains a control character; remove it."))
    if problems:
        raise PlanInvalid(problems)
    return rows, commitments


def open_plan(user_id: int) -> ActionPlan | None:
    """The learner's plan not reviewed yet (there is at most one)."""
    return db.session.scalar(_OPEN_PLAN, {"user_id": user_id})


_OPEN_PLAN = select(ActionPlan).where(ActionPlan.user_id == bindparam("user_id"), ActionPlan.reviewed_at.is_(None))  # built once: the home asks


def plans_of(user_id: int) -> list[ActionPlan]:
    """The learner's plans, newest first."""
    return list(db.session.scalars(
        select(ActionPlan).where(ActionPlan.user_id == user_id).order_by(ActionPlan.created_at.desc(), ActionPlan.id.desc())
    ))


def own_plan(user_id: int, plan_id: int) -> ActionPlan | None:
    """The plan if it is the learner's; anyone else's is not found."""
    plan = db.session.get(ActionPlan, plan_id)
    return plan if plan is not None and plan.user_id == user_id else None


def save(user_id: int, customers: Sequence[dict[str, str | None]], actions: Sequence[str | None], on: date) -> ActionPlan:
    """Edit the learner's open plan, or start one to be reviewed `REVIEW_AFTER` from `on`; commit.

    Editing keeps the review date. Two saves racing (a double click) both end on the one open plan:
    the unique index refuses the second new plan, which then edits the first instead.
    """
    rows, commitments = clean(customers, actions)
    for _attempt in range(2):
        plan = open_plan(user_id)
        if plan is None:
            plan = ActionPlan(user_id=user_id, review_on=on + REVIEW_AFTER, created_at=utcnow())
            db.session.add(plan)
        plan.customers, plan.actions = rows, commitments
        try:
            db.session.commit()
            return plan
        except IntegrityError:
            db.session.rollback()
    raise RuntimeError("the learner's open action plan changed twice while saving")


def record_review(plan: ActionPlan, done: Sequence[bool | None], outcome: str | None) -> None:
    """Record what happened with each action and in the learner's words; commit. A plan is reviewed once."""
    text = _text(outcome)
    problems: list[str] = []
    if len(done) != len(plan.actions) or None in done:  # None: neither "done" nor "not yet" picked
        problems.append(_l("Say for every action whether it is done."))
    if len(text) > MAX_OUTCOME:
        problems.append(_l("Keep what happened under %(num)d characters.", num=MAX_OUTCOME))
    if control_character(text, multiline=True):
        problems.append(_l("What happened contains a control character; remove it."))
    if problems:
        raise PlanInvalid(problems)
    reviewed = db.session.execute(
        update(ActionPlan)
        .where(ActionPlan.id == plan.id, ActionPlan.reviewed_at.is_(None))  # a second click finds it reviewed
        .values(reviewed_at=utcnow(), actions_done=list(map(bool, done)), outcome=text or None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(plan)
    if not reviewed:
        raise PlanInvalid([_l("You have already recorded what happened with this plan.")])


def is_due(plan: ActionPlan | None, on: date) -> bool:
    return plan is not None and plan.reviewed_at is None and plan.review_on <= on


@dataclass(frozen=True)
class Standing:
    """What the learner's home page says about their plan: 'invite' (none yet, course done), 'open' or 'due'."""

    stage: str
    plan: ActionPlan | None


def standing(user_id: int, course_completed: bool, on: date, any_plan: bool = True) -> Standing | None:
    """Where the learner stands with their plan, or None when there is nothing to say yet.

    `any_plan` False says the learner is known to have no plan at all, which spares both queries.
    """
    plan = open_plan(user_id) if any_plan else None
    if plan is not None:
        return Standing("due" if is_due(plan, on) else "open", plan)
    if course_completed and not (any_plan and db.session.scalar(select(ActionPlan.id).where(ActionPlan.user_id == user_id).limit(1))):
        return Standing("invite", None)
    return None


# --- the 30-day reminder ---------------------------------------------------------------------


def due_for_review(on: date) -> Select:
    """Open plans of active learners whose review date has come and who have not been reminded."""
    return (
        select(ActionPlan)
        .join(User, User.id == ActionPlan.user_id)
        .where(
            ActionPlan.review_on <= on, ActionPlan.reviewed_at.is_(None), ActionPlan.reminded_at.is_(None),
            User.active.is_(True),
        )
        .order_by(ActionPlan.id)
    )


def reviews_due(on: date) -> int:
    """How many learners `send_review_reminders(on)` would remind."""
    return db.session.scalar(select(func.count()).select_from(due_for_review(on).subquery()))


def _reminder(person: User, review_on: date, link: str) -> tuple[str, str]:
    """The e-mail's subject and body. It holds no word of the plan: mail passes through other hands."""
    return _("Your action plan: time to record what happened"), _(
        "Hello %(name)s,\n\nOn %(date)s it was time to look back on the action plan you made at the end of the "
        "course. Record which actions you did and what happened: %(link)s",
        name=person.name, date=review_on.isoformat(), link=link,
    )


def send_review_reminders(on: date) -> int:
    """Queue one e-mail to each learner whose plan is due for review and was not reminded; return how many.

    Each plan is claimed (its `reminded_at` set where still empty) in the transaction that queues
    its mail, so two runs at once never remind anyone twice.
    """
    plan_ids = list(db.session.scalars(due_for_review(on).with_only_columns(ActionPlan.id)))
    if not plan_ids:
        return 0
    claimed = db.session.execute(
        update(ActionPlan)
        .where(ActionPlan.id.in_(plan_ids), ActionPlan.reminded_at.is_(None))
        .values(reminded_at=utcnow())
        .returning(ActionPlan.user_id, ActionPlan.review_on)
        .execution_options(synchronize_session=False)
    ).all()
    review_dates = dict(claimed)
    people = db.session.scalars(select(User).where(User.id.in_(review_dates))).all()
    with current_app.test_request_context():  # the daily command runs outside any request
        link = current_app.config["PUBLIC_URL"] + url_for("plans.mine")
    outbox.enqueue_mails(outbox.in_their_language(people, lambda person: _reminder(person, review_dates[person.id], link)))
    db.session.commit()
    return len(people)


# --- for HR: counts only ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanCounts:
    node: DepartmentNode | None  # None: everyone in scope
    learners: int
    made: int  # learners who made at least one plan
    reviewed: int  # learners who reviewed at least one


def counts_by_department(nodes: list[DepartmentNode], department_ids: set[int] | None) -> tuple[list[PlanCounts], PlanCounts]:
    """Per department in scope (each counting its sub-departments), and in all: active learners, how
    many made a plan and how many reviewed one. Departments where nobody made one are left out."""
    authors = (  # read from the plans first: their number, not the learners', bounds the work
        select(ActionPlan.user_id, func.max(case((ActionPlan.reviewed_at.is_not(None), 1), else_=0)).label("reviewed"))
        .group_by(ActionPlan.user_id)
        .subquery()
    )
    statement = (
        select(User.department_id, func.count(), func.sum(authors.c.reviewed))
        .select_from(authors)
        .join(User, User.id == authors.c.user_id)
        .where(User.active.is_(True))
        .group_by(User.department_id)
    )
    plans = {dept: (made, int(reviewed)) for dept, made, reviewed in db.session.execute(in_departments(statement, department_ids))}
    own = {dept: (people, *plans.get(dept, (0, 0))) for dept, people in summaries.people(department_ids).items()}
    totals = {node.id: list(own.get(node.id, (0, 0, 0))) for node in nodes}
    for node in reversed(nodes):  # children come after their parent in tree order
        if node.parent_id in totals:
            totals[node.parent_id] = [a + b for a, b in zip(totals[node.parent_id], totals[node.id])]
    rows = [
        PlanCounts(node, *totals[node.id])
        for node in nodes
        if (department_ids is None or node.id in department_ids) and totals[node.id][1]
    ]
    overall = PlanCounts(None, *(sum(counts[i] for counts in own.values()) for i in range(3)))
    return rows, overall
