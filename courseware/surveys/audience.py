"""Who may see which survey results: HR within its departments, and each department's head for the
department they head (and those below it)."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Department, Role, User
from ..people.departments import with_descendants
from ..people.scope import visible_department_ids


def headed_department_ids(user: User) -> set[int]:
    """The departments `user` heads, with the ones below them."""
    headed = set(db.session.scalars(select(Department.id).where(Department.head_id == user.id)))
    return with_descendants(headed) if headed else set()


def result_department_ids(user: User) -> set[int] | None:
    """Departments whose results `user` may see as the rated (supplier) side: None for all, maybe empty."""
    if user.has_role(Role.HR) or user.has_role(Role.ADMIN):
        visible = visible_department_ids(user=user)
        return None if visible is None else visible | headed_department_ids(user)
    return headed_department_ids(user)


def may_see_results(user: User, department_id: int) -> bool:
    allowed = result_department_ids(user)
    return allowed is None or department_id in allowed
