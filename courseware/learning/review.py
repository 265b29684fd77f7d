"""What a learner may see of a submitted attempt, by the quiz's review policy; checked on the server."""
from __future__ import annotations

from collections.abc import Sequence

from ..content import Quiz
from ..models import QuizAttempt


def answers_shown(quiz: Quiz, attempts: Sequence[QuizAttempt]) -> bool:
    """Tell whether right answers, feedback and explanations may be shown to this learner now.

    `attempts` are the learner's attempts at the quiz this round. "After the last attempt" waits
    until every attempt the quiz allows is used and none is still open.
    """
    if quiz.review == "after_passing":
        return any(a.passed for a in attempts if a.submitted)
    if quiz.review == "after_last_attempt":
        return bool(quiz.attempts) and len(attempts) >= quiz.attempts and all(a.submitted for a in attempts)
    return quiz.review == "full"
