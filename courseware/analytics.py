"""What learners did, for trainers: where they stop reading, which questions and choices trip them up.

Everything is computed from the records (LearningRecord, QuizAttempt/QuizAnswer, ScenarioRun/
ScenarioStep) for a date range and a set of departments. Counting is done in SQL; only the answers
to the one quiz being examined are streamed through Python.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import and_, case, func, select

from .content import Course, Lesson, Question, Quiz, Scenario
from .content.quiz import normalise_text
from .content.scenario import Choice, Node
from .departments import DepartmentNode, with_descendants
from .extensions import db
from .models import LearningRecord, QuizAnswer, QuizAttempt, ScenarioRun, User
from .publishing import course_at
from .records import COMPLETED, EXPERIENCED
from .reports import choice_counts, in_departments

MIN_ATTEMPTS_FOR_DISCRIMINATION = 10
GROUP_SHARE = 0.27
WEAK_DISCRIMINATION = 0.2
HARD_SHARE_CORRECT = 0.3
SHORT_ANSWER_GROUPS = 10
STREAM_BATCH = 500


# --- the filter ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Which records count: made from `start` to `end` (local dates in `tz`, both inclusive; None: open)
    by learners in `department_ids` (None: everyone)."""

    start: date | None = None
    end: date | None = None
    department_ids: frozenset[int] | None = None
    tz: tzinfo = timezone.utc

    def during(self, column) -> list:
        """Conditions keeping `column` (an aware timestamp) within the date range."""
        conditions = []
        if self.start is not None:
            conditions.append(column >= datetime.combine(self.start, time.min, self.tz))
        if self.end is not None:
            conditions.append(column < datetime.combine(self.end + timedelta(days=1), time.min, self.tz))
        return conditions

    def by(self, user_column) -> list:
        """Conditions keeping `user_column` to learners in the chosen departments."""
        if self.department_ids is None:
            return []
        return [user_column.in_(in_departments(select(User.id), set(self.department_ids)))]


def departments_for(
    department_id: int | None, visible: set[int] | None, nodes: list[DepartmentNode] | None = None
) -> frozenset[int] | None:
    """Return the departments a filter covers: the chosen one and those below it, within `visible`."""
    if department_id is None:
        return None if visible is None else frozenset(visible)
    chosen = with_descendants({department_id}, nodes)
    return frozenset(chosen if visible is None else chosen & visible)


def _share(count: int | float, total: int) -> float | None:
    return count / total if total else None


# --- lessons ------------------------------------------------------------------------------


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
        return _share(self.finished_readers, self.readers)


def lesson_funnel(course: Course, flt: Filter) -> list[LessonStats]:
    """Per lesson in course order: readers, completions, median minutes to complete, and who stopped there.

    readers: distinct learners with an `experienced` record in the filter; completed: distinct
    learners with a `completed` record in the filter; median minutes: from a learner's first
    `experienced` to their first `completed` record, over learners with both; stopped here: learners
    who opened the lesson, have not completed it and opened no later lesson of the course.
    """
    lessons = course.lessons
    ids = [lesson.id for lesson in lessons]
    if not ids:
        return []
    record = LearningRecord
    where = [
        record.object_kind == "lesson", record.object_id.in_(ids),
        *flt.during(record.timestamp), *flt.by(record.user_id),
    ]
    counts: dict[tuple[str, str], int] = {
        (object_id, verb): n
        for object_id, verb, n in db.session.execute(
            select(record.object_id, record.verb, func.count(func.distinct(record.user_id)))
            .where(*where, record.verb.in_([EXPERIENCED, COMPLETED]))
            .group_by(record.object_id, record.verb)
        )
    }
    minutes = _minutes_to_complete(where)
    stopped = _stopped_at(ids, where)
    return [
        LessonStats(
            lesson,
            readers=counts.get((lesson.id, EXPERIENCED), 0),
            completed=counts.get((lesson.id, COMPLETED), 0),
            finished_readers=len(minutes.get(lesson.id, [])),
            median_minutes=statistics.median(minutes[lesson.id]) if minutes.get(lesson.id) else None,
            stopped=stopped.get(index, 0),
        )
        for index, lesson in enumerate(lessons)
    ]


def _minutes_to_complete(where: list) -> dict[str, list[float]]:
    """Per lesson, the minutes each learner took from first opening it to completing it."""
    record = LearningRecord
    first_open = func.min(case((record.verb == EXPERIENCED, record.timestamp))).label("opened")
    first_done = func.min(case((record.verb == COMPLETED, record.timestamp))).label("done")
    rows = db.session.execute(
        select(record.object_id, first_open, first_done)
        .where(*where, record.verb.in_([EXPERIENCED, COMPLETED]))
        .group_by(record.user_id, record.object_id)
    )
    found: dict[str, list[float]] = defaultdict(list)
    for object_id, opened, done in rows:
        if opened is not None and done is not None:
            found[object_id].append(max(0.0, (done - opened).total_seconds() / 60))
    return found


def _stopped_at(ids: list[str], where: list) -> dict[int, int]:
    """Per lesson position: learners whose furthest opened lesson is that one and who did not complete it.

    One pass over the records: a window gives each learner's furthest opened position.
    """
    record = LearningRecord
    position = case({lesson_id: index for index, lesson_id in enumerate(ids)}, value=record.object_id)
    furthest = func.max(case((record.verb == EXPERIENCED, position))).over(partition_by=record.user_id)
    rows = (
        select(record.user_id, record.verb, position.label("position"), furthest.label("furthest"))
        .where(*where, record.verb.in_([EXPERIENCED, COMPLETED]))
        .subquery()
    )
    finished_furthest = func.max(case((and_(rows.c.verb == COMPLETED, rows.c.position == rows.c.furthest), 1), else_=0))
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


# --- quizzes: headlines -------------------------------------------------------------------


def _submitted(flt: Filter, *where) -> list:
    return [
        QuizAttempt.status == "submitted", *where,
        *flt.during(QuizAttempt.submitted_at), *flt.by(QuizAttempt.user_id),
    ]


def _question_ids(quiz_id: str, revision_id: int) -> frozenset[str]:
    quiz = course_at(revision_id).quiz(quiz_id)
    return frozenset(q.id for q in quiz.questions) if quiz else frozenset()


@dataclass(frozen=True)
class QuizHeadline:
    quiz: Quiz
    attempts: int
    average_score: float | None
    hardest: Question | None
    hardest_share_correct: float | None


def quiz_headlines(course: Course, flt: Filter) -> list[QuizHeadline]:
    """Per quiz of the course: submitted attempts, average score and the question fewest got right."""
    quiz_ids = [q.id for q in course.quizzes]
    totals = {
        quiz_id: (n, avg)
        for quiz_id, n, avg in db.session.execute(
            select(QuizAttempt.quiz_id, func.count(), func.avg(func.coalesce(QuizAttempt.score, 0)))
            .where(*_submitted(flt, QuizAttempt.quiz_id.in_(quiz_ids)))
            .group_by(QuizAttempt.quiz_id)
        )
    }
    seen: dict[tuple[str, str], int] = Counter()
    for quiz_id, revision_id, n in db.session.execute(
        select(QuizAttempt.quiz_id, QuizAttempt.revision_id, func.count())
        .where(*_submitted(flt, QuizAttempt.quiz_id.in_(quiz_ids)))
        .group_by(QuizAttempt.quiz_id, QuizAttempt.revision_id)
    ):
        for question_id in _question_ids(quiz_id, revision_id):
            seen[quiz_id, question_id] += n
    right = {
        (quiz_id, question_id): n
        for quiz_id, question_id, n in db.session.execute(
            select(QuizAttempt.quiz_id, QuizAnswer.question_id, func.count())
            .join(QuizAttempt, QuizAttempt.id == QuizAnswer.attempt_id)
            .where(*_submitted(flt, QuizAttempt.quiz_id.in_(quiz_ids)), QuizAnswer.fraction >= 1.0)
            .group_by(QuizAttempt.quiz_id, QuizAnswer.question_id)
        )
    }
    headlines = []
    for quiz in course.quizzes:
        n, avg = totals.get(quiz.id, (0, None))
        shares = [
            (right.get((quiz.id, q.id), 0) / seen[quiz.id, q.id], q)
            for q in quiz.questions if seen.get((quiz.id, q.id))
        ]
        hardest = min(shares, key=lambda pair: pair[0], default=(None, None))
        headlines.append(QuizHeadline(quiz, n, float(avg) if avg is not None else None, hardest[1], hardest[0]))
    return headlines


# --- quizzes: item analysis ---------------------------------------------------------------


@dataclass(frozen=True)
class RankedAttempt:
    id: str
    score: float
    submitted_at: datetime
    revision_id: int


def rank_attempts(attempts: Iterable[RankedAttempt]) -> list[RankedAttempt]:
    """Sort attempts by score descending; ties by submitted_at ascending, then id."""
    return sorted(attempts, key=lambda a: (-a.score, a.submitted_at, a.id))


def group_size(total: int) -> int:
    """How many attempts form the upper (and the lower) group: int(0.27 × N + 0.5)."""
    return int(GROUP_SHARE * total + 0.5)


def discrimination_index(ranked_ids: Sequence[str], fractions: Mapping[str, float]) -> float | None:
    """Return how much better strong learners do on a question than weak ones (None: too few attempts).

    Take the N submitted attempts in the filter, sorted by attempt score descending (ties:
    submitted_at ascending, then id) — `ranked_ids`. n = int(0.27 * N + 0.5); the upper group is
    the first n attempts, the lower group the last n. D = mean fraction on the question in the upper
    group − mean in the lower group. `fractions` holds the fraction on the question for every attempt
    whose revision contained it (an unanswered question counts 0); attempts missing from it (their
    revision lacked the question) are left out of both means. D is None when N < 10, or when either
    group has no attempt with the question.
    """
    total = len(ranked_ids)
    if total < MIN_ATTEMPTS_FOR_DISCRIMINATION:
        return None
    n = group_size(total)
    upper = [fractions[i] for i in ranked_ids[:n] if i in fractions]
    lower = [fractions[i] for i in ranked_ids[total - n:] if i in fractions]
    if not upper or not lower:
        return None
    return statistics.fmean(upper) - statistics.fmean(lower)


@dataclass(frozen=True)
class Pick:
    """One line of a question's answer breakdown: an option, an item, a pair or a typed answer."""

    key: str
    label: Markup
    count: int
    share: float | None
    correct: bool
    current: bool = True


@dataclass
class _Tally:
    """Counts one question's answers; each question type reads the answers its own way."""

    question: Question
    attempts: int = 0
    counts: Counter = field(default_factory=Counter)
    texts: dict[str, Counter] = field(default_factory=dict)

    def add(self, answer: Any) -> None:
        raise NotImplementedError

    def picks(self) -> tuple[Pick, ...]:
        raise NotImplementedError


class _ChoiceTally(_Tally):
    """single / multiple: share of attempts picking each option; unknown ids are shown by id."""

    def add(self, answer: Any) -> None:
        picked = answer if isinstance(answer, list) else [answer]
        self.counts.update({str(option_id) for option_id in picked if isinstance(option_id, str)})

    def picks(self) -> tuple[Pick, ...]:
        options = self.question.options
        known = {o.id for o in options}
        rows = [Pick(o.id, Markup(o.html), self.counts[o.id], _share(self.counts[o.id], self.attempts), o.correct)
                for o in options]
        rows += [Pick(key, escape(key), n, _share(n, self.attempts), False, current=False)
                 for key, n in sorted(self.counts.items()) if key not in known]
        return tuple(rows)


class _TrueFalseTally(_Tally):
    LABELS = {True: "true", False: "false"}

    def add(self, answer: Any) -> None:
        if isinstance(answer, bool):
            self.counts[self.LABELS[answer]] += 1

    def picks(self) -> tuple[Pick, ...]:
        return tuple(
            Pick(key, escape(key), self.counts[key], _share(self.counts[key], self.attempts), value == self.question.answer)
            for value, key in self.LABELS.items()
        )


class _OrderingTally(_Tally):
    """ordering: per item, the share of attempts placing it in its correct position."""

    def add(self, answer: Any) -> None:
        if isinstance(answer, list):
            for position, item_id in enumerate(self.question.correct_answer()):
                if position < len(answer) and answer[position] == item_id:
                    self.counts[item_id] += 1

    def picks(self) -> tuple[Pick, ...]:
        return tuple(
            Pick(item.id, Markup(item.html), self.counts[item.id], _share(self.counts[item.id], self.attempts), True)
            for item in self.question.items
        )


class _MatchingTally(_Tally):
    """matching: per left item, the share of attempts matching it correctly."""

    def add(self, answer: Any) -> None:
        if isinstance(answer, dict):
            for left_id, right_id in self.question.correct_answer().items():
                if answer.get(left_id) == right_id:
                    self.counts[left_id] += 1

    def picks(self) -> tuple[Pick, ...]:
        rights = {r.id: r.html for r in self.question.rights}
        return tuple(
            Pick(left.id, Markup(f"{left.html} → {rights.get(right_id, right_id)}"), self.counts[left.id],
                 _share(self.counts[left.id], self.attempts), True)
            for left, right_id in zip(self.question.lefts, self.question.answers, strict=True)
        )


class _ShortAnswerTally(_Tally):
    """short_answer: the most frequent answers, grouped by `normalise_text`."""

    def add(self, answer: Any) -> None:
        if isinstance(answer, str) and answer.strip():
            key = normalise_text(answer)
            self.counts[key] += 1
            self.texts.setdefault(key, Counter())[answer.strip()] += 1

    def picks(self) -> tuple[Pick, ...]:
        accepted = {normalise_text(a) for a in self.question.accepted}
        return tuple(
            Pick(key, escape(self.texts[key].most_common(1)[0][0]), n, _share(n, self.attempts), key in accepted)
            for key, n in sorted(self.counts.items(), key=lambda pair: (-pair[1], pair[0]))[:SHORT_ANSWER_GROUPS]
        )


TALLIES: dict[str, type[_Tally]] = {
    "single": _ChoiceTally,
    "multiple": _ChoiceTally,
    "true_false": _TrueFalseTally,
    "ordering": _OrderingTally,
    "matching": _MatchingTally,
    "short_answer": _ShortAnswerTally,
}


@dataclass(frozen=True)
class QuestionStats:
    question: Question
    current: bool
    attempts: int
    correct: int
    fraction_total: float
    unanswered: int
    picks: tuple[Pick, ...]
    discrimination: float | None

    @property
    def share_correct(self) -> float | None:
        return _share(self.correct, self.attempts)

    @property
    def average_fraction(self) -> float | None:
        return _share(self.fraction_total, self.attempts)

    @property
    def share_unanswered(self) -> float | None:
        return _share(self.unanswered, self.attempts)

    @property
    def weak_discrimination(self) -> bool:
        return self.discrimination is not None and self.discrimination < WEAK_DISCRIMINATION - 1e-9

    @property
    def hard(self) -> bool:
        return self.share_correct is not None and self.share_correct < HARD_SHARE_CORRECT - 1e-9

    @property
    def never_picked(self) -> tuple[Pick, ...]:
        """Options of a choice question that no attempt picked (only when there were attempts)."""
        if not self.attempts or self.question.kind not in ("single", "multiple", "true_false"):
            return ()
        return tuple(p for p in self.picks if p.current and p.count == 0)


@dataclass(frozen=True)
class QuizReport:
    quiz: Quiz
    attempts: int
    average_score: float | None
    group_size: int
    questions: tuple[QuestionStats, ...]


def quiz_report(quiz: Quiz, flt: Filter) -> QuizReport:
    """Item analysis of one quiz over the submitted attempts in the filter.

    Per question: attempts (submitted attempts whose content revision contained the question; an
    unanswered question counts as attempted and wrong, fraction 0), how many got it right
    (fraction == 1), the average fraction, the answer breakdown, how many left it unanswered, and
    the discrimination index (see `discrimination_index`). Questions are those of `quiz` (the live
    version) in order, then any that older revisions had, defined as in the newest such revision.
    """
    ranked = rank_attempts(
        RankedAttempt(row.id, float(row.score or 0), row.submitted_at, row.revision_id)
        for row in db.session.execute(
            select(QuizAttempt.id, QuizAttempt.score, QuizAttempt.submitted_at, QuizAttempt.revision_id)
            .where(*_submitted(flt, QuizAttempt.quiz_id == quiz.id))
        )
    )
    revisions = {a.revision_id for a in ranked}
    contains = {revision_id: _question_ids(quiz.id, revision_id) for revision_id in revisions}
    questions = _questions_seen(quiz, sorted(revisions))
    tallies = {q.id: TALLIES[q.kind](q) for q in questions}
    for attempt in ranked:
        for question_id in contains[attempt.revision_id]:
            tallies[question_id].attempts += 1

    n = group_size(len(ranked))
    extremes = {a.id: a.revision_id for a in (ranked[:n] + ranked[len(ranked) - n:] if n else [])}
    fractions: dict[str, dict[str, float]] = defaultdict(dict)  # question → attempt → fraction
    for attempt_id, revision_id in extremes.items():
        for question_id in contains[revision_id]:
            fractions[question_id][attempt_id] = 0.0
    revision_of = {a.id: a.revision_id for a in ranked}
    answered: Counter = Counter()
    right: Counter = Counter()
    total: dict[str, float] = defaultdict(float)
    rows = db.session.execute(
        select(QuizAnswer.attempt_id, QuizAnswer.question_id, QuizAnswer.answer, QuizAnswer.fraction)
        .join(QuizAttempt, QuizAttempt.id == QuizAnswer.attempt_id)
        .where(*_submitted(flt, QuizAttempt.quiz_id == quiz.id))
        .execution_options(yield_per=STREAM_BATCH)
    )
    for attempt_id, question_id, answer, fraction in rows:
        if question_id not in contains.get(revision_of.get(attempt_id), ()) or answer is None:
            continue  # not part of what this learner was asked, or left blank
        value = float(fraction or 0)
        answered[question_id] += 1
        right[question_id] += value >= 1.0
        total[question_id] += value
        tallies[question_id].add(answer)
        if attempt_id in extremes:
            fractions[question_id][attempt_id] = value

    ranked_ids = [a.id for a in ranked]
    current = {q.id for q in quiz.questions}
    return QuizReport(
        quiz=quiz,
        attempts=len(ranked),
        average_score=statistics.fmean(a.score for a in ranked) if ranked else None,
        group_size=n,
        questions=tuple(
            QuestionStats(
                question=q,
                current=q.id in current,
                attempts=tallies[q.id].attempts,
                correct=right[q.id],
                fraction_total=total[q.id],
                unanswered=tallies[q.id].attempts - answered[q.id],
                picks=tallies[q.id].picks(),
                discrimination=discrimination_index(ranked_ids, fractions[q.id]),
            )
            for q in questions
        ),
    )


def _questions_seen(quiz: Quiz, revisions: list[int]) -> list[Question]:
    """The live quiz's questions, then those only older revisions had (as defined in the newest one)."""
    found = {q.id: q for q in quiz.questions}
    extra: dict[str, Question] = {}
    for revision_id in revisions:  # oldest first: newer definitions win
        old = course_at(revision_id).quiz(quiz.id)
        for q in old.questions if old else ():
            if q.id not in found:
                extra[q.id] = q
    return [*quiz.questions, *(extra[key] for key in sorted(extra))]


# --- scenarios ----------------------------------------------------------------------------


def _runs(flt: Filter, *where) -> list:
    return [*where, *flt.during(ScenarioRun.started_at), *flt.by(ScenarioRun.user_id)]


@dataclass(frozen=True)
class ScenarioHeadline:
    scenario: Scenario
    started: int
    finished: int
    top_ending: Node | None
    top_ending_id: str | None
    top_ending_count: int


def scenario_headlines(course: Course, flt: Filter) -> list[ScenarioHeadline]:
    """Per scenario of the course: runs started and finished, and the ending reached most often."""
    scenario_ids = [s.id for s in course.scenarios]
    started: Counter = Counter()
    finished: Counter = Counter()
    for scenario_id, status, n in db.session.execute(
        select(ScenarioRun.scenario_id, ScenarioRun.status, func.count())
        .where(*_runs(flt, ScenarioRun.scenario_id.in_(scenario_ids)))
        .group_by(ScenarioRun.scenario_id, ScenarioRun.status)
    ):
        started[scenario_id] += n
        finished[scenario_id] += n if status == "finished" else 0
    endings: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for scenario_id, ending_id, n in db.session.execute(
        select(ScenarioRun.scenario_id, ScenarioRun.ending_id, func.count())
        .where(*_runs(flt, ScenarioRun.scenario_id.in_(scenario_ids), ScenarioRun.status == "finished"))
        .group_by(ScenarioRun.scenario_id, ScenarioRun.ending_id)
    ):
        endings[scenario_id].append((n, ending_id or ""))
    headlines = []
    for scenario in course.scenarios:
        count, ending_id = min(endings[scenario.id], key=lambda pair: (-pair[0], pair[1]), default=(0, None))
        node = _node(scenario, ending_id)
        headlines.append(ScenarioHeadline(
            scenario, started[scenario.id], finished[scenario.id], node, ending_id, count
        ))
    return headlines


def _node(scenario: Scenario, node_id: str | None) -> Node | None:
    return next((n for n in scenario.nodes if n.id == node_id), None)


@dataclass(frozen=True)
class ChoiceStats:
    choice_id: str
    choice: Choice | None
    count: int
    share: float | None


@dataclass(frozen=True)
class NodeStats:
    node_id: str
    node: Node | None
    choices_made: int
    choices: tuple[ChoiceStats, ...]


@dataclass(frozen=True)
class EndingStats:
    node_id: str
    node: Node | None
    count: int
    share: float | None


@dataclass(frozen=True)
class ScenarioReport:
    scenario: Scenario
    started: int
    finished: int
    nodes: tuple[NodeStats, ...]
    endings: tuple[EndingStats, ...]

    @property
    def choice_counts(self) -> dict[tuple[str, str], int]:
        """(node id, choice id) → how many times that choice was taken."""
        return {(n.node_id, c.choice_id): c.count for n in self.nodes for c in n.choices}


def scenario_report(scenario: Scenario, flt: Filter) -> ScenarioReport:
    """Which choices learners take at each node, and which endings they reach, over runs in the filter.

    A run is in the filter when it started in the date range and its learner is in the departments.
    Per node: how often each choice was taken and its share of the choices made at that node.
    Per ending: how many finished runs reached it and their share of the finished runs. Nodes and
    choices no longer in the scenario but present in the records are listed after the others.
    """
    in_filter = _runs(flt, ScenarioRun.scenario_id == scenario.id)
    started = finished = 0
    for status, n in db.session.execute(
        select(ScenarioRun.status, func.count()).where(*in_filter).group_by(ScenarioRun.status)
    ):
        started += n
        finished += n if status == "finished" else 0
    taken = choice_counts(*in_filter)
    reached = Counter({
        ending_id: n
        for ending_id, n in db.session.execute(
            select(ScenarioRun.ending_id, func.count())
            .where(*in_filter, ScenarioRun.status == "finished")
            .group_by(ScenarioRun.ending_id)
        )
        if ending_id is not None
    })
    nodes = [_node_stats(node.id, node, taken[node.id]) for node in scenario.nodes if node.choices]
    known = {node.id for node in scenario.nodes}
    nodes += [_node_stats(node_id, None, taken[node_id]) for node_id in sorted(taken) if node_id not in known]
    endings = [EndingStats(n.id, n, reached[n.id], _share(reached[n.id], finished)) for n in scenario.endings]
    endings += [
        EndingStats(ending_id, None, count, _share(count, finished))
        for ending_id, count in sorted(reached.items()) if ending_id not in {e.node_id for e in endings}
    ]
    return ScenarioReport(scenario, started, finished, tuple(nodes), tuple(endings))


def _node_stats(node_id: str, node: Node | None, counts: Counter) -> NodeStats:
    made = sum(counts.values())
    choices = [ChoiceStats(c.id, c, counts[c.id], _share(counts[c.id], made)) for c in (node.choices if node else ())]
    offered = {c.choice_id for c in choices}
    choices += [
        ChoiceStats(choice_id, None, n, _share(n, made))
        for choice_id, n in sorted(counts.items()) if choice_id not in offered
    ]
    return NodeStats(node_id, node, made, tuple(choices))
