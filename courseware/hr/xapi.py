"""Learner records as xAPI 1.0.3 statements: an export for HR and a read-only statements resource."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from ..access import hr_required
from ..extensions import csrf, db
from ..inputs import EARLIEST, LATEST, in_window, int_arg, integer
from ..models import Department, LearningRecord, Role, User, Verb
from ..people import audit
from ..people.scope import in_departments, visible_department_ids
from ..people.signin import account_key, authenticate, guessing_budget
from ..publishing import live_course

bp = Blueprint("xapi", __name__)

VERSION = "1.0.3"
ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {verb: ADL + verb for verb in Verb}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "module": "http://adlnet.gov/expapi/activities/module",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "question": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "scenario": "http://adlnet.gov/expapi/activities/simulation",
    "interaction": "http://adlnet.gov/expapi/activities/cmi.interaction",
}
EXTENSION = "urn:courseware:extension:"
MAX_LIMIT = 500


def activity_iri(kind: str, object_id: str) -> str:
    """A stable IRI for an activity: it never depends on the host name the platform is served from."""
    return f"urn:courseware:{kind}:{object_id}"


def statement(record: LearningRecord, user: User, course_id: str) -> dict[str, Any]:
    """Build one valid xAPI statement from a learning record."""
    actor: dict[str, Any] = {"objectType": "Agent", "name": user.name, "mbox": f"mailto:{user.email}"}
    data: dict[str, Any] = {
        "id": record.statement_id,
        "version": VERSION,
        "actor": actor,
        "verb": {"id": VERBS[record.verb], "display": {"en-US": record.verb}},
        "object": {
            "objectType": "Activity",
            "id": activity_iri(record.object_kind, record.object_id),
            "definition": {"type": ACTIVITY_TYPES[record.object_kind]},
        },
        "timestamp": record.timestamp.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "context": {
            "contextActivities": {"grouping": [{"objectType": "Activity", "id": activity_iri("course", course_id)}]},
            "extensions": {EXTENSION + "revision": record.revision_id},
        },
    }
    if record.attempt_id:
        data["context"]["registration"] = record.attempt_id
    if record.result:
        data["result"] = _result(record.result)
    return data


def _result(raw: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if "success" in raw:
        result["success"] = bool(raw["success"])
    if "completion" in raw:
        result["completion"] = bool(raw["completion"])
    if "response" in raw:
        response = raw["response"]
        result["response"] = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
    if "score" in raw:
        score = {k: v for k, v in raw["score"].items() if v is not None}
        if "scaled" in score:
            score["scaled"] = max(-1.0, min(1.0, float(score["scaled"])))
        result["score"] = score
    if "extensions" in raw:
        result["extensions"] = {EXTENSION + key: value for key, value in raw["extensions"].items()}
    return result


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        abort(400, description=f"not an ISO 8601 timestamp: {value}")
    if not in_window(parsed.date()):  # nor so far off that converting it to UTC overflows
        abort(400, description=f"timestamp out of range (use {EARLIEST} to {LATEST}): {value}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _agent_email(value: str | None) -> str | None:
    """Accept `agent` as an xAPI Agent object ({"mbox": "mailto:…"}) or a plain email; refuse other JSON."""
    if not value:
        return None
    try:
        agent = json.loads(value)
    except json.JSONDecodeError:
        agent = {"mbox": value}
    mbox = agent.get("mbox") if isinstance(agent, dict) else None
    if not isinstance(mbox, str):
        abort(400, description='agent must be an Agent with an mbox, e.g. {"mbox": "mailto:name@example.com"}')
    return mbox.removeprefix("mailto:").strip().lower() or None


def query(args, department_ids: set[int] | None) -> Select:
    """Select (record, user) pairs matching the xAPI filters: since, until, agent, verb, department."""
    statement_ = select(LearningRecord, User).join(User, User.id == LearningRecord.user_id).order_by(LearningRecord.id)
    statement_ = in_departments(statement_, department_ids)
    if since := _parse_time(args.get("since")):
        statement_ = statement_.where(LearningRecord.timestamp > since)
    if until := _parse_time(args.get("until")):
        statement_ = statement_.where(LearningRecord.timestamp <= until)
    if email := _agent_email(args.get("agent")):
        statement_ = statement_.where(User.email == email)
    if verb := args.get("verb"):
        name = verb.removeprefix(ADL)
        statement_ = statement_.where(LearningRecord.verb == (name if name in VERBS else "-"))
    if department := args.get("department", type=integer):
        home, top = aliased(Department), aliased(Department)
        statement_ = (
            statement_.join(home, home.id == User.department_id)
            .join(top, top.id == department)
            .where(home.lineage.startswith(top.lineage))
        )
    return statement_


def _course_id() -> str:
    live = live_course()
    return live.course.id if live else "course"


def _visible(user=None) -> set[int] | None:
    return visible_department_ids(user=user)


@bp.route("/hr/xapi.json")
@hr_required
def export():
    """Stream matching statements as one JSON array (for loading into an LRS or an archive)."""
    audit.record("export_xapi", detail={k: v for k, v in request.args.items()})
    selected = query(request.args, _visible()).execution_options(yield_per=500)
    course_id = _course_id()

    def body() -> Iterator[str]:
        # Inside the stream (the request's session is gone by then); `with` closes the cursor
        # when the client stops reading.
        with db.session.execute(selected) as rows:
            yield "["
            for index, (record, user) in enumerate(rows):
                yield ("," if index else "") + json.dumps(statement(record, user, course_id), ensure_ascii=False)
            yield "]"

    return Response(
        stream_with_context(body()),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="xapi-statements.json"',
                 "X-Experience-API-Version": VERSION},
    )


def _basic_auth_user() -> User | None:
    credentials = request.authorization
    if credentials is None or credentials.type != "basic" or not credentials.username:
        return None
    return authenticate(credentials.username, credentials.password or "")


def _basic_account_key() -> str:
    credentials = request.authorization
    return account_key(credentials.username or "" if credentials else "")


def _refused(response) -> bool:
    return response.status_code == 401


@bp.route("/xapi/statements")
@csrf.exempt
@guessing_budget(_refused, _basic_account_key)
def statements():
    """Read-only xAPI statements resource: since, until, agent, verb, limit, and a `more` link.

    Authenticated by an HR or admin session, or by HTTP Basic with their credentials (LRS clients).
    """
    user = current_user if current_user.is_authenticated else _basic_auth_user()
    if user is None:
        return Response(status=401, headers={"WWW-Authenticate": 'Basic realm="xAPI"'})
    if not user.has_role(Role.HR, Role.ADMIN):
        abort(403)
    audit.record("read_xapi", detail=dict(request.args.items()), by=user)
    limit = min(int_arg("limit", 100, lo=1), MAX_LIMIT)
    after = int_arg("cursor", 0)
    statement_ = query(request.args, _visible(user)).where(LearningRecord.id > after).limit(limit + 1)
    rows = db.session.execute(statement_).all()
    course_id = _course_id()
    more = ""
    if len(rows) > limit:
        rows = rows[:limit]
        args = {k: v for k, v in request.args.items() if k != "cursor"} | {"cursor": rows[-1][0].id}
        more = url_for(".statements") + "?" + urlencode(args)
    response = jsonify(statements=[statement(record, user, course_id) for record, user in rows], more=more)
    response.headers["X-Experience-API-Version"] = VERSION
    return response
