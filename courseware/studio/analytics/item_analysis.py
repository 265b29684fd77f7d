"""Item analysis, pure: how well a question separates strong attempts from weak ones."""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

MIN_ATTEMPTS_FOR_DISCRIMINATION = 10
GROUP_SHARE = 0.27


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
