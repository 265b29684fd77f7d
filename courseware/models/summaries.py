"""Summaries kept current with every progress write, so HR's figures cost the same at any number of learners."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ProgressTally(db.Model):
    """How many learners of a department (active or not) stand at a status on an activity, and their scores.

    One row per (department, active, activity, status); `courseware.summaries` keeps it equal to the
    same aggregate over Progress joined to User, in the transaction of each write.
    """

    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    learners: Mapped[int] = mapped_column(Integer, default=0)
    scored: Mapped[int] = mapped_column(Integer, default=0)  # of them, how many have a score
    score_sum: Mapped[float] = mapped_column(default=0.0)


class LearnerGain(db.Model):
    """A learner's score (0–1) on one objective in their first pre-test and in their best final assessment.

    Only learners who took both have rows; `courseware.learner_gains` keeps them equal to the same scores
    computed from the attempts with the live course, at every submission of either quiz and every publish
    that changes which questions measure which objective.
    """

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    objective: Mapped[str] = mapped_column(String(128), primary_key=True)
    pretest_score: Mapped[float] = mapped_column()
    final_score: Mapped[float] = mapped_column()
