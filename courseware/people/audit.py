"""The audit log: who exported records or looked at another person's transcript, and with what filter."""
from __future__ import annotations

from typing import Any

from flask_login import current_user

from ..extensions import db
from ..models import AuditEntry


def record(action: str, subject_user_id: int | None = None, detail: dict[str, Any] | None = None, by=None) -> None:
    """Write one audit entry for `by` (default: the current user), committed at once."""
    db.session.add(
        AuditEntry(user_id=(by or current_user).id, action=action, subject_user_id=subject_user_id, detail=detail or {})
    )
    db.session.commit()
