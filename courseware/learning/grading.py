"""Grade a quiz attempt: quiz and answers in, result out. No Flask, no database."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..content import Question, Quiz


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answer: Any
    fraction: float

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def earned(self) -> float:
        return self.question.points * self.fraction

    @property
    def correct(self) -> bool:
        return self.fraction >= 1.0

    @property
    def partly_correct(self) -> bool:
        return 0.0 < self.fraction < 1.0


@dataclass(frozen=True)
class QuizResult:
    questions: tuple[QuestionResult, ...]
    pass_mark: int

    @property
    def earned(self) -> float:
        return sum(q.earned for q in self.questions)

    @property
    def possible(self) -> int:
        return sum(q.question.points for q in self.questions)

    @property
    def scaled(self) -> float:
        """Score as a share of the points, 0–1 (xAPI's result.score.scaled)."""
        return self.earned / self.possible if self.possible else 0.0

    @property
    def percent(self) -> int:
        return int(self.scaled * 100 + 1e-9)

    @property
    def passed(self) -> bool:
        return self.earned * 100 >= self.pass_mark * self.possible - 1e-9


def score_answer(question: Question, answer: Any) -> float:
    """Score one answer, 0–1; a missing or malformed answer scores 0 and never raises."""
    if answer is None:
        return 0.0
    try:
        return min(1.0, max(0.0, float(question.score(answer))))
    except (TypeError, ValueError, AttributeError, KeyError):
        return 0.0


def grade(quiz: Quiz, answers: Mapping[str, Any], drawn: Sequence[str] | None = None) -> QuizResult:
    """Grade `answers` (question id → canonical answer) to the questions an attempt drew from `quiz`."""
    return QuizResult(
        tuple(
            QuestionResult(q, answers.get(q.id), score_answer(q, answers.get(q.id)))
            for q in quiz.drawn(drawn)
        ),
        quiz.pass_mark,
    )
