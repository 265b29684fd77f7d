"""Who the company vouches for, and which of our people that is: shared by its OpenID Connect
provider (`oidc.py`) and its LDAP or Active Directory (`directory.py`).

A person is matched by employee ID, else by an email the company vouches for; optionally someone
nobody imported becomes a trainee in the department the company names. The company's groups map
to trainer and HR, never to admin. Sign-ins and role changes are audited.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import UNUSABLE_PASSWORD, Role, User
from . import audit
from .departments import find_or_create, split_path

MAPPABLE = (Role.TRAINER, Role.HR)  # what a group may grant; admin is given by an admin only

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompanyIdentity:
    """What the provider or directory says about the person signing in."""

    via: str  # "oidc" or "ldap"
    subject: str  # the provider's `sub`, the directory's DN
    employee_id: str = ""
    email: str = ""
    email_vouched: bool = False  # the company says the address is theirs
    name: str = ""
    department: str = ""  # a path such as 销售部/华东区
    groups: tuple[str, ...] | None = None  # None: the company did not say


@dataclass(frozen=True)
class Policy:
    """How far we trust what the company says (from the sign-in method's settings)."""

    create_users: bool
    group_roles: dict[str, Role]


class SignInRefused(Exception):
    """The company vouched for someone we will not sign in; `message` says why, `code` is 400 or 403."""

    def __init__(self, message: str, code: int = 403):
        super().__init__(str(message))
        self.message = message
        self.code = code


def group_roles(spec: str, setting: str) -> dict[str, Role]:
    """Parse 'trainers=trainer,hr-team=hr' into {group: role}; admin and unknown roles are left out."""
    mapping: dict[str, Role] = {}
    for pair in spec.split(","):
        group, _, role = (part.strip() for part in pair.partition("="))
        if not group or not role:
            continue
        if role.lower() not in {r.value for r in MAPPABLE}:
            log.warning("%s: ignoring %s=%s (only trainer and hr may be mapped)", setting, group, role)
            continue
        mapping[group] = Role(role.lower())
    return mapping


def find_person(identity: CompanyIdentity) -> User | None:
    """The imported person the company names: by employee ID, else by an email it vouches for."""
    employee_id = User.normalise_employee_id(identity.employee_id)
    if employee_id:
        user = db.session.scalar(db.select(User).where(User.employee_id == employee_id))
        if user is not None:
            return user
    if identity.email and identity.email_vouched:
        return User.by_email(identity.email)
    return None


def create_person(identity: CompanyIdentity) -> User:
    """Add a trainee in the department the company names (flushed, not committed)."""
    if not split_path(identity.department):
        raise SignInRefused(_l("Your company account does not say which department you belong to, so no account can be made for you. Ask HR to add you."))
    email = User.normalise_email(identity.email)
    if not email:
        raise SignInRefused(_l("Your company account has no email address, so no account can be made for you. Ask HR to add you."))
    if User.by_email(email) is not None:
        raise SignInRefused(_l("An account with your email address already exists, but your company account has not confirmed that the address is yours. Ask HR to add your employee ID to it."))
    user = User(
        email=email,
        name=identity.name.strip() or email.partition("@")[0],
        password_hash=UNUSABLE_PASSWORD,
        department=find_or_create(identity.department),
        employee_id=User.normalise_employee_id(identity.employee_id) or None,
    )
    user.roles = {Role.TRAINEE}
    db.session.add(user)
    db.session.flush()
    return user


def mapped_roles(user: User, groups: tuple[str, ...] | None, mapping: dict[str, Role]) -> set[Role] | None:
    """The roles the company's groups give `user` (trainer, HR; others kept); None: leave them as they are."""
    if not mapping or groups is None:  # no mapping, or a company that does not say
        return None
    granted = {mapping[group] for group in groups if group in mapping}
    return (user.roles - set(MAPPABLE)) | granted or {Role.TRAINEE}


def sign_in_person(identity: CompanyIdentity, policy: Policy) -> User:
    """Find (or, if allowed, create) the person the company vouches for, set their mapped roles, audit it."""
    user = find_person(identity)
    created = user is None
    if created:
        if not policy.create_users:
            raise SignInRefused(_l("There is no account for you here yet. Ask HR to add you, with your employee ID."))
        try:
            user = create_person(identity)
        except (IntegrityError, SignInRefused):
            # The same person's first sign-in, in another tab or worker, may have made them meanwhile.
            db.session.rollback()  # nothing else is written before a sign-in
            user, created = find_person(identity), False
            if user is None:
                raise
    if not user.active:
        raise SignInRefused(_l("Your account has been deactivated. Ask HR if you think this is a mistake."))
    roles = mapped_roles(user, identity.groups, policy.group_roles)
    if roles is not None and roles != user.roles:
        before = sorted(role.value for role in user.roles)
        user.roles = roles
        db.session.flush()
        audit.record("sso_roles", user.id, {"via": identity.via, "before": before, "after": sorted(role.value for role in roles)}, by=user)
    audit.record("sso_sign_in", user.id, {"via": identity.via, "sub": identity.subject, "created": created}, by=user)
    return user
