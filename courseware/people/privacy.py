"""Privacy: everything stored about one person, as JSON, and anonymising a person who has left.

Anonymising removes who the person was, not what they did. Their department and every learning
record stay (progress, xAPI records, quiz attempts and answers, role-play runs, certificates), so
department completion figures, quiz and scenario statistics and trainers' analytics stay exactly
as they were; the records are simply no longer linked to a name. Answers to short-answer
questions are kept for the same reason (question statistics read them), although they are free
text the learner typed. Staff-import files kept in the database lose the person's name and email,
and the e-mailed links (sign-up) for their address are deleted.
The audit log is left as it was: it is the record of who did what, and names people by id.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db
from ..models import (
    AccountToken,
    ActionPlan,
    Assignment,
    AuditEntry,
    Certificate,
    ContentRevision,
    Department,
    DraftFile,
    DraftMedia,
    DueDateExtension,
    HRScope,
    ImprovementPlan,
    LearnerGain,
    ImportBatch,
    LearningRecord,
    LessonTime,
    LoginSession,
    Notice,
    OutboxMessage,
    Progress,
    QuizAttempt,
    ReminderSent,
    Role,
    ScenarioRun,
    SurveyParticipation,
    SurveyRound,
    User,
    UserRole,
    utcnow,
)
from . import sessions
from .departments import tree

ANONYMOUS_DOMAIN = "anonymised.invalid"  # .invalid never resolves (RFC 2606): nothing can be sent there


class Refused(Exception):
    """This person may not be anonymised; the message says why."""


# --- export ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _columns(row: Any, leave_out: tuple[str, ...] = ("user_id",)) -> dict[str, Any]:
    """Every column of a row, JSON-ready, except those in `leave_out`."""
    return {column.key: _plain(getattr(row, column.key)) for column in row.__table__.columns if column.key not in leave_out}


def _picked(row: Any, *names: str) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in names}


def _account(user: User) -> dict[str, Any]:
    paths = {node.id: node.path for node in tree()}
    contact_for = db.session.scalars(select(Department.id).where(Department.hr_contact_id == user.id))
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "department": paths.get(user.department_id),
        "roles": sorted(role.value for role in user.roles),
        "hr_scope": sorted(paths[d] for d in user.scope_department_ids if d in paths),
        "hr_contact_for": sorted(paths[d] for d in contact_for if d in paths),
        "head_of": sorted(paths[d] for d in db.session.scalars(select(Department.id).where(Department.head_id == user.id)) if d in paths),
        "locale": user.locale,
        "employee_id": user.employee_id,
        "created_at": _plain(user.created_at),
        "invited_at": _plain(user.invited_at),
        "last_sign_in_at": _plain(user.last_sign_in_at),
        "active": user.active,
        "has_password": user.has_password,
    }


def _owned(column: InstrumentedAttribute) -> Callable[[User], list[dict[str, Any]]]:
    """Read every row whose `column` names the person, all columns but that one."""
    model = column.class_

    def read(user: User) -> list[dict[str, Any]]:
        rows = db.session.scalars(select(model).where(column == user.id).order_by(*model.__table__.primary_key))
        return [_columns(row, (column.key,)) for row in rows]

    return read


def _quiz_attempts(user: User) -> list[dict[str, Any]]:
    attempts = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user.id).order_by(QuizAttempt.started_at))
    return [
        _columns(attempt) | {"answers": [_columns(answer, ("attempt_id",)) for answer in attempt.answers]}
        for attempt in attempts
    ]


def _scenario_runs(user: User) -> list[dict[str, Any]]:
    runs = db.session.scalars(select(ScenarioRun).where(ScenarioRun.user_id == user.id).order_by(ScenarioRun.started_at))
    return [_columns(run) | {"steps": [_columns(step, ("run_id",)) for step in run.steps]} for run in runs]


def _audit_log(user: User) -> list[dict[str, Any]]:
    entries = db.session.scalars(
        select(AuditEntry)
        .where(or_(AuditEntry.user_id == user.id, AuditEntry.subject_user_id == user.id))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return [_columns(entry, ()) for entry in entries]


def _revisions_created(user: User) -> list[dict[str, Any]]:
    revisions = db.session.scalars(select(ContentRevision).where(ContentRevision.created_by_id == user.id).order_by(ContentRevision.id))
    return [_picked(revision, "id", "note", "source_hash", "created_at", "published_at") for revision in revisions]


def _drafts_edited(user: User) -> list[dict[str, Any]]:
    drafts = db.session.scalars(select(DraftFile).where(DraftFile.updated_by_id == user.id).order_by(DraftFile.path))
    return [_picked(draft, "path", "version", "updated_at") for draft in drafts]


def _media_drafts_edited(user: User) -> list[dict[str, Any]]:
    drafts = db.session.scalars(select(DraftMedia).where(DraftMedia.updated_by_id == user.id).order_by(DraftMedia.name))
    return [_picked(draft, "name", "sha256", "version", "updated_at") for draft in drafts]


def _staff_imports(user: User) -> list[dict[str, Any]]:
    """The person's staff uploads, without their rows: those are other people's data."""
    batches = db.session.scalars(select(ImportBatch).where(ImportBatch.created_by_id == user.id).order_by(ImportBatch.created_at))
    return [_picked(batch, "id", "filename", "status", "created_at", "imported_at", "summary") for batch in batches]


def _sessions(user: User) -> list[str]:
    """When each live session began (the token's hash is a secret of the session, not of the person)."""
    return [_plain(at) for at in db.session.scalars(
        select(LoginSession.created_at).where(LoginSession.user_id == user.id).order_by(LoginSession.created_at)
    )]


def _account_links(user: User) -> list[dict[str, Any]]:
    """The e-mailed links for the person's address, without the token's hash or what waits with it."""
    links = db.session.scalars(select(AccountToken).where(AccountToken.email == user.email).order_by(AccountToken.id))
    return [_picked(link, "purpose", "created_at", "expires_at", "used_at") for link in links]


def _survey_participation(user: User) -> list[dict[str, Any]]:
    """The survey rounds the person took part in and the departments they rated there. Never how they
    rated them: the answers are stored without a name, so nothing links them to the person."""
    paths = {node.id: node.path for node in tree()}
    rows = db.session.execute(
        select(SurveyRound.id, SurveyRound.title, SurveyParticipation.department_id)
        .join(SurveyParticipation, SurveyParticipation.round_id == SurveyRound.id)
        .where(SurveyParticipation.user_id == user.id)
        .order_by(SurveyRound.id, SurveyParticipation.department_id)
    )
    rounds: dict[int, dict[str, Any]] = {}
    for round_id, title, department_id in rows:
        rounds.setdefault(round_id, {"round_id": round_id, "title": title, "departments_rated": []})
        rounds[round_id]["departments_rated"].append(paths.get(department_id, department_id))
    return list(rounds.values())


def _survey_rounds_created(user: User) -> list[dict[str, Any]]:
    created = db.session.scalars(select(SurveyRound).where(SurveyRound.created_by_id == user.id).order_by(SurveyRound.id))
    return [_picked(survey, "id", "title", "opens_on", "closes_on", "created_at") for survey in created]


def _improvement_plans_written(user: User) -> list[dict[str, Any]]:
    """The improvement plans the person wrote as a department's head (the plan is the department's)."""
    plans = db.session.scalars(select(ImprovementPlan).where(ImprovementPlan.created_by_id == user.id).order_by(ImprovementPlan.id))
    return [_picked(plan, "id", "round_id", "supplier_department_id", "customer_department_id", "created_at") for plan in plans]


@dataclass(frozen=True)
class Section:
    """One part of the export: which references to a person it covers and how it reads them."""

    name: str
    references: tuple[InstrumentedAttribute, ...]
    read: Callable[[User], Any]


SECTIONS = (
    Section("account", (UserRole.user_id, HRScope.user_id, Department.hr_contact_id, Department.head_id), _account),
    Section("progress", (Progress.user_id,), _owned(Progress.user_id)),
    Section("learning_gains", (LearnerGain.user_id,), _owned(LearnerGain.user_id)),
    Section("learning_records", (LearningRecord.user_id,), _owned(LearningRecord.user_id)),
    Section("lesson_time", (LessonTime.user_id,), _owned(LessonTime.user_id)),
    Section("quiz_attempts", (QuizAttempt.user_id,), _quiz_attempts),
    Section("scenario_runs", (ScenarioRun.user_id,), _scenario_runs),
    Section("certificates", (Certificate.user_id,), _owned(Certificate.user_id)),
    Section("assignments", (Assignment.user_id,), _owned(Assignment.user_id)),
    Section("assignments_created", (Assignment.created_by_id,), _owned(Assignment.created_by_id)),
    Section("due_date_extensions", (DueDateExtension.user_id,), _owned(DueDateExtension.user_id)),
    Section("due_date_extensions_granted", (DueDateExtension.created_by_id,), _owned(DueDateExtension.created_by_id)),
    Section("reminders_sent", (ReminderSent.user_id,), _owned(ReminderSent.user_id)),
    Section("notices", (Notice.user_id,), _owned(Notice.user_id)),
    Section("action_plans", (ActionPlan.user_id,), _owned(ActionPlan.user_id)),  # their own words: only they and this export read them
    Section("audit_log", (AuditEntry.user_id, AuditEntry.subject_user_id), _audit_log),
    Section("content_revisions_created", (ContentRevision.created_by_id,), _revisions_created),
    Section("drafts_edited", (DraftFile.updated_by_id,), _drafts_edited),
    Section("media_drafts_edited", (DraftMedia.updated_by_id,), _media_drafts_edited),
    Section("staff_imports", (ImportBatch.created_by_id,), _staff_imports),
    Section("signed_in_sessions", (LoginSession.user_id,), _sessions),
    Section("survey_participation", (SurveyParticipation.user_id,), _survey_participation),
    Section("survey_rounds_created", (SurveyRound.created_by_id,), _survey_rounds_created),
    Section("improvement_plans_written", (ImprovementPlan.created_by_id,), _improvement_plans_written),
    Section("account_links", (), _account_links),  # keyed by email, not by user id
)


def person_export(user_id: int) -> dict[str, Any]:
    """Return everything stored about one person, JSON-ready (the password hash only as `has_password`)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return {"exported_at": _plain(utcnow())} | {section.name: section.read(user) for section in SECTIONS}


# --- anonymise ------------------------------------------------------------------------------


def is_anonymised(user: User) -> bool:
    return user.email.endswith("@" + ANONYMOUS_DOMAIN)


def anonymise(user_id: int, by: User) -> None:
    """Make a person unidentifiable while keeping their department and every learning record.

    Name and email become `anonymous-<id>`; the password, locale, HR scope, roles other than
    trainee, any department HR-contact or head role and the e-mailed links for their address are removed;
    the account is deactivated (as when someone leaves, so they drop out of the active-learner
    counts just as deactivation does). Committed together with an audit entry by `by`.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    if user.id == by.id:
        raise Refused(_l("You cannot anonymise yourself."))
    if user.has_role(Role.ADMIN) and not _other_active_admins(user.id):
        raise Refused(_l("This is the last admin: make someone else an admin first."))
    old_email = user.email
    user.name = f"anonymous-{user.id}"
    user.email = f"anonymous-{user.id}@{ANONYMOUS_DOMAIN}"
    user.password_hash = ""
    user.employee_id = None
    user.active = False
    sessions.end_sessions(user)
    user.locale = None
    user.roles = {Role.TRAINEE}
    user.scope_rows = []
    db.session.execute(update(Department).where(Department.hr_contact_id == user.id).values(hr_contact_id=None))
    db.session.execute(update(Department).where(Department.head_id == user.id).values(head_id=None))
    _scrub_staff_imports(old_email, user)
    db.session.execute(delete(AccountToken).where(AccountToken.email == old_email))
    db.session.execute(delete(Notice).where(Notice.user_id == user.id))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.payload["to"].as_string() == old_email))
    db.session.add(AuditEntry(user_id=by.id, action="anonymise", subject_user_id=user.id, detail={}))
    db.session.commit()


def _other_active_admins(user_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(UserRole)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role == Role.ADMIN.value, User.active.is_(True), User.id != user_id)
    )


def _scrub_staff_imports(old_email: str, user: User) -> None:
    """Replace the person's name and email in stored staff-import rows and their error messages."""
    batches = db.session.scalars(
        select(ImportBatch).where(cast(ImportBatch.rows, String).contains(old_email, autoescape=True))
    )
    for batch in batches:
        rows = batch.rows or {}
        batch.rows = {
            **rows,
            "rows": [
                row | {"email": user.email, "name": user.name, "employee_id": ""} if row.get("email") == old_email else row
                for row in rows.get("rows", [])
            ],
            "errors": [
                error | {"reason": error["reason"].replace(old_email, user.email)} for error in rows.get("errors", [])
            ],
        }
