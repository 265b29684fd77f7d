"""Learning gain: how a learner, and each department, did on each objective of the final assessment
compared with the diagnostic pre-test taken before the course.

The scores are kept current as learners submit (`courseware.learner_gains`), and their sums per department
in the progress tallies, so both reads cost the same at any number of learners. Gains are in percentage
points.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from .. import summaries
from ..content import Course
from ..content.quiz import Pool
from ..extensions import db
from ..learner_gains import objectives
from ..models import LearnerGain, ProgressTally


@dataclass(frozen=True)
class Gain:
    """Scores (0–1) on one objective before the course and in the final assessment."""

    objective: Pool
    before: float
    after: float
    people: int = 1

    @property
    def points(self) -> int:
        """The gain in percentage points."""
        return round(100 * (self.after - self.before))


def of_learners(course: Course, user_ids: list[int]) -> dict[int, list[Gain]]:
    """Each of these learners' gains, objective by objective (one query)."""
    pools = {pool.id: pool for pool in objectives(course)}
    if not pools or not user_ids:
        return {}
    found: dict[int, dict[str, Gain]] = defaultdict(dict)
    for user_id, objective, before, after in db.session.execute(
        select(LearnerGain.user_id, LearnerGain.objective, LearnerGain.pretest_score, LearnerGain.final_score)
        .where(LearnerGain.user_id.in_(user_ids), LearnerGain.objective.in_(pools))
    ):
        found[user_id][objective] = Gain(pools[objective], before, after)
    return {user_id: [gains[p] for p in pools if p in gains] for user_id, gains in found.items()}


def by_department(course: Course, department_ids: set[int] | None) -> dict[int, list[Gain]]:
    """Average gains of each department's active learners (in HR's scope), objective by objective, from the tallies.

    Like HR's other figures, a department's gains leave out the people deactivated (who left the company)."""
    pools = {summaries.GAIN + pool.id: pool for pool in objectives(course)}
    if not pools:
        return {}
    statement = (
        select(ProgressTally.department_id, ProgressTally.activity_id, ProgressTally.status,
               func.sum(ProgressTally.learners), func.sum(ProgressTally.score_sum))
        .where(ProgressTally.activity_id.in_(pools), ProgressTally.active.is_(True), ProgressTally.learners != 0)
        .group_by(ProgressTally.department_id, ProgressTally.activity_id, ProgressTally.status)
    )
    if department_ids is not None:
        statement = statement.where(ProgressTally.department_id.in_(department_ids or {-1}))
    sums: dict[tuple[int, str], dict[str, tuple[int, float]]] = defaultdict(dict)
    for department_id, activity_id, status, people, total in db.session.execute(statement):
        sums[department_id, activity_id][status] = (int(people), float(total))
    found: dict[int, dict[str, Gain]] = defaultdict(dict)
    for (department_id, activity_id), at in sums.items():
        (people, before), (_, after) = at[summaries.PRETEST], at[summaries.FINAL]
        found[department_id][activity_id] = Gain(pools[activity_id], before / people, after / people, people)
    return {department_id: [gains[p] for p in pools if p in gains] for department_id, gains in found.items()}
