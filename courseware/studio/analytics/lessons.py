"""Where learners stop reading: per lesson, readers, completions, minutes to complete, drop-off."""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from ...content import Course, Lesson
from ...extensions import db
from ...models import OF_LESSONS, LearningRecord, LessonTime, Verb
from .filters import Filter, share


@dataclass(frozen=True)
class LessonStats:
    lesson: Lesson
    readers: int
    completed: int
    finished_readers: int
    median_minutes: float | None
    stopped: int

    @property
    def completion_share(self) -> float | None:
        """Share of this lesson's readers who also completed it (both within the filter)."""
        return share(self.finished_readers, self.readers)


def lesson_funnel(course: Course, flt: Filter) -> list[LessonStats]:
    """Per lesson in course order: readers, completions, median minutes to complete, and who stopped there.

    readers: distinct learners with an `experienced` record in the filter; completed: distinct
    learners with a `completed` record in the filter; median minutes: a learner's credited reading
    time on the lesson (or, for records older than it, from their first `experienced` to their first
    `completed` record), over learners with both records; stopped here: learners
    who opened the lesson, have not completed it and opened no later lesson of the course.
    """
    lessons = course.lessons
    ids = [lesson.id for lesson in lessons]
    if not ids:
        return []
    record = LearningRecord
    where = [
        OF_LESSONS, record.object_id.in_(ids),
        *flt.during(record.timestamp), *flt.by(record.user_id),
    ]
    counts: dict[tuple[str, str], int] = {
        (object_id, verb): n
        for object_id, verb, n in db.session.execute(
            select(record.object_id, record.verb, func.count(func.distinct(record.user_id)))
            .where(*where, record.verb.in_([Verb.EXPERIENCED, Verb.COMPLETED]))
            .group_by(record.object_id, record.verb)
        )
    }
    minutes = _minutes_to_complete(where, ids)
    stopped = _stopped_at(ids, where)
    return [
        LessonStats(
            lesson,
            readers=counts.get((lesson.id, Verb.EXPERIENCED), 0),
            completed=counts.get((lesson.id, Verb.COMPLETED), 0),
            finished_readers=len(minutes.get(lesson.id, [])),
            median_minutes=statistics.median(minutes[lesson.id]) if minutes.get(lesson.id) else None,
            stopped=stopped.get(index, 0),
        )
        for index, lesson in enumerate(lessons)
    ]


def _minutes_to_complete(where: list, ids: list[str]) -> dict[str, list[float]]:
    """Per lesson, the minutes each learner who completed it read it: their credited reading time,
    or, when none was credited (records from before it was), from first opening to completing."""
    record = LearningRecord
    first_open = func.min(case((record.verb == Verb.EXPERIENCED, record.timestamp))).label("opened")
    first_done = func.min(case((record.verb == Verb.COMPLETED, record.timestamp))).label("done")
    rows = db.session.execute(
        select(record.user_id, record.object_id, first_open, first_done)
        .where(*where, record.verb.in_([Verb.EXPERIENCED, Verb.COMPLETED]))
        .group_by(record.user_id, record.object_id)
    )
    credited = {
        (user_id, lesson_id): seconds
        for user_id, lesson_id, seconds in db.session.execute(
            select(LessonTime.user_id, LessonTime.lesson_id, func.sum(LessonTime.seconds))
            .where(LessonTime.lesson_id.in_(ids))
            .group_by(LessonTime.user_id, LessonTime.lesson_id)
        )
    }
    found: dict[str, list[float]] = defaultdict(list)
    for user_id, object_id, opened, done in rows:
        if opened is not None and done is not None:
            seconds = credited.get((user_id, object_id)) or max(0.0, (done - opened).total_seconds())
            found[object_id].append(seconds / 60)
    return found


def _stopped_at(ids: list[str], where: list) -> dict[int, int]:
    """Per lesson position: learners whose furthest opened lesson is that one and who did not complete it.

    One pass over the records: a window gives each learner's furthest opened position.
    """
    record = LearningRecord
    position = case({lesson_id: index for index, lesson_id in enumerate(ids)}, value=record.object_id)
    furthest = func.max(case((record.verb == Verb.EXPERIENCED, position))).over(partition_by=record.user_id)
    rows = (
        select(record.user_id, record.verb, position.label("position"), furthest.label("furthest"))
        .where(*where, record.verb.in_([Verb.EXPERIENCED, Verb.COMPLETED]))
        .subquery()
    )
    finished_furthest = func.max(case((and_(rows.c.verb == Verb.COMPLETED, rows.c.position == rows.c.furthest), 1), else_=0))
    learners = (
        select(rows.c.furthest, finished_furthest.label("finished"))
        .group_by(rows.c.user_id, rows.c.furthest)
        .subquery()
    )
    counts = db.session.execute(
        select(learners.c.furthest, func.count())
        .where(learners.c.finished == 0, learners.c.furthest.is_not(None))
        .group_by(learners.c.furthest)
    )
    return {int(index): n for index, n in counts}
