"""The outbox: mail, group robots' posts and statements for the company's LRS are written in the
transaction of the change that caused them, and sent afterwards by `flask worker` or `flask outbox
send`, never inside a request. LRS messages go out in batches (`lrs.py`).

A message is claimed before it is sent: a conditional UPDATE moves its next attempt a lease
ahead, so two workers never send it twice, and one sent by a worker that died before recording it
is tried again once the lease has run out. A failure is recorded on the message and retried with
a growing delay; it never stops the others. A message is given up (`failed_at`) when the failure
is permanent (a 5xx mail answer, a robot's wrong URL or key, an LRS refusing a statement) or after
`OUTBOX_MAX_ATTEMPTS` tries, until someone sends it again.
"""
from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from itertools import groupby

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Select, insert, select, update

from ..extensions import db
from ..models import Department, OutboxMessage, User, utcnow
from . import lrs, robots

MAIL = "mail"
ROBOT = "robot"
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


def enqueue_robot_posts(posts: Iterable[tuple[int, str]]) -> None:
    """Add (department id, text) posts to departments' group robots, in the caller's transaction.

    The robot's URL and secret are read when sending: a changed key takes effect, and no secret is copied here.
    """
    now = utcnow()
    rows = [
        {"kind": ROBOT, "payload": {"department_id": department_id, "text": text}, "created_at": now, "next_attempt_at": now}
        for department_id, text in posts
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


def _due(now: datetime):
    return OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None), OutboxMessage.next_attempt_at <= now


def _claim(message_id: int) -> bool:
    """Take the message for this worker if it is still due; False when another worker was first."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *_due(now))
        .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def _claimed(limit: int, kinds: Iterable[str]) -> Iterator[OutboxMessage]:
    """Claim due messages of these kinds one at a time, oldest due first, up to `limit`."""
    taken = 0
    while taken < limit:
        message_id = db.session.scalar(
            select(OutboxMessage.id)
            .where(*_due(utcnow()), OutboxMessage.kind.in_(kinds))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
        )
        if message_id is None:
            return
        if _claim(message_id):
            taken += 1
            yield db.session.get(OutboxMessage, message_id)


def _failing():
    return OutboxMessage.sent_at.is_(None), OutboxMessage.last_error.is_not(None)


def undelivered(recipients: Select) -> Select:
    """Select (message, person) for mail not sent yet after at least one failed try, to the people `recipients` selects."""
    people = recipients.subquery()
    return (
        select(OutboxMessage, User)
        .join(people, people.c.email == OutboxMessage.payload["to"].as_string())
        .join(User, User.id == people.c.id)
        .where(OutboxMessage.kind == MAIL, *_failing())
        .order_by(OutboxMessage.id.desc())
    )


def robot_failures(department_id: int) -> Select:
    """Select the department's robot posts not sent yet after at least one failed try."""
    return (
        select(OutboxMessage)
        .where(OutboxMessage.kind == ROBOT, OutboxMessage.payload["department_id"].as_integer() == department_id, *_failing())
        .order_by(OutboxMessage.id.desc())
    )


def given_up():
    """Messages no worker will try again: only these may be sent again by hand, so one a worker is
    sending at this moment is never queued a second time."""
    return OutboxMessage.failed_at.is_not(None)


def send_again(message: OutboxMessage) -> None:
    """Put a given-up message back in the queue, due now, with its tries counted afresh (the caller commits)."""
    message.failed_at = None
    message.attempts = 0
    message.next_attempt_at = utcnow()


def permanent(error: Exception) -> bool:
    """Whether trying again cannot help: the mail server answered 5xx, a robot's URL or key is wrong, or the
    LRS refuses a statement."""
    if isinstance(error, (smtplib.SMTPConnectError, smtplib.SMTPAuthenticationError)):
        return False  # our server or our login, not this message: mended by putting the configuration right
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _reason in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):  # SMTPSenderRefused and SMTPDataError among them
        return error.smtp_code >= 500
    return isinstance(error, (robots.RobotError, lrs.LRSError)) and error.permanent


def _failed(message: OutboxMessage, error: Exception) -> bool:
    """Record the failure; give the message up if it is permanent or the last try. True when given up."""
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if permanent(error) or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.failed_at = utcnow()
    else:
        message.next_attempt_at = utcnow() + retry_delay(message.attempts)
    db.session.commit()
    current_app.logger.warning(
        "outbox message %s not sent (try %s%s): %s", message.id, message.attempts,
        ", given up" if message.failed_at else "", message.last_error,
    )
    return message.failed_at is not None


class _Mailer:
    """One SMTP connection for a pass: opened for the first mail, and again after an error."""

    def __init__(self) -> None:
        self.sender = current_app.config["MAIL_FROM"]
        self.smtp: smtplib.SMTP | None = None

    def send(self, payload: dict) -> None:
        try:
            self.smtp = self.smtp or connect()
            self.smtp.send_message(email_message(self.sender, payload["to"], payload["subject"], payload["body"]))
        except Exception:
            if self.smtp is not None:
                self.smtp.close()  # in whatever state the error left it: the next message opens a new one
                self.smtp = None
            raise

    def quit(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()


def _post_to_robot(payload: dict) -> None:
    department = db.session.get(Department, payload["department_id"])
    if department is None or not department.robot_kind or not department.robot_url:
        raise robots.RobotError(f"department {payload['department_id']} has no group robot any more", permanent=True)
    robots.post(department.robot_kind, department.robot_url, department.robot_secret, payload["text"])


def _lrs_batches(limit: int) -> Iterator[list[OutboxMessage]]:
    """Claim due LRS messages in groups of about `XAPI_LRS_BATCH` statements, up to `limit` messages."""
    size = current_app.config["XAPI_LRS_BATCH"]
    batch: list[OutboxMessage] = []
    statements = 0
    for message in _claimed(limit, [lrs.KIND]):
        batch.append(message)
        statements += len(lrs.statement_ids(message))
        if statements >= size:
            yield batch
            batch, statements = [], 0
    if batch:
        yield batch


def _send_statements(batch: list[OutboxMessage], counts: dict[str, int]) -> None:
    """Send one batch of LRS messages; a message is sent when the LRS took all its statements."""
    try:
        refused = lrs.deliver([i for message in batch for i in lrs.statement_ids(message)])
    except Exception as error:  # noqa: BLE001 - kept on each message of the batch, tried again later
        db.session.rollback()  # whatever the error left of the transaction: the claims are committed already
        for message in batch:
            counts["given_up" if _failed(message, error) else "failed"] += 1
        return
    for message in batch:
        if errors := [refused[i] for i in lrs.statement_ids(message) if i in refused]:
            counts["given_up" if _failed(message, errors[0]) else "failed"] += 1
        else:
            message.sent_at = utcnow()
            counts["sent"] += 1
    db.session.commit()


def send_due(limit: int = 100) -> dict[str, int]:
    """Send the messages that are due, each by one worker only; count those sent, kept for a retry and given up.

    Up to `limit` mail and robot posts, then up to `limit` LRS messages when an LRS is configured.
    """
    counts = {"sent": 0, "failed": 0, "given_up": 0}
    mailer = _Mailer()
    senders: dict[str, Callable[[dict], None]] = {MAIL: mailer.send, ROBOT: _post_to_robot}
    try:
        for message in _claimed(limit, senders):
            try:
                senders[message.kind](message.payload)
            except Exception as error:  # noqa: BLE001 - kept on the message; the others still go out
                counts["given_up" if _failed(message, error) else "failed"] += 1
                continue
            message.sent_at = utcnow()
            db.session.commit()
            counts["sent"] += 1
    finally:
        mailer.quit()
    if lrs.enabled():
        for batch in _lrs_batches(limit):
            _send_statements(batch, counts)
    return counts

