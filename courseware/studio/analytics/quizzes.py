"""Which questions trip learners up: per quiz a headline, per question the answers learners chose.

Only the answers to the one quiz being examined are streamed through Python; the rest is counted in SQL.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import String, cast, func, select

from ...content import Course, Question, Quiz
from ...content.quiz import normalise_text, number_text
from ...extensions import db
from ...models import QuizAnswer, QuizAttempt
from ...publishing import course_at
from .filters import Filter, share
from .item_analysis import RankedAttempt, discrimination_index, group_size, rank_attempts

WEAK_DISCRIMINATION = 0.2
HARD_SHARE_CORRECT = 0.3
SHORT_ANSWER_GROUPS = 10
STREAM_BATCH = 500


def _submitted(flt: Filter, *where) -> list:
    return [
        QuizAttempt.status == "submitted", *where,
        *flt.during(QuizAttempt.submitted_at), *flt.by(QuizAttempt.user_id),
    ]


def _question_ids(quiz_id: str, revision_id: int, drawn: list[str] | None = None) -> frozenset[str]:
    """The questions an attempt was asked: its revision's, narrowed to those it drew from the pools."""
    quiz = course_at(revision_id).quiz(quiz_id)
    return frozenset(q.id for q in quiz.drawn(drawn)) if quiz else frozenset()


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
    drawn = cast(QuizAttempt.question_ids, String)  # as text: PostgreSQL cannot group by json
    for quiz_id, revision_id, ids, n in db.session.execute(
        select(QuizAttempt.quiz_id, QuizAttempt.revision_id, drawn, func.count())
        .where(*_submitted(flt, QuizAttempt.quiz_id.in_(quiz_ids)))
        .group_by(QuizAttempt.quiz_id, QuizAttempt.revision_id, drawn)
    ):
        for question_id in _question_ids(quiz_id, revision_id, json.loads(ids) if ids else None):
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


@dataclass(frozen=True)
class Pick:
    """One line of a question's answer breakdown: an option, an item, a pair or a typed answer."""

    key: str
    label: Markup
    count: int
    share: float | None
    correct: bool
    current: bool = True
    credit: float | None = None  # a typed number's share of the points, in %


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
        rows = [Pick(o.id, Markup(o.html), self.counts[o.id], share(self.counts[o.id], self.attempts), o.correct)
                for o in options]
        rows += [Pick(key, escape(key), n, share(n, self.attempts), False, current=False)
                 for key, n in sorted(self.counts.items()) if key not in known]
        return tuple(rows)


class _TrueFalseTally(_Tally):
    LABELS = {True: "true", False: "false"}

    def add(self, answer: Any) -> None:
        if isinstance(answer, bool):
            self.counts[self.LABELS[answer]] += 1

    def picks(self) -> tuple[Pick, ...]:
        return tuple(
            Pick(key, escape(key), self.counts[key], share(self.counts[key], self.attempts), value == self.question.answer)
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
            Pick(item.id, Markup(item.html), self.counts[item.id], share(self.counts[item.id], self.attempts), True)
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
                 share(self.counts[left.id], self.attempts), True)
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
            Pick(key, escape(self.texts[key].most_common(1)[0][0]), n, share(n, self.attempts), key in accepted)
            for key, n in sorted(self.counts.items(), key=lambda pair: (-pair[1], pair[0]))[:SHORT_ANSWER_GROUPS]
        )


class _NumericalTally(_Tally):
    """numerical: the most frequent answers, grouped by the number they stand for (3,5 and ３．５ are 3.5)."""

    def add(self, answer: Any) -> None:
        if isinstance(answer, str) and answer.strip():
            number = self.question.number(answer)
            key = number_text(number) if number is not None else normalise_text(answer) or answer.strip()
            self.counts[key] += 1
            self.texts.setdefault(key, Counter())[answer.strip()] += 1

    def picks(self) -> tuple[Pick, ...]:
        rows = []
        for key, n in sorted(self.counts.items(), key=lambda pair: (-pair[1], pair[0]))[:SHORT_ANSWER_GROUPS]:
            typed = self.texts[key].most_common(1)[0][0]
            credit = self.question.score(typed) * 100
            rows.append(Pick(key, escape(typed), n, share(n, self.attempts), credit >= 100, credit=credit))
        return tuple(rows)


TALLIES: dict[str, type[_Tally]] = {
    "single": _ChoiceTally,
    "multiple": _ChoiceTally,
    "true_false": _TrueFalseTally,
    "ordering": _OrderingTally,
    "matching": _MatchingTally,
    "short_answer": _ShortAnswerTally,
    "numerical": _NumericalTally,
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
        return share(self.correct, self.attempts)

    @property
    def average_fraction(self) -> float | None:
        return share(self.fraction_total, self.attempts)

    @property
    def share_unanswered(self) -> float | None:
        return share(self.unanswered, self.attempts)

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

    Per question: attempts (submitted attempts that asked the question: their content revision
    contained it and, if it is in a pool, they drew it; an unanswered question counts as attempted
    and wrong, fraction 0), how many got it right (fraction == 1), the average fraction, the answer
    breakdown, how many left it unanswered, and the discrimination index (see `discrimination_index`). Questions are those of `quiz` (the live
    version) in order, then any that older revisions had, defined as in the newest such revision.
    """
    rows = db.session.execute(
        select(QuizAttempt.id, QuizAttempt.score, QuizAttempt.submitted_at, QuizAttempt.revision_id, QuizAttempt.question_ids)
        .where(*_submitted(flt, QuizAttempt.quiz_id == quiz.id))
    ).all()
    ranked = rank_attempts(RankedAttempt(row.id, float(row.score or 0), row.submitted_at, row.revision_id) for row in rows)
    revisions = {row.revision_id for row in rows}
    contains = {revision_id: _question_ids(quiz.id, revision_id) for revision_id in revisions}
    asked = {  # attempt → the questions it was asked
        row.id: contains[row.revision_id] & frozenset(row.question_ids) if row.question_ids is not None
        else contains[row.revision_id]
        for row in rows
    }
    questions = _questions_seen(quiz, sorted(revisions))
    tallies = {q.id: TALLIES[q.kind](q) for q in questions}
    for attempt in ranked:
        for question_id in asked[attempt.id]:
            tallies[question_id].attempts += 1

    n = group_size(len(ranked))
    extremes = {a.id for a in (ranked[:n] + ranked[len(ranked) - n:] if n else [])}
    fractions: dict[str, dict[str, float]] = defaultdict(dict)  # question → attempt → fraction
    for attempt_id in extremes:
        for question_id in asked[attempt_id]:
            fractions[question_id][attempt_id] = 0.0
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
        if question_id not in asked.get(attempt_id, ()) or answer is None:
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
