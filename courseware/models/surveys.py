"""The practice loop: internal-customer survey rounds, their anonymous answers, improvement plans,
and each learner's personal action plan.

Anonymity by design: `SurveyParticipation` says who rated which department in a round, never how;
`SurveyResponse` says how a department was rated and by which customer department, never by whom.
No column, key, timestamp or row order links the two: responses have random ids and no time, and
on SQLite both tables are WITHOUT ROWID, so not even insertion order survives. On PostgreSQL a row
also carries the id of the transaction that wrote it (xmin), which would pair a response with its
participation while a round is open; once it closes, its responses are rewritten in one transaction
in random order with new ids (`answering.seal`), before anyone reads a result.
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .people import Department, User

SCORES = ("communication", "understanding", "collaboration", "feedback", "overall")  # 1-5 columns of a response


class PlanStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class SurveyRound(db.Model):
    """A window in which employees rate the departments in scope as their internal customers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)  # the last day answers are taken
    threshold: Mapped[int] = mapped_column(Integer, default=5)  # fewest answers behind any figure or comment shown
    questions: Mapped[dict[str, Any]] = mapped_column(JSON)  # key in SCORES or "comment" → {text, low, high} / {text, enabled}
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its answers rewritten at random once it closed

    created_by: Mapped[User | None] = relationship()
    scope_rows: Mapped[list[SurveyRoundDepartment]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def department_ids(self) -> set[int]:
        return {row.department_id for row in self.scope_rows}


class SurveyRoundDepartment(db.Model):
    """A department rated in a round."""

    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), primary_key=True)


class SurveyParticipation(db.Model):
    """Who rated which department in a round: for response rates, reminders and one answer each. Never the answer."""

    __table_args__ = {"sqlite_with_rowid": False}

    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), primary_key=True)  # the department rated


class SurveyResponse(db.Model):
    """One anonymous rating of a department by someone from a customer department. Never who."""

    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: SurveyResponse.new_id())
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), index=True)
    supplier_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)  # rated
    customer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))  # the rater's, when answering
    communication: Mapped[int | None] = mapped_column(SmallInteger)
    understanding: Mapped[int | None] = mapped_column(SmallInteger)
    collaboration: Mapped[int | None] = mapped_column(SmallInteger)
    feedback: Mapped[int | None] = mapped_column(SmallInteger)
    overall: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)

    @staticmethod
    def new_id() -> str:
        """A random id: nothing about when or in what order the answer was given."""
        return secrets.token_hex(16)


class ImprovementPlan(db.Model):
    """A supplier department's answer to a low-rated interface: what it will do, who owns it, by when."""

    __table_args__ = (UniqueConstraint("round_id", "supplier_department_id", "customer_department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), index=True)
    supplier_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    customer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    actions: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.PLANNED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supplier: Mapped[Department] = relationship(foreign_keys=[supplier_department_id])
    customer: Mapped[Department] = relationship(foreign_keys=[customer_department_id])


class ActionPlan(db.Model):
    """A learner's own internal-customer map and one to three actions, reviewed about 30 days later.

    Only its author reads the content; HR sees how many were made and reviewed. A learner has at
    most one open (not yet reviewed) plan: a unique index says so, so a double click cannot add a second.
    """

    __table_args__ = (
        Index(
            "uq_action_plan_open", "user_id", unique=True,
            sqlite_where=text("reviewed_at IS NULL"), postgresql_where=text("reviewed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    customers: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{who, needs, feedback}]: who uses my output
    actions: Mapped[list[str]] = mapped_column(JSON)  # one to three commitments
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    review_on: Mapped[date] = mapped_column(Date, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)  # what happened, in the learner's words
    actions_done: Mapped[list[bool] | None] = mapped_column(JSON)  # at review: whether each of `actions` was done
