"""Credited reading time (学时): what a page event may add to a learner's clock, and the totals.

A lesson's clock runs from opening to completion and on each heartbeat its page sends while it
is visible. A heartbeat adds at most twice the heartbeat interval since the lesson was last seen,
a hidden page adds nothing, and a completion without heartbeats (no JavaScript) adds at most the
lesson's reading time. The clock is per lesson, not per tab: two tabs share one wall clock. A
lesson credits at most `CEILING_FACTOR` times its reading time, so a tab left open all day does not
turn into hours of 学时.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection

from flask import current_app
from sqlalchemy import Select, func, select

from ..content import Course, Lesson
from ..extensions import db
from ..models import LessonTime

EVENTS = ("open", "beat", "hide", "show", "complete")
PAGE_EVENTS = ("beat", "hide", "show")  # what a lesson page's script may send


def heartbeat_seconds() -> float:
    return float(current_app.config["LESSON_HEARTBEAT_SECONDS"])


def required_seconds(lesson: Lesson) -> float:
    """Reading time the learner needs before completing `lesson` (LESSON_MIN_SHARE when it sets none)."""
    return lesson.minimum_seconds(float(current_app.config["LESSON_MIN_SHARE"]))


CEILING_FACTOR = 3  # a lesson credits at most three times its reading time: a tab left open is not study


def ceiling_seconds(lesson: Lesson) -> float:
    """The most reading time one lesson credits in a round (never less than its minimum)."""
    return max(required_seconds(lesson), CEILING_FACTOR * 60.0 * lesson.minutes)


def step(
    event: str, last_seen: datetime | None, now: datetime, lesson: Lesson, heartbeat: float
) -> tuple[float, datetime | None]:
    """Return the seconds `event` credits and when the lesson now counts as last seen (None: hidden)."""
    beat_cap = 2 * heartbeat
    gap_cap = max(beat_cap, 60.0 * lesson.minutes)
    since = None if last_seen is None else max(0.0, (now - last_seen).total_seconds())
    if event == "open":  # a reload within a visit keeps its clock; a new visit starts one
        return 0.0, last_seen if since is not None and since <= gap_cap else now
    if event == "show":  # another tab may be running the clock already
        return 0.0, last_seen if since is not None and since <= beat_cap else now
    if event == "complete":
        return (0.0 if since is None else min(since, gap_cap)), now
    credit = 0.0 if since is None else min(since, beat_cap)
    return credit, None if event == "hide" else now


@dataclass(frozen=True)
class LearningMinutes:
    """A learner's credited reading time in whole minutes: in all, and per module of the course."""

    total: int = 0
    modules: dict[str, int] = field(default_factory=dict)

    def of(self, module_id: str) -> int:
        return self.modules.get(module_id, 0)


NO_TIME = LearningMinutes()


def learning_minutes(user_ids: Collection[int] | Select, course: Course) -> dict[int, LearningMinutes]:
    """Credited learning minutes (学时) per learner, in all and per module, for many learners in one query.

    Every round of the course counts; time on lessons no longer in the course counts in the total
    only. Minutes are rounded down. Learners with no time are missing: use `.get(user_id, NO_TIME)`.
    """
    rows = db.session.execute(
        select(LessonTime.user_id, LessonTime.lesson_id, func.sum(LessonTime.seconds))
        .where(LessonTime.user_id.in_(user_ids))
        .group_by(LessonTime.user_id, LessonTime.lesson_id)
    )
    totals: dict[int, float] = defaultdict(float)
    modules: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for user_id, lesson_id, seconds in rows:
        totals[user_id] += seconds or 0.0
        if lesson := course.lesson(lesson_id):
            modules[user_id][lesson.module_id] += seconds or 0.0
    return {
        user_id: LearningMinutes(int(total // 60), {m: int(s // 60) for m, s in modules[user_id].items()})
        for user_id, total in totals.items()
    }


def seconds_on(user_id: int, lesson_id: str, cycle: int) -> float:
    """Seconds credited to the learner on one lesson in one round of the course."""
    return db.session.scalar(
        select(LessonTime.seconds).where(
            LessonTime.user_id == user_id, LessonTime.lesson_id == lesson_id, LessonTime.cycle == cycle
        )
    ) or 0.0


def seconds_in_round(user_id: int, cycle: int) -> float:
    """Seconds credited to the learner on every lesson in one round of the course."""
    return db.session.scalar(
        select(func.coalesce(func.sum(LessonTime.seconds), 0.0)).where(
            LessonTime.user_id == user_id, LessonTime.cycle == cycle
        )
    )
