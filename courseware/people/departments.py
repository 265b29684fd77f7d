"""The department tree: paths like 销售部 › 华东区, sub-department lookups, creating by path."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Department

PATH_SEPARATORS = re.compile(r"\s*(?:/|›|>|\\)\s*")


@dataclass(frozen=True)
class DepartmentNode:
    id: int
    name: str
    path: str
    depth: int
    parent_id: int | None


def split_path(path: str) -> list[str]:
    """Split '销售部 / 华东区' (or with › or >) into its names; empty parts are dropped."""
    return [part for part in PATH_SEPARATORS.split(path.strip()) if part]


def tree() -> list[DepartmentNode]:
    """Every department in tree order, each with its full path and depth (one query)."""
    rows = db.session.execute(select(Department.id, Department.name, Department.parent_id)).all()
    children: dict[int | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    nodes: list[DepartmentNode] = []

    def walk(parent_id: int | None, prefix: str, depth: int) -> None:
        for row in sorted(children.get(parent_id, []), key=lambda r: r.name):
            path = f"{prefix} › {row.name}" if prefix else row.name
            nodes.append(DepartmentNode(row.id, row.name, path, depth, row.parent_id))
            walk(row.id, path, depth + 1)

    walk(None, "", 0)
    return nodes


def with_descendants(department_ids: set[int] | list[int], nodes: list[DepartmentNode] | None = None) -> set[int]:
    """Return the given departments and every department below them."""
    nodes = nodes if nodes is not None else tree()
    found = set(department_ids)
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if node.parent_id in found and node.id not in found:
                found.add(node.id)
                changed = True
    return found


def find_child(name: str, parent: Department | None) -> Department | None:
    """Return the department called `name` directly under `parent` (None: at the top level)."""
    return db.session.scalar(
        select(Department).where(
            Department.name == name,
            Department.parent_id.is_(None) if parent is None else Department.parent_id == parent.id,
        )
    )


def add_child(name: str, parent: Department | None) -> Department:
    """Add a department under `parent` (flushed, not committed)."""
    department = Department(name=name, parent=parent)
    db.session.add(department)
    db.session.flush()
    department.set_lineage()
    return department


def find_or_create(path: str, cache: dict[tuple[int | None, str], Department] | None = None) -> Department:
    """Return the department at `path`, creating any missing level (flushed, not committed)."""
    cache = cache if cache is not None else {}
    parent: Department | None = None
    for name in split_path(path):
        key = (parent.id if parent else None, name)
        department = cache.get(key)
        department = department or find_child(name, parent) or add_child(name, parent)
        cache[key] = department
        parent = department
    if parent is None:
        raise ValueError("empty department path")
    return parent
