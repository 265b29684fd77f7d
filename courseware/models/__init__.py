"""Typed database models, by area; import them from here."""
from .base import UTCDateTime, utcnow
from .content import ContentRevision, DraftFile, RevisionFile
from .hr import Assignment, AuditEntry, Certificate, ImportBatch, ReminderSent
from .learning import (
    ELEMENT_COLUMNS,
    LearningRecord,
    NumberedTry,
    Progress,
    QuizAnswer,
    QuizAttempt,
    ScenarioRun,
    ScenarioStep,
    Status,
    element_columns,
)
from .people import Department, HRScope, LoginSession, Role, User, UserRole

__all__ = [
    "ELEMENT_COLUMNS",
    "element_columns",
    "Assignment",
    "AuditEntry",
    "Certificate",
    "HRScope",
    "ImportBatch",
    "LoginSession",
    "ReminderSent",
    "ContentRevision",
    "Department",
    "DraftFile",
    "LearningRecord",
    "NumberedTry",
    "Progress",
    "QuizAnswer",
    "QuizAttempt",
    "RevisionFile",
    "Role",
    "ScenarioRun",
    "ScenarioStep",
    "Status",
    "UTCDateTime",
    "User",
    "UserRole",
    "utcnow",
]
