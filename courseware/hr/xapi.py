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
from ..statements import VERSION, expand, iso, place_of_answered, starts, statement
from .xapi_query import Filters, Wanted, boolean, check_parameters, check_version, cursor, query, statement_uuid

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
    selected, wanted = query(request.args, filters)
    selected = selected.execution_options(yield_per=500)

    def body() -> Iterator[str]:
        # Inside the stream (the request's session is gone by then); `with` closes the cursor
        # when the client stops reading.
        with db.session.execute(selected) as rows:
            yield "["
            first = True
            for chunk in rows.partitions():
                entries = [(entry, person) for entry, person, _position in expand(chunk) if wanted(entry)]
                began = starts(entry for entry, _person in entries)
                for entry, person in entries:
                    data = statement(entry, person, filters.course_id, filters.home_page, began.get(entry.attempt_id))
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
        found = _one(statement_uuid(request.args["statementId"], "statementId"), filters)
        if found is None:
            abort(404, description="no such statement")
        began = starts([found[0]]).get(found[0].attempt_id)
        return jsonify(shape(statement(*found, filters.course_id, filters.home_page, began))), consistent
    limit = int_arg("limit", 100, lo=0) or MAX_LIMIT
    limit = min(limit, MAX_LIMIT)
    ascending = boolean(request.args, "ascending")
    selected, wanted = query(request.args, filters)
    entries = _page(selected, wanted, ascending, cursor(request.args.get("cursor")), limit)
    more = ""
    if len(entries) > limit:
        entries = entries[:limit]
        last, _person, position = entries[-1]
        args = {k: v for k, v in request.args.items() if k != "cursor"} | {"cursor": f"{last.id}.{position}"}
        more = url_for(".statements") + "?" + urlencode(args)
    began = starts(entry for entry, _person, _position in entries)
    data = [shape(statement(entry, person, filters.course_id, filters.home_page, began.get(entry.attempt_id)))
            for entry, person, _position in entries]
    return jsonify(statements=data, more=more), consistent


def _one(statement_id: str, filters: Filters):
    """The statement of that id and its person, if the reader may see it: a record's, or an answered
    statement its quiz result stands for."""
    people = in_departments(select(LearningRecord, User).join(User, User.id == LearningRecord.user_id), filters.department_ids)
    found = db.session.execute(people.where(LearningRecord.statement_id == statement_id)).first()
    if found is not None or (place := place_of_answered(statement_id)) is None:
        return found
    records = db.session.execute(people.where(LearningRecord.id == place[0])).all()
    return next(((entry, person) for entry, person, _position in expand(records) if entry.statement_id == statement_id), None)


def _page(selected, wanted: Wanted, ascending: bool, after: tuple[int, int | None] | None, limit: int) -> list:
    """Up to `limit` + 1 matching statements past the cursor `after`, each with its person and position.

    A record may stand for several statements (or, filtered, none), so records are read in batches
    until there are enough; the cursor names a statement by its record and position."""
    order = LearningRecord.id if ascending else LearningRecord.id.desc()
    selected = selected.order_by(None).order_by(order)
    if after is not None:
        selected = selected.where(LearningRecord.id >= after[0] if ascending else LearningRecord.id <= after[0])
    found: list = []
    while len(found) <= limit:
        rows = db.session.execute(selected.limit(limit + 1)).all()
        entries = sorted(expand(rows), key=lambda e: (e[0].id, e[2]), reverse=not ascending)
        found += [e for e in entries if wanted(e[0]) and _past(e, after, ascending)]
        if len(rows) <= limit:
            break
        last = rows[-1][0].id
        selected = selected.where(LearningRecord.id > last if ascending else LearningRecord.id < last)
    return found


def _past(entry: tuple, after: tuple[int, int | None] | None, ascending: bool) -> bool:
    """Whether the statement comes after the cursor in the order of reading."""
    if after is None:
        return True
    record_id, position = entry[0].id, entry[2]
    if record_id != after[0]:
        return True  # the query read only records past the cursor's, or the cursor's own
    return after[1] is not None and (position > after[1] if ascending else position < after[1])
