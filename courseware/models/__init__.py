"""Typed database models, by area; import them from here."""
from .base import UTCDateTime, utcnow
from .content import ContentRevision, RevisionFile
from .hr import Assignment, AuditEntry, Certificate, ImportBatch
from .learning import (
    LearningRecord,
    NumberedTry,
    Progress,
    QuizAnswer,
    QuizAttempt,
    ScenarioRun,
    ScenarioStep,
    Status,
)
from .people import Department, HRScope, Role, User, UserRole

__all__ = [
    "Assignment",
    "AuditEntry",
    "Certificate",
    "HRScope",
    "ImportBatch",
    "ContentRevision",
    "Department",
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
