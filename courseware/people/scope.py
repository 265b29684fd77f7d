"""What part of the organisation an HR user may see and change."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import Select

from ..models import Role, User
from .departments import DepartmentNode, tree, with_descendants


def visible_department_ids(nodes: list[DepartmentNode] | None = None, user=None) -> set[int] | None:
    """Return the departments `user` (default: the current user) may see, or None for all of them."""
    user = user or current_user
    if user.has_role(Role.ADMIN) or not user.scope_department_ids:
        return None
    return with_descendants(user.scope_department_ids, nodes)


def allowed_paths() -> set[str] | None:
    """Department paths the current HR user may import staff into (None: anywhere)."""
    nodes = tree()
    visible = visible_department_ids(nodes)
    if visible is None:
        return None
    return {node.path for node in nodes if node.id in current_user.scope_department_ids}


def in_departments(statement: Select, department_ids: set[int] | None) -> Select:
    """Limit a query over User to people in `department_ids` (None: everyone)."""
    if department_ids is None:
        return statement
    return statement.where(User.department_id.in_(department_ids or {-1}))
