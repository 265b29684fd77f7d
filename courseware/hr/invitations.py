"""Inviting imported staff: who has not signed in yet, send them a link by e-mail, or download the links;
and the mail to HR's people that the server refused, to send again."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from ..access import hr_required
from ..extensions import db
from ..forms import EmptyForm
from ..inputs import integer
from ..models import AuditEntry, OutboxMessage, User
from ..outbox import queue as outbox
from ..people import invitations
from ..people.scope import in_departments, visible_department_ids
from . import bp, spreadsheets

PAGE_SIZE = 100


def _chosen() -> list[User]:
    """The pending people the form names (`everyone`, or ticked `person` ids), within HR's scope."""
    statement = invitations.pending(visible_department_ids())
    if request.form.get("everyone") != "1":
        ids = {n for value in request.form.getlist("person") if (n := integer(value)) is not None}
        statement = statement.where(User.id.in_(ids or {-1}))
    return list(db.session.scalars(statement))


@bp.get("/invitations")
@hr_required
def invitations_page():
    pending = invitations.pending(visible_department_ids())
    total = db.session.scalar(select(func.count()).select_from(pending.order_by(None).subquery()))
    page = max(integer(request.args.get("page", "1")) or 1, 1)
    people = db.session.scalars(pending.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    undelivered = db.session.execute(_undelivered().limit(PAGE_SIZE)).all()
    return render_template(
        "hr/invitations.html", people=people, total=total, page=page, pages=max(-(-total // PAGE_SIZE), 1),
        form=EmptyForm(), days=current_app.config["INVITATION_DAYS"], undelivered=undelivered,
    )


@bp.post("/invitations/confirm")
@hr_required
def confirm_invitations():
    """Say how many people will be invited before anything is sent."""
    form = EmptyForm()
    people = _chosen() if form.validate_on_submit() else []
    if not people:
        flash(_("Choose at least one person to invite."), "error")
        return redirect(url_for(".invitations_page"))
    return render_template(
        "hr/invitations_confirm.html", people=people, form=form, everyone=request.form.get("everyone") == "1",
        days=current_app.config["INVITATION_DAYS"],
    )


@bp.post("/invitations/send")
@hr_required
def send_invitations():
    form = EmptyForm()
    people = _chosen() if form.validate_on_submit() else []
    if people:
        invitations.invite(people, current_user, mail=True)
        db.session.commit()
        flash(ngettext("%(num)d invitation is on its way.", "%(num)d invitations are on their way.", len(people)), "success")
    return redirect(url_for(".invitations_page"))


@bp.post("/invitations/links.<fmt>")
@hr_required
def invitation_links(fmt: str):
    """The links themselves, for HR to pass on through 企业微信 or 钉钉; each replaces the person's older link."""
    form = EmptyForm()
    people = _chosen() if form.validate_on_submit() and fmt in ("csv", "xlsx") else []
    if not people:
        flash(_("Choose at least one person to invite."), "error")
        return redirect(url_for(".invitations_page"))
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    rows = [[_("Name"), _("Employee ID"), _("Email"), _("Department"), _("Link"), _("Valid until")]] + [
        [i.user.name, i.user.employee_id or "", i.user.email, i.user.department.name, i.link,
         i.expires_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")]
        for i in invitations.invite(people, current_user, mail=False)
    ]
    db.session.commit()
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    return spreadsheets.download(rows, fmt, f"invitations-{stamp}", _("Invitations"))


def _undelivered():
    """Mail the server refused, to people in HR's departments."""
    return outbox.undelivered(in_departments(select(User.id, User.email), visible_department_ids()))


@bp.post("/invitations/undelivered/<int:message_id>/send-again")
@hr_required
def resend_mail(message_id: int):
    message, person = db.session.execute(_undelivered().where(OutboxMessage.id == message_id, outbox.given_up())).first() or abort(404)
    if EmptyForm().validate_on_submit():
        outbox.send_again(message)
        db.session.add(AuditEntry(
            user_id=current_user.id, action="resend_message", subject_user_id=person.id,
            detail={"message_id": message.id, "kind": message.kind, "last_error": message.last_error},
        ))
        db.session.commit()
        flash(_("The message to %(email)s will be sent again shortly.", email=person.email), "success")
    return redirect(url_for(".invitations_page"))
