"""Certificate pages: the PDF for its holder (and HR in scope, audited), and the public check at /verify/<code>."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Certificate, Role, utcnow
from ..people import audit
from ..people.scope import visible_department_ids
from .certification import CertificateText, render_pdf

bp = Blueprint("certificates", __name__)


def _may_see(certificate: Certificate) -> bool:
    if certificate.user_id == current_user.id or current_user.has_role(Role.ADMIN):
        return True
    if not current_user.has_role(Role.HR):
        return False
    visible = visible_department_ids()
    return visible is None or certificate.user.department_id in visible


def _local_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).strftime("%Y-%m-%d")


@bp.route("/certificates/<code>.pdf")
@login_required
def pdf(code: str):
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None or not _may_see(certificate):
        abort(404)
    if certificate.user_id != current_user.id:
        audit.record("view_certificate", certificate.user_id, {"code": certificate.code})
    text = CertificateText(
        title="结业证书 · Certificate",
        name=certificate.user.name,
        course=certificate.course_title,
        issued=_local_date(certificate.issued_at),
        expires=_local_date(certificate.expires_at),
        score=f"{round(certificate.score * 100)}%" if certificate.score is not None else None,
        code=certificate.code,
        minutes=int(certificate.learning_seconds // 60) if certificate.learning_seconds is not None else None,
        # The configured address, never the request's Host header, which anyone can set
        verify_url=current_app.config["PUBLIC_URL"] + url_for(".verify", code=certificate.code),
    )
    return Response(
        render_pdf(text),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{certificate.code}.pdf"'},
    )


@bp.route("/verify/<code>")
def verify(code: str):
    """Public: anyone holding a code can check it; only name, course, dates and validity are shown."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if certificate is None:
        return render_template("certificates/verify.html", certificate=None, code=code), 404
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        name=certificate.user.name,
        issued=_local_date(certificate.issued_at),
        expires=_local_date(certificate.expires_at),
        lapsed=certificate.expires_at is not None and certificate.expires_at <= utcnow(),
    )
