"""Typed database models, by area; import them from here."""
from .base import UTCDateTime, upsert, utcnow
from .content import ContentRevision, DraftFile, DraftMedia, MediaBlob, RevisionFile, RevisionMedia
from .hr import Assignment, AuditEntry, Certificate, DueDateExtension, ImportBatch, Notice, ReminderSent
from .learning import (
    ELEMENT_COLUMNS,
    LearningRecord,
    LessonTime,
    NumberedTry,
    Progress,
    QuizAnswer,
    QuizAttempt,
    ScenarioRun,
    ScenarioStep,
    Status,
    Verb,
    element_columns,
)
from .outbox import OutboxMessage
from .people import UNUSABLE_PASSWORD, AccountToken, Department, HRScope, LoginSession, Role, User, UserRole

__all__ = [
    "AccountToken",
    "ELEMENT_COLUMNS",
    "element_columns",
    "Assignment",
    "AuditEntry",
    "Certificate",
    "HRScope",
    "ImportBatch",
    "LoginSession",
    "MediaBlob",
    "ReminderSent",
    "ContentRevision",
    "Department",
    "DraftFile",
    "DraftMedia",
    "DueDateExtension",
    "LearningRecord",
    "LessonTime",
    "NumberedTry",
    "OutboxMessage",
    "Progress",
    "QuizAnswer",
    "QuizAttempt",
    "RevisionFile",
    "RevisionMedia",
    "Role",
    "ScenarioRun",
    "ScenarioStep",
    "Status",
    "UTCDateTime",
    "User",
    "UserRole",
    "utcnow",
]
