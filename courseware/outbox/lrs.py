"""Forwarding learner statements to the company's Learning Record Store (LRS), when `XAPI_LRS_URL` is set.

A transaction that writes learning records names their statement ids (`forward`); when it commits,
one outbox message listing them all is written with it, so a quiz submit adds one row, not fifteen.
The outbox sends due messages in batches (`deliver`): one POST of about `XAPI_LRS_BATCH` statements.
A statement is delivered once by its id, however often it is sent: an LRS stores a repeat of an id
it holds as nothing new, or refuses the POST with 409, and then each statement is PUT by its id,
where 204 (stored now) and 409 (stored already) both mean the LRS holds it.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import case, event, func, insert, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import LearningRecord, OutboxMessage, QuizAttempt, User, utcnow
from ..publishing import course_at
from ..statements import ANSWERS_IN_ATTEMPT, VERSION, Answered, expand, starts, statement

KIND = "lrs"
PENDING = "lrs_pending_statements"
ANSWERED = "answered"  # in a message: how many more statements than records it names, a quiz result's answers
RETRYABLE_HTTP = {401, 403, 408, 429}  # a wrong key is put right in the configuration, not in the statements


class LRSError(Exception):
    """The LRS did not take the statements; `permanent` when sending them again cannot help."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def enabled() -> bool:
    return bool(current_app.config["XAPI_LRS_URL"])


def forward(statement_ids: Iterable[str], answered: int = 0) -> None:
    """Queue these records' statements for the LRS, in one outbox message written when the caller's transaction
    commits; `answered` counts the answered statements a quiz's result among them stands for (`statements.expand`)."""
    ids = list(statement_ids)  # read in full: the caller may hand over the result of its insert
    if ids and enabled():
        pending = db.session.info.setdefault(PENDING, {"statements": [], ANSWERED: 0})
        pending["statements"].extend(ids)
        pending[ANSWERED] += answered


@event.listens_for(Session, "before_commit")
def _enqueue(session: Session) -> None:
    if pending := session.info.pop(PENDING, None):
        now = utcnow()
        payload = pending if pending[ANSWERED] else {"statements": pending["statements"]}
        session.execute(insert(OutboxMessage).values(kind=KIND, payload=payload, created_at=now, next_attempt_at=now))


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(PENDING, None)


def enqueue_since(since: datetime) -> int:
    """Queue every record since `since` (a company connecting its LRS later); the caller commits. Returns the
    statements queued: each quiz result stands for the answers of its attempt too, one per question drawn."""
    batch = current_app.config["XAPI_LRS_BATCH"]
    answered = case((LearningRecord.result[ANSWERS_IN_ATTEMPT].as_boolean(), func.json_array_length(QuizAttempt.question_ids)),
                    else_=0)
    selected = (select(LearningRecord.statement_id, answered)
                .outerjoin(QuizAttempt, QuizAttempt.id == LearningRecord.attempt_id)
                .where(LearningRecord.timestamp >= since)
                .order_by(LearningRecord.id).execution_options(yield_per=batch))
    count, now = 0, utcnow()
    for chunk in db.session.execute(selected).partitions(batch):
        payload = {"statements": [statement_id for statement_id, _ in chunk]}
        if extra := sum(n or 0 for _, n in chunk):
            payload[ANSWERED] = extra
        db.session.execute(insert(OutboxMessage).values(kind=KIND, payload=payload, created_at=now, next_attempt_at=now))
        count += len(chunk) + extra
    return count


def statement_ids(message: OutboxMessage) -> list[str]:
    return list(message.payload.get("statements", []))


def _for_lrs(data: dict[str, Any]) -> dict[str, Any]:
    """The statement as a client sends it: `stored` and `authority` are the receiving LRS's to set."""
    return {key: value for key, value in data.items() if key not in ("stored", "authority")}


def _statements(ids: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each statement the records of `ids` stand for, with the id of its record."""
    rows = db.session.execute(
        select(LearningRecord, User).join(User, User.id == LearningRecord.user_id)
        .where(LearningRecord.statement_id.in_(ids)).order_by(LearningRecord.id)
    ).all()
    entries = expand(rows)  # a quiz's result: its answered statements first
    began = starts(entry for entry, _person, _position in entries)
    home_page = current_app.config["PUBLIC_URL"]
    for entry, person, _position in entries:
        course_id = course_at(entry.revision_id).id
        record = entry.outcome if isinstance(entry, Answered) else entry
        yield record.statement_id, _for_lrs(statement(entry, person, course_id, home_page, began.get(entry.attempt_id)))


def _request(method: str, data: Any, **params: str) -> requests.Response:
    config = current_app.config
    url = config["XAPI_LRS_URL"].rstrip("/") + "/statements"
    auth = (config["XAPI_LRS_USERNAME"], config["XAPI_LRS_PASSWORD"]) if config["XAPI_LRS_USERNAME"] else None
    try:
        return requests.request(method, url, params=params or None, json=data, auth=auth,
                                headers={"X-Experience-API-Version": VERSION}, timeout=config["XAPI_LRS_TIMEOUT"])
    except requests.RequestException as error:
        raise LRSError(f"{type(error).__name__}: no answer from {urlsplit(url).netloc}") from None


def _refused(response: requests.Response) -> LRSError:
    status = response.status_code
    permanent = 400 <= status < 500 and status not in RETRYABLE_HTTP
    return LRSError(f"HTTP {status}: {response.text[:300]}", permanent=permanent)


def deliver(ids: list[str]) -> dict[str, LRSError]:
    """Send the statements of the records of `ids` that exist to the LRS; return the records of those it refused,
    each with why.

    Raise LRSError when the batch as a whole could not be sent (no answer, the LRS failing, a wrong key).
    """
    sources = list(_statements(ids))
    if not sources:
        return {}
    response = _request("POST", [one for _record, one in sources])
    if response.ok:
        return {}
    if response.status_code != 409 and not _refused(response).permanent:  # 409: some are stored already
        raise _refused(response)
    # One by one: which are stored already (409: by an earlier try), which one does the LRS refuse?
    refused = {}
    for record, one in sources:
        answer = _request("PUT", one, statementId=one["id"])
        if not answer.ok and answer.status_code != 409:
            refused.setdefault(record, _refused(answer))
    return refused


@dataclass(frozen=True)
class Backlog:
    """What HR sees of the forwarding: statements waiting and since when, the last error, the last delivery.

    `oldest` and `next_try` are the oldest waiting batch's; `tries` and `last_error` the oldest failing one's.
    """

    waiting: int
    oldest: datetime | None
    tries: int
    last_error: str | None
    next_try: datetime | None
    given_up: int
    delivered_at: datetime | None


def _unsent():
    return OutboxMessage.kind == KIND, OutboxMessage.sent_at.is_(None)


def _statement_count(*where) -> int:
    length = func.json_array_length(OutboxMessage.payload["statements"])
    answered = func.coalesce(OutboxMessage.payload[ANSWERED].as_integer(), 0)
    return db.session.scalar(select(func.coalesce(func.sum(length + answered), 0)).where(*_unsent(), *where)) or 0


def given_up() -> list[OutboxMessage]:
    """The batches no worker will try again, oldest first."""
    return list(db.session.scalars(
        select(OutboxMessage).where(*_unsent(), OutboxMessage.failed_at.is_not(None)).order_by(OutboxMessage.id)))


def backlog() -> Backlog:
    """Read the forwarding's state from the outbox: a few aggregates, whatever the number of messages."""
    oldest = db.session.scalar(
        select(OutboxMessage).where(*_unsent(), OutboxMessage.failed_at.is_(None)).order_by(OutboxMessage.id).limit(1))
    failing = db.session.scalar(  # a batch still being tried tells more than one given up
        select(OutboxMessage).where(*_unsent(), OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.failed_at.is_not(None), OutboxMessage.id).limit(1))
    return Backlog(
        waiting=_statement_count(OutboxMessage.failed_at.is_(None)),
        oldest=oldest.created_at if oldest else None,
        tries=failing.attempts if failing else 0,
        last_error=failing.last_error if failing else None,
        next_try=oldest.next_attempt_at if oldest else None,
        given_up=_statement_count(OutboxMessage.failed_at.is_not(None)),
        delivered_at=db.session.scalar(select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.kind == KIND)),
    )
