"""Learner records as xAPI 1.0.3 statements: an export for HR and a read-only statements resource."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from ..extensions import csrf, db, login_manager
from ..inputs import int_arg
from ..models import LearningRecord, Role, User
from ..people import audit
from ..people.scope import in_departments, visible_department_ids
from ..people.signin import account_key, authenticate, guessing_budget
from ..publishing import live_course
from ..statements import VERSION, iso, starts, statement
from .xapi_query import Filters, boolean, check_parameters, check_version, query, statement_uuid

bp = Blueprint("xapi", __name__)

MAX_LIMIT = 500
# A record is stamped just before its transaction commits; a write still waiting on a lock (SQLite's
# busy timeout is 10 s) may yet appear with an earlier time, so results are complete up to now − 10 s.
SETTLING = timedelta(seconds=10)
ERROR_CODES = (400, 401, 403, 404, 405, 413, 429, 500)


def ids_only(data: dict[str, Any]) -> dict[str, Any]:
    """The `ids` format: agents by their identifier only, activities and verbs by id only."""
    data = dict(data)
    data["actor"] = {"objectType": "Agent", "mbox": data["actor"]["mbox"]}
    data["verb"] = {"id": data["verb"]["id"]}
    data["object"] = {"objectType": "Activity", "id": data["object"]["id"]}
    data["authority"] = {k: v for k, v in data["authority"].items() if k != "name"}
    return data


def _course_id() -> str:
    live = live_course()
    return live.course.id if live else "course"


def _filters(user) -> Filters:
    return Filters(visible_department_ids(user=user), current_app.config["PUBLIC_URL"], _course_id())


# Every answer of the xAPI carries its version and, when it is an error, a JSON body saying why.
@bp.after_request
def _version_header(response: Response) -> Response:
    response.headers["X-Experience-API-Version"] = VERSION
    return response


def _json_error(error: HTTPException):
    response = jsonify(error=error.code, message=error.description)
    response.status_code = error.code or 500
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="xAPI"'
    return response


for _code in ERROR_CODES:
    bp.register_error_handler(_code, _json_error)


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


def hr_by_session_or_basic(view):
    """Let in HR and admins by their session or by HTTP Basic with their credentials (LRS clients).

    Without any credentials a browser is sent to log in; wrong Basic credentials get 401.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user if current_user.is_authenticated else _basic_auth_user()
        if user is None:
            if request.authorization is None and request.endpoint == "xapi.export":
                return login_manager.unauthorized()
            abort(401, description="log in with HTTP Basic as an HR user")
        if not user.has_role(Role.HR, Role.ADMIN):
            abort(403, description="only HR and admins read statements")
        return view(user, *args, **kwargs)

    return guessing_budget(_refused, _basic_account_key)(wrapped)


@bp.route("/hr/xapi.json")
@csrf.exempt
@hr_by_session_or_basic
def export(user):
    """Stream matching statements as one JSON array (for loading into an LRS or an archive)."""
    audit.record("export_xapi", detail={k: v for k, v in request.args.items()}, by=user)
    filters = _filters(user)
    selected = query(request.args, filters).execution_options(yield_per=500)

    def body() -> Iterator[str]:
        # Inside the stream (the request's session is gone by then); `with` closes the cursor
        # when the client stops reading.
        with db.session.execute(selected) as rows:
            yield "["
            first = True
            for chunk in rows.partitions():
                began = starts([record for record, _person in chunk])
                for record, person in chunk:
                    data = statement(record, person, filters.course_id, filters.home_page, began.get(record.attempt_id))
                    yield ("" if first else ",") + json.dumps(data, ensure_ascii=False)
                    first = False
            yield "]"

    return Response(
        stream_with_context(body()),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="xapi-statements.json"'},
    )


@bp.route("/xapi/about")
def about():
    """The xAPI About resource: the versions this LRS speaks (public, as the spec asks)."""
    return jsonify(version=[VERSION], extensions={})


@bp.route("/xapi/statements")
@csrf.exempt
@hr_by_session_or_basic
def statements(user):
    """Read-only xAPI statements resource: one statement by id, or a page of them with a `more` link."""
    check_version(request.headers.get("X-Experience-API-Version"), current_app.config.get("XAPI_REQUIRE_VERSION", True))
    check_parameters(request.args)
    audit.record("read_xapi", detail=dict(request.args.items()), by=user)
    filters = _filters(user)
    shape = ids_only if request.args.get("format") == "ids" else (lambda data: data)
    consistent = {"X-Experience-API-Consistent-Through": iso(datetime.now(timezone.utc) - SETTLING)}
    if "voidedStatementId" in request.args:
        statement_uuid(request.args["voidedStatementId"], "voidedStatementId")
        abort(404, description="no statement is ever voided here")
    if "statementId" in request.args:
        wanted = statement_uuid(request.args["statementId"], "statementId")
        found = db.session.execute(in_departments(
            select(LearningRecord, User).join(User, User.id == LearningRecord.user_id)
            .where(LearningRecord.statement_id == wanted), filters.department_ids)).first()
        if found is None:
            abort(404, description="no such statement")
        began = starts([found[0]]).get(found[0].attempt_id)
        return jsonify(shape(statement(*found, filters.course_id, filters.home_page, began))), consistent
    limit = int_arg("limit", 100, lo=0) or MAX_LIMIT
    limit = min(limit, MAX_LIMIT)
    ascending = boolean(request.args, "ascending")
    selected = query(request.args, filters)
    if not ascending:
        selected = selected.order_by(None).order_by(LearningRecord.id.desc())
    if after := int_arg("cursor", 0):
        selected = selected.where(LearningRecord.id > after if ascending else LearningRecord.id < after)
    rows = db.session.execute(selected.limit(limit + 1)).all()
    more = ""
    if len(rows) > limit:
        rows = rows[:limit]
        args = {k: v for k, v in request.args.items() if k != "cursor"} | {"cursor": rows[-1][0].id}
        more = url_for(".statements") + "?" + urlencode(args)
    began = starts([record for record, _person in rows])
    data = [shape(statement(record, person, filters.course_id, filters.home_page, began.get(record.attempt_id)))
            for record, person in rows]
    return jsonify(statements=data, more=more), consistent
