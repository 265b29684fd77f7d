"""E-mail reminders: due soon and overdue to learners, a daily digest to each department's HR contact,
and a nudge to look back on a personal action plan 30 days after it was made.

Run by cron through `flask --app app reminders send`. Each reminder is claimed in the database
before it is sent, so a second run (or two at once) never sends it again. A learner's reminders are
claimed for one due date: when HR moves the date or extends it, the new date is reminded of too.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import or_, select

from ..extensions import db
from ..learning import action_plans
from ..models import Assignment, Department, ReminderSent, User, upsert
from ..outbox import queue as outbox
from ..people.departments import tree, with_descendants
from ..publishing import live_course
from . import recertification, reports
from .assignments import AssignmentStatus, today


@dataclass(frozen=True)
class Message:
    key: str
    kind: str
    user: User
    subject: str
    body: str


LEARNER_KINDS = ("due_soon", "overdue")


def _key(kind: str, assignment_id: int, user_id: int, due_on: date) -> str:
    """The claim of a learner's reminder of `kind` about an assignment, for the due date it gives."""
    return f"{kind}:{assignment_id}:{user_id}:{due_on.isoformat()}"


def plan(on: date, days_before: int) -> list[Message]:
    """Every reminder that is due today, whether or not it was sent before."""
    live = live_course()
    titles = live.course.titles if live else {}
    pairs = reports.assigned_learners(on).subquery()
    rows = db.session.execute(
        select(pairs.c.assignment_id, pairs.c.user_id, pairs.c.status, pairs.c.due_on)
        .where(pairs.c.status != AssignmentStatus.COMPLETED.value)
    ).all()
    assignments = {a.id: a for a in db.session.scalars(select(Assignment))}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({r.user_id for r in rows} or {-1})))}
    base = current_app.config["PUBLIC_URL"]
    messages: list[Message] = []
    overdue_by_department: dict[int, list[tuple[User, Assignment, date]]] = defaultdict(list)
    for assignment_id, user_id, status, due_on in rows:
        user, assignment = users[user_id], assignments[assignment_id]
        title = titles.get(assignment.activity_id, assignment.activity_id)
        if status == AssignmentStatus.OVERDUE:
            overdue_by_department[user.department_id].append((user, assignment, due_on))
            messages.append(Message(
                _key("overdue", assignment_id, user_id, due_on), "overdue", user,
                f"【已逾期】请尽快完成：{title}",
                f"{user.name}，您好：\n\n《{title}》的截止日期是 {due_on.isoformat()}，目前尚未完成。"
                f"\n请尽快登录学习：{base}/\n\n—— 内部客户服务意识培训",
            ))
        elif 0 <= (due_on - on).days <= days_before:
            messages.append(Message(
                _key("due_soon", assignment_id, user_id, due_on), "due_soon", user,
                f"【即将到期】{title} 将于 {due_on.isoformat()} 截止",
                f"{user.name}，您好：\n\n《{title}》将于 {due_on.isoformat()} 截止，请安排时间完成。"
                f"\n继续学习：{base}/\n\n—— 内部客户服务意识培训",
            ))
    messages += _digests(on, overdue_by_department, titles, base)
    return messages


def forget_assignment(assignment_id: int) -> None:
    """Drop the claims of a withdrawn assignment's reminders; the caller commits.

    On SQLite a new assignment can take a deleted one's id, and must not find its reminders sent already.
    """
    db.session.execute(ReminderSent.__table__.delete().where(
        or_(*(ReminderSent.key.startswith(f"{kind}:{assignment_id}:", autoescape=True) for kind in LEARNER_KINDS))
    ))


def _digests(on: date, overdue: dict[int, list], titles: Mapping[str, str], base: str) -> list[Message]:
    nodes = tree()
    digests = []
    for department in db.session.scalars(select(Department).where(Department.hr_contact_id.is_not(None))):
        covered = with_descendants({department.id}, nodes)
        late = [item for dept_id in covered for item in overdue.get(dept_id, [])]
        contact = department.hr_contact
        if not late or contact is None or not contact.active:
            continue
        lines = "\n".join(
            f"- {user.name}（{user.email}）：{titles.get(a.activity_id, a.activity_id)}，截止 {due_on.isoformat()}"
            for user, a, due_on in sorted(late, key=lambda item: (item[2], item[0].name))
        )
        digests.append(Message(
            f"digest:{department.id}:{contact.id}:{on.isoformat()}", "digest", contact,
            f"【逾期汇总】{department.name}：{len(late)} 项学习逾期",
            f"{contact.name}，您好：\n\n{department.name}（含下属部门）以下学习已逾期：\n\n{lines}"
            f"\n\n查看详情：{base}/hr/learners?department={department.id}&status=overdue\n\n—— 内部客户服务意识培训",
        ))
    return digests


def _claim(message: Message) -> bool:
    claimed = db.session.execute(
        upsert(ReminderSent)
        .values(key=message.key, kind=message.kind, user_id=message.user.id)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ReminderSent.id)
    ).scalar()
    db.session.commit()
    return claimed is not None


def _release(message: Message) -> None:
    db.session.execute(ReminderSent.__table__.delete().where(ReminderSent.key == message.key))
    db.session.commit()


def send(on: date | None = None, days_before: int = 3, dry_run: bool = False) -> dict[str, int]:
    """Re-assign the course to those due to recertify, queue the action-plan reviews that have come,
    then send every reminder not sent before.

    Returns how many of each kind went out (and how many recertifications were opened).
    """
    on = on or today()
    counts: dict[str, int] = defaultdict(int)
    live = live_course()
    if live is not None and not dry_run:
        counts["recertification"] = recertification.open_renewals(
            live, on, current_app.config["RECERTIFY_DAYS_BEFORE"]
        )
    reviews = action_plans.reviews_due(on) if dry_run else action_plans.send_review_reminders(on)
    if reviews:
        counts["action_plan_review"] = reviews  # queued in the outbox for the worker, not sent below
    messages = plan(on, days_before)
    if dry_run:
        for message in messages:
            counts[message.kind] += 1
        return dict(counts)
    sender = current_app.config["MAIL_FROM"]
    with outbox.connect() as smtp:
        for message in messages:
            if not _claim(message):
                continue
            try:
                smtp.send_message(outbox.email_message(sender, message.user.email, message.subject, message.body))
            except Exception:  # noqa: BLE001 - whatever went wrong, the others still go out
                _release(message)  # not sent: let the next run try again
                current_app.logger.exception("reminder %s not sent", message.key)
                continue
            counts[message.kind] += 1
    return dict(counts)
