"""Who may do what: the access table for every route, and the decorator that checks a view's roles.

`ROUTES` states, per endpoint, who may use it. Views enforce it with `login_required` and
`roles_required`; HR scope and "own records only" are enforced where the records are read. The
table is the contract: a test tries every route as every role against it, the app refuses any
endpoint missing from it, and docs/security.md shows it.
"""
from __future__ import annotations

import enum
from functools import wraps
from typing import Any, Callable

from flask import abort, current_app, request
from flask_login import current_user, login_required
from sqlalchemy import bindparam, inspect, select

from .extensions import db
from .models import Role, as_loaded
from .publishing import LiveCourse, course_at, live_course


class Access(enum.Enum):
    """Who may use a route. The cells are what each kind of visitor gets, for the table in the docs."""

    PUBLIC = ("yes", "yes", "yes", "yes", "yes")
    SIGNED_IN = ("log in", "own", "own", "own", "own")
    TRAINER = ("log in", "403", "yes", "403", "yes")
    HR = ("log in", "403", "403", "own departments / all", "all")
    ADMIN = ("log in", "403", "403", "403", "yes")
    RESULTS = ("log in", "head: own department", "head: own department", "own departments / all", "all")

    def allows(self, role: Role | None) -> bool:
        """Whether a user holding only `role` (None: anonymous) is let in at all."""
        return self.value[0 if role is None else AUDIENCE.index(role) + 1] not in ("log in", "403")


AUDIENCE = (Role.TRAINEE, Role.TRAINER, Role.HR, Role.ADMIN)

ROUTES: dict[str, Access] = {
    # accounts and the site itself
    "auth.login": Access.PUBLIC,
    "auth.signup": Access.PUBLIC,
    "auth.signup_confirmation": Access.PUBLIC,
    "auth.confirm_signup": Access.PUBLIC,
    "auth.forgot_password": Access.PUBLIC,
    "auth.reset_password": Access.PUBLIC,
    "auth.invitation": Access.PUBLIC,
    "auth.sso_login": Access.PUBLIC,
    "auth.sso_callback": Access.PUBLIC,
    "auth.logout": Access.SIGNED_IN,
    "auth.change_password": Access.SIGNED_IN,
    "auth.sign_out_everywhere": Access.SIGNED_IN,
    "system.healthz": Access.PUBLIC,
    "system.set_language": Access.PUBLIC,
    "static": Access.PUBLIC,
    "certificates.verify": Access.PUBLIC,
    # learning: every signed-in user, on their own records
    "learn.home": Access.SIGNED_IN,
    "learn.module": Access.SIGNED_IN,
    "learn.lesson": Access.SIGNED_IN,
    "learn.complete": Access.SIGNED_IN,
    "learn.lesson_time": Access.SIGNED_IN,
    "learn.my_progress": Access.SIGNED_IN,
    "learn.dismiss_notice": Access.SIGNED_IN,
    "quizzes.overview": Access.SIGNED_IN,
    "quizzes.start": Access.SIGNED_IN,
    "quizzes.attempt": Access.SIGNED_IN,
    "quizzes.save": Access.SIGNED_IN,
    "quizzes.submit": Access.SIGNED_IN,
    "quizzes.result": Access.SIGNED_IN,
    "scenarios.overview": Access.SIGNED_IN,
    "scenarios.start": Access.SIGNED_IN,
    "scenarios.run": Access.SIGNED_IN,
    "scenarios.choose": Access.SIGNED_IN,
    "certificates.pdf": Access.SIGNED_IN,
    "aids.index": Access.SIGNED_IN,
    "aids.aid": Access.SIGNED_IN,
    "plans.mine": Access.SIGNED_IN,
    "plans.edit": Access.SIGNED_IN,
    "plans.plan": Access.SIGNED_IN,
    "plans.review": Access.SIGNED_IN,
    "media.file": Access.SIGNED_IN,
    # the trainer's studio
    "studio.index": Access.TRAINER,
    "studio.edit": Access.TRAINER,
    "studio.live_preview": Access.TRAINER,
    "studio.new_file": Access.TRAINER,
    "studio.changes": Access.TRAINER,
    "studio.publish": Access.TRAINER,
    "studio.discard_all": Access.TRAINER,
    "studio.revisions": Access.TRAINER,
    "studio.compare": Access.TRAINER,
    "studio.rollback": Access.TRAINER,
    "studio.revision_zip": Access.TRAINER,
    "studio.exchange": Access.TRAINER,
    "studio.upload": Access.TRAINER,
    "studio.download_course": Access.TRAINER,
    "studio.download_module": Access.TRAINER,
    "studio.gift_export": Access.TRAINER,
    "studio.gift_import": Access.TRAINER,
    "studio.media_page": Access.TRAINER,
    "studio.upload_media": Access.TRAINER,
    "studio.delete_media": Access.TRAINER,
    "studio.discard_media": Access.TRAINER,
    "studio.media_file": Access.TRAINER,
    "studio.analytics": Access.TRAINER,
    "studio.analytics_quiz": Access.TRAINER,
    "studio.analytics_scenario": Access.TRAINER,
    # HR: completion records, limited to the HR user's departments where they have a scope
    # surveys: rounds and answering (surveys/views.py)
    "surveys.my_rounds": Access.SIGNED_IN,
    "surveys.screener": Access.SIGNED_IN,
    "surveys.rate": Access.SIGNED_IN,
    "surveys.rounds_page": Access.HR,
    "surveys.new_round": Access.HR,
    "surveys.edit_round": Access.HR,
    "surveys.round_page": Access.HR,
    "surveys.remind": Access.HR,
    "surveys.end_round": Access.HR,
    # surveys: results and improvement plans (surveys/results_views.py)
    "surveys.results_index": Access.RESULTS,
    "surveys.round_results": Access.RESULTS,
    "surveys.department_results": Access.RESULTS,
    "surveys.improvement_plan": Access.RESULTS,
    "surveys.export_results": Access.RESULTS,
    "surveys.plans_for_my_department": Access.SIGNED_IN,
    "hr.dashboard": Access.HR,
    "hr.learners": Access.HR,
    "hr.transcript": Access.HR,
    "hr.attempt": Access.HR,
    "hr.run": Access.HR,
    "hr.export_learners": Access.HR,
    "hr.assignments": Access.HR,
    "hr.change_due_date": Access.HR,
    "hr.withdraw_assignment": Access.HR,
    "hr.extend_due_date": Access.HR,
    "hr.remove_extension": Access.HR,
    "hr.import_people": Access.HR,
    "hr.import_preview": Access.HR,
    "hr.import_confirm": Access.HR,
    "hr.import_template": Access.HR,
    "hr.internal_customers": Access.HR,
    "hr.invitations_page": Access.HR,
    "hr.confirm_invitations": Access.HR,
    "hr.send_invitations": Access.HR,
    "hr.invitation_links": Access.HR,
    "hr.resend_mail": Access.HR,
    "xapi.export": Access.HR,
    "xapi.statements": Access.HR,
    "hr.lrs_page": Access.HR,
    "hr.lrs_send_again": Access.HR,
    "xapi.about": Access.PUBLIC,
    # administration
    "admin.users": Access.ADMIN,
    "admin.edit_user": Access.ADMIN,
    "admin.export_person": Access.ADMIN,
    "admin.anonymise_user": Access.ADMIN,
    "admin.departments": Access.ADMIN,
    "admin.rename_department": Access.ADMIN,
    "admin.department_contact": Access.ADMIN,
    "admin.department": Access.ADMIN,
    "admin.department_head": Access.ADMIN,
    "admin.resend_robot_post": Access.ADMIN,
    "admin.audit_log": Access.ADMIN,
}


# Routes that show a named person's learning records (progress, completion dates, scores, answers,
# role-play paths, certificates) to someone else, and the audit action each writes when it does.
# Account administration (names, emails, roles) is not a learning record; the public /verify page
# shows only what the certificate's holder hands out with its code.
AUDITED_READS: dict[str, str] = {
    "hr.dashboard": "view_dashboard",
    "hr.learners": "view_learners",
    "hr.transcript": "view_transcript",
    "hr.attempt": "view_attempt",
    "hr.run": "view_run",
    "hr.export_learners": "export_learners",
    "xapi.export": "export_xapi",
    "xapi.statements": "read_xapi",
    "certificates.pdf": "view_certificate",
    "admin.export_person": "export_person",
    "surveys.export_results": "export_survey_results",  # aggregates only, recorded like every export
}


def refuse_unlisted_routes() -> None:
    """Refuse a request to an endpoint missing from `ROUTES` (a new route nobody has decided on)."""
    if request.endpoint is not None and request.endpoint not in ROUTES:
        abort(403)


def access_table() -> str:
    """`ROUTES` as a Markdown table, for docs/security.md."""
    rules = {rule.endpoint: rule for rule in current_app.url_map.iter_rules()}
    lines = [
        "| Route | Methods | Anonymous | Trainee | Trainer | HR | Admin | Audited |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for endpoint, access in ROUTES.items():
        rule = rules[endpoint]
        methods = ", ".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        audited = f"`{AUDITED_READS[endpoint]}`" if endpoint in AUDITED_READS else ""
        lines.append(f"| `{rule.rule}` | {methods} | " + " | ".join(access.value) + f" | {audited} |")
    return "\n".join(lines)


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


hr_required = roles_required(Role.HR)
admin_required = roles_required(Role.ADMIN)


def live_activity_or_404(kind: str, activity_id: str) -> tuple[LiveCourse, Any]:
    """Return the live course and its quiz or scenario `activity_id` (`kind` is 'quiz' or 'scenario')."""
    live = live_course()
    activity = getattr(live.course, kind)(activity_id) if live else None
    if activity is None:
        abort(404)
    return live, activity


def own_try_or_404(model: type, row_id: str, kind: str, activity_id: str) -> tuple[Any, Any]:
    """Return the learner's own attempt or run and its quiz or scenario as it was when it began.

    Anyone else's attempt is simply not found. The row's answers or steps load when first used.
    """
    row = _row(model, row_id)
    if row is None or row.user_id != current_user.id or getattr(row, f"{kind}_id") != activity_id:
        abort(404)
    activity = getattr(course_at(row.revision_id), kind)(activity_id)
    if activity is None:
        abort(404)
    return row, activity


_BY_ID: dict[type, Any] = {}


def _row(model: type, row_id: str) -> Any:
    """The row `row_id` of `model` as a persistent object of this session, read by one prebuilt Core statement
    (a save or submit pays a fifth of what `Session.get` with its eager loads costs)."""
    known = db.session.identity_map.get(inspect(model).identity_key_from_primary_key((row_id,)))
    if known is not None:
        return known
    statement = _BY_ID.get(model)
    if statement is None:
        table = model.__table__
        statement = _BY_ID[model] = select(table).where(table.c.id == bindparam("id"))
    found = db.session.connection().execute(statement, {"id": row_id}).first()
    if found is None:
        return None
    row = as_loaded(model, found._mapping)
    db.session.add(row)
    return row
