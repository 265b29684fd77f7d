"""The xAPI 1.0.3 statement resource's query parameters: checked, then turned into a Select."""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from flask import abort
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..inputs import EARLIEST, LATEST, MAX_ID, in_window, integer
from ..models import Department, LearningRecord, User, Verb
from ..people.scope import in_departments
from ..statements import ADL, IRI_PREFIX, VERBS, Entry

# The spec's parameters, then ours: `cursor` (the `more` link's place) and `department` (HR's tree).
PARAMETERS = frozenset({
    "statementId", "voidedStatementId", "agent", "verb", "activity", "registration", "related_activities",
    "related_agents", "since", "until", "limit", "format", "attachments", "ascending", "cursor", "department",
})
WITH_ONE_STATEMENT = frozenset({"statementId", "voidedStatementId", "attachments", "format"})
FORMATS = ("exact", "ids", "canonical")
# A parent activity kind and the kind of the records inside it, whose object ids are "<parent>/<child>".
CHILDREN = {"quiz": "question", "scenario": "interaction"}
SUPPORTED_VERSION = re.compile(r"1\.0(\.\d+)?")


def check_version(header: str | None, required: bool) -> None:
    """Refuse (400) a request that names an xAPI version other than 1.0.x, or none when one is required."""
    if header is None and not required:
        return
    if header is None or not SUPPORTED_VERSION.fullmatch(header.strip()):
        abort(400, description=f"X-Experience-API-Version must be 1.0.x (this LRS speaks 1.0.3), got {header!r}")


def check_parameters(args) -> None:
    """Refuse unknown parameters, and statementId or voidedStatementId combined with filters."""
    if unknown := sorted(set(args) - PARAMETERS):
        abort(400, description=f"unknown parameter: {', '.join(unknown)}")
    if ("statementId" in args or "voidedStatementId" in args) and set(args) - WITH_ONE_STATEMENT:
        extra = ", ".join(sorted(set(args) - WITH_ONE_STATEMENT))
        abort(400, description=f"statementId and voidedStatementId take no other parameters but format and attachments: {extra}")
    if "statementId" in args and "voidedStatementId" in args:
        abort(400, description="give statementId or voidedStatementId, not both")
    for name in ("related_activities", "related_agents", "ascending", "attachments"):
        boolean(args, name)
    if args.get("format", "exact") not in FORMATS:
        abort(400, description=f"format must be one of {', '.join(FORMATS)}")


def boolean(args, name: str) -> bool:
    """A boolean parameter: true or false (any case, as some clients send Python's True)."""
    value = args.get(name, "false").lower()
    if value not in ("true", "false"):
        abort(400, description=f"{name} must be true or false")
    return value == "true"


def statement_uuid(value: str, name: str) -> str:
    """`value` as a canonical UUID, or 400."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        abort(400, description=f"{name} must be a UUID")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        abort(400, description=f"not an ISO 8601 timestamp: {value}")
    if not in_window(parsed.date()):  # nor so far off that converting it to UTC overflows
        abort(400, description=f"timestamp out of range (use {EARLIEST} to {LATEST}): {value}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


AGENT_HELP = ('agent must be an Agent with an mbox, an mbox_sha1sum or an account, e.g. '
              '{"mbox": "mailto:name@example.com"}')


def agent_condition(value: str | None, home_page: str, department_ids: set[int] | None):
    """The `agent` filter as a condition on User, or None without one.

    An Agent is matched by its mbox (a plain email also works), its mbox_sha1sum, or an account
    whose homePage is this site (PUBLIC_URL) and whose name is the person's employee number (工号).
    """
    if not value:
        return None
    try:
        agent = json.loads(value)
    except json.JSONDecodeError:
        agent = {"mbox": value}
    if not isinstance(agent, dict):
        abort(400, description=AGENT_HELP)
    if isinstance(agent.get("mbox"), str):
        return User.email == agent["mbox"].removeprefix("mailto:").strip().lower()
    if isinstance(agent.get("mbox_sha1sum"), str):
        wanted = agent["mbox_sha1sum"].strip().lower()
        # SQLite has no SHA-1: hash the (few thousand) addresses HR may see instead.
        emails = db.session.scalars(in_departments(select(User.email), department_ids))
        matches = [e for e in emails if hashlib.sha1(f"mailto:{e}".encode()).hexdigest() == wanted]
        return User.email.in_(matches) if matches else false()
    account = agent.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str) and isinstance(account.get("homePage"), str):
        if account["homePage"].rstrip("/") != home_page.rstrip("/"):
            return false()
        return User.employee_id == account["name"]
    abort(400, description=AGENT_HELP)


# The records that may stand for answered statements (`statements.expand`): a quiz attempt's result.
_RESULTS = (LearningRecord.object_kind == "quiz") & LearningRecord.verb.in_([Verb.PASSED, Verb.FAILED])


def activity_condition(iri: str, related: bool, course_id: str):
    """The `activity` filter: the statement's object, or with `related` also its parent and course.

    A question's statements may be stored or stand in its quiz's results, so those match too; `Wanted`
    then keeps, of what they stand for, the statements asked for."""
    kind, object_id = _activity(iri)
    condition = (LearningRecord.object_kind == kind) & (LearningRecord.object_id == object_id)
    if kind == "question":
        condition = condition | _RESULTS & (LearningRecord.object_id == object_id.partition("/")[0])
    if not related:
        return condition
    if kind == "course" and object_id == course_id:
        return None  # every statement is grouped under the course
    if kind in CHILDREN:
        child = (LearningRecord.object_kind == CHILDREN[kind]) & LearningRecord.object_id.startswith(
            object_id + "/", autoescape=True)
        return or_(condition, child)
    return condition


def _activity(iri: str) -> tuple[str, str]:
    kind, _, object_id = iri.removeprefix(IRI_PREFIX).partition(":") if iri.startswith(IRI_PREFIX) else ("", "", "")
    return kind, object_id


@dataclass(frozen=True)
class Wanted:
    """The `verb` and `activity` filters on one statement: the query selects the records that may hold
    matching statements, and this keeps, of the statements a record stands for, those that match."""

    verb: str | None = None
    activity: tuple[str, str] | None = None
    related: bool = False
    course_id: str = ""

    def __call__(self, entry: Entry) -> bool:
        if self.verb is not None and entry.verb != self.verb:
            return False
        if self.activity is None:
            return True
        kind, object_id = self.activity
        if (entry.object_kind, entry.object_id) == (kind, object_id):
            return True
        if not self.related:
            return False
        parent_of_it = kind in CHILDREN and entry.object_kind == CHILDREN[kind] and entry.object_id.startswith(object_id + "/")
        return parent_of_it or (kind, object_id) == ("course", self.course_id)


def cursor(value: str | None) -> tuple[int, int | None] | None:
    """The `more` link's place: a record id, and the statement's position among those it stands for
    (none: past all of them). Anything else is no place: the first page."""
    record, _, position = (value or "").partition(".")
    record_id, place = integer(record), integer(position) if position else None
    if record_id is None or not 0 <= record_id <= MAX_ID or (position and (place is None or place < 0)):
        return None
    return record_id, place


@dataclass(frozen=True)
class Filters:
    department_ids: set[int] | None
    home_page: str
    course_id: str


def query(args, filters: Filters) -> tuple[Select, Wanted]:
    """Select (record, user) pairs that may hold statements matching the xAPI filters, oldest first (the view
    may reverse it), and what keeps those statements of them that do."""
    statement_ = select(LearningRecord, User).join(User, User.id == LearningRecord.user_id).order_by(LearningRecord.id)
    statement_ = in_departments(statement_, filters.department_ids)
    if since := parse_time(args.get("since")):
        statement_ = statement_.where(LearningRecord.timestamp > since)
    if until := parse_time(args.get("until")):
        statement_ = statement_.where(LearningRecord.timestamp <= until)
    agent = agent_condition(args.get("agent"), filters.home_page, filters.department_ids)
    if agent is not None:
        statement_ = statement_.where(agent)
    wanted = Wanted(course_id=filters.course_id)
    if verb := args.get("verb"):
        name = verb.removeprefix(ADL)
        name = name if name in VERBS else "-"
        wanted = replace(wanted, verb=name)
        condition = LearningRecord.verb == name
        statement_ = statement_.where(condition | _RESULTS if name == Verb.ANSWERED else condition)
    if iri := args.get("activity"):
        related = boolean(args, "related_activities")
        wanted = replace(wanted, activity=_activity(iri), related=related)
        activity = activity_condition(iri, related, filters.course_id)
        if activity is not None:
            statement_ = statement_.where(activity)
    if registration := args.get("registration"):
        statement_ = statement_.where(LearningRecord.attempt_id == statement_uuid(registration, "registration"))
    if department := args.get("department", type=integer):
        home, top = aliased(Department), aliased(Department)
        statement_ = (
            statement_.join(home, home.id == User.department_id)
            .join(top, top.id == department)
            .where(home.lineage.startswith(top.lineage))
        )
    return statement_, wanted
