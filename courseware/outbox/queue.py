"""The outbox: mail (later notifications, webhooks and LRS posts) is written in the transaction of
the change that caused it, and sent afterwards by `flask worker` or `flask outbox send`, never
inside a request.

A message is claimed before it is sent: a conditional UPDATE moves its next attempt a lease
ahead, so two workers never send it twice, and one sent by a worker that died before recording it
is tried again once the lease has run out. A failure is recorded on the message and retried with
a growing delay; it never stops the others.
"""
from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from itertools import groupby

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Select, insert, select, update

from ..extensions import db
from ..models import OutboxMessage, User, utcnow

MAIL = "mail"
LEASE = timedelta(minutes=10)  # longer than one message can take to send (the SMTP timeout is 30 s a step)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=6)


def enqueue_mail(to: str, subject: str, body: str) -> OutboxMessage:
    """Add an e-mail to the outbox in the caller's transaction (the caller commits)."""
    message = OutboxMessage(kind=MAIL, payload={"to": to, "subject": subject, "body": body})
    db.session.add(message)
    return message


def enqueue_mails(mails: Iterable[tuple[str, str, str]]) -> None:
    """Add many (to, subject, body) e-mails in one statement, in the caller's transaction."""
    now = utcnow()
    rows = [
        {"kind": MAIL, "payload": {"to": to, "subject": subject, "body": body}, "created_at": now, "next_attempt_at": now}
        for to, subject, body in mails
    ]
    if rows:
        db.session.execute(insert(OutboxMessage), rows)


def in_their_language(people: Iterable[User], compose: Callable[[User], tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(to, subject, body) for each person, `compose` running in their language (else the organisation's)."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    for language, group in groupby(sorted(people, key=lambda p: p.locale or default), key=lambda p: p.locale or default):
        with force_locale(language):
            for person in group:
                yield (person.email, *compose(person))


def _one_line(value: str) -> str:
    """Header text on one line: e-mail refuses CR/LF in a header, and a title or name may hold them."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()


def email_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, _one_line(to), _one_line(subject)
    email.set_content(body)
    return email


def connect() -> smtplib.SMTP:
    """Open a connection to the configured mail server, logged in when `SMTP_USER` is set."""
    config = current_app.config
    smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
    try:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    except Exception:
        smtp.close()
        raise
    return smtp


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try: one minute, doubling, at most six hours."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LAST_RETRY)


def _claim(message_id: int) -> bool:
    """Take the message for this worker if it is still due; False when another worker was first."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def _claimed(limit: int) -> Iterator[OutboxMessage]:
    """Claim due messages one at a time, oldest due first, up to `limit`."""
    taken = 0
    while taken < limit:
        message_id = db.session.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
        )
        if message_id is None:
            return
        if _claim(message_id):
            taken += 1
            yield db.session.get(OutboxMessage, message_id)


def undelivered(recipients: Select) -> Select:
    """Select (message, person) for mail not sent yet after at least one failed try, to the people `recipients` selects."""
    people = recipients.subquery()
    return (
        select(OutboxMessage, User)
        .join(people, people.c.email == OutboxMessage.payload["to"].as_string())
        .join(User, User.id == people.c.id)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.id.desc())
    )


def _failed(message: OutboxMessage, error: Exception) -> None:
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    message.next_attempt_at = utcnow() + retry_delay(message.attempts)
    db.session.commit()
    current_app.logger.warning("outbox message %s not sent (try %s): %s", message.id, message.attempts, message.last_error)


def send_due(limit: int = 100) -> dict[str, int]:
    """Send the messages that are due, each by one worker only; count those sent and those kept for a retry."""
    counts = {"sent": 0, "failed": 0}
    sender = current_app.config["MAIL_FROM"]
    smtp: smtplib.SMTP | None = None
    try:
        for message in _claimed(limit):
            payload = message.payload
            try:
                smtp = smtp or connect()
                smtp.send_message(email_message(sender, payload["to"], payload["subject"], payload["body"]))
            except Exception as error:  # noqa: BLE001 - kept on the message; the others still go out
                if smtp is not None:
                    smtp.close()  # in whatever state the error left it: the next message opens a new one
                    smtp = None
                _failed(message, error)
                counts["failed"] += 1
                continue
            message.sent_at = utcnow()
            db.session.commit()
            counts["sent"] += 1
    finally:
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
    return counts

