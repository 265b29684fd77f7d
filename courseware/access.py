"""Who may do what: one decorator checks a view's roles."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user, login_required

from .models import Role


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


trainee_required = roles_required(Role.TRAINEE)
trainer_required = roles_required(Role.TRAINER)
hr_required = roles_required(Role.HR)
admin_required = roles_required(Role.ADMIN)
