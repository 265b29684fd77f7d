"""People: departments, users and their roles."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow


class Role(enum.StrEnum):
    TRAINEE = "trainee"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"

class Department(db.Model):
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    lineage: Mapped[str] = mapped_column(String(255), default="", index=True)
    hr_contact_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True))
    head_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True))  # sees its survey results, answers with plans
    robot_kind: Mapped[str | None] = mapped_column(String(16))  # the group robot: wecom, dingtalk or feishu
    robot_url: Mapped[str | None] = mapped_column(String(500))
    robot_secret: Mapped[str | None] = mapped_column(String(200))  # DingTalk's and Feishu's signing secret

    parent: Mapped[Department | None] = relationship(remote_side="Department.id")
    hr_contact: Mapped[User | None] = relationship(foreign_keys=[hr_contact_id])
    head: Mapped[User | None] = relationship(foreign_keys=[head_id])

    def set_lineage(self) -> None:
        """Record the ids from the top down to this department ('/1/5/'), for subtree queries in SQL."""
        self.lineage = f"{self.parent.lineage if self.parent else '/'}{self.id}/"


UNUSABLE_PASSWORD = "!"  # no password yet (imported, or signed in through the company): set by an e-mailed link


class User(UserMixin, db.Model):
    __table_args__ = (Index("ix_user_department_name", "department_id", "name", "id"),)  # HR's learner list, page by page

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    employee_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # 工号, from the staff import
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship(lazy="joined", foreign_keys=[department_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    scope_rows: Mapped[list[HRScope]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def scope_department_ids(self) -> set[int]:
        """Departments an HR user is limited to (with their sub-departments); empty means all."""
        return {row.department_id for row in self.scope_rows}

    login_token = None  # the token of the session this user was loaded from (sessions.py); not a column

    def get_id(self) -> str | None:
        """Flask-Login keeps this in the session and remember cookies: the login's token, never the user id."""
        return self.login_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def roles(self) -> set[Role]:
        return {Role(row.role) for row in self.role_rows}

    @roles.setter
    def roles(self, roles: set[Role] | list[Role]) -> None:
        wanted = {Role(role) for role in roles}
        self.role_rows = [row for row in self.role_rows if row.role in wanted]
        present = {row.role for row in self.role_rows}
        self.role_rows.extend(UserRole(role=role.value) for role in wanted - present)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    @property
    def has_password(self) -> bool:
        return "$" in self.password_hash

    def check_password(self, password: str) -> bool:
        """Check a password; people imported without one cannot log in until it is set."""
        return self.has_password and check_password_hash(self.password_hash, password)

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(select(cls).where(cls.email == cls.normalise_email(email)))

    @staticmethod
    def normalise_employee_id(employee_id: str) -> str:
        return employee_id.strip().upper()

    @classmethod
    def by_login(cls, login: str) -> User | None:
        """The person an email or an employee ID names (what people type to log in)."""
        if "@" in login:
            return cls.by_email(login)
        employee_id = cls.normalise_employee_id(login)
        return db.session.scalar(select(cls).where(cls.employee_id == employee_id)) if employee_id else None

class UserRole(db.Model):
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class HRScope(db.Model):
    """Limits an HR user to some departments and everything below them."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), primary_key=True
    )


class LoginSession(db.Model):
    """One signed-in browser. Its cookie holds a random token; only the token's hash is stored,
    and deleting the row ends that session wherever the cookie was copied."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountToken(db.Model):
    """A single-use link sent by e-mail: confirming a sign-up, accepting an invitation, resetting a password.

    Only the token's hash is stored; the link holds the token itself.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    payload: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
