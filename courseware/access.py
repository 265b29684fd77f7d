"""Who may do what: one decorator checks a view's roles."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort
from flask_login import current_user, login_required

from .extensions import db
from .models import Role
from .publishing import LiveCourse, course_at, live_course


def roles_required(*roles: Role) -> Callable:
    """Let a view through only for logged-in users holding one of `roles` (admins always)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles, Role.ADMIN):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


hr_required = roles_required(Role.HR)
admin_required = roles_required(Role.ADMIN)


def live_activity_or_404(kind: str, activity_id: str) -> tuple[LiveCourse, Any]:
    """Return the live course and its quiz or scenario `activity_id` (`kind` is 'quiz' or 'scenario')."""
    live = live_course()
    activity = getattr(live.course, kind)(activity_id) if live else None
    if activity is None:
        abort(404)
    return live, activity


def own_try_or_404(model: type, row_id: str, kind: str, activity_id: str) -> tuple[Any, Any]:
    """Return the learner's own attempt or run and its quiz or scenario as it was when it began.

    Anyone else's attempt is simply not found.
    """
    row = db.session.get(model, row_id)
    if row is None or row.user_id != current_user.id or getattr(row, f"{kind}_id") != activity_id:
        abort(404)
    activity = getattr(course_at(row.revision_id), kind)(activity_id)
    if activity is None:
        abort(404)
    return row, activity
