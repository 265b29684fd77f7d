"""Certificates: issued once on course completion, rendered as PDF, checkable at /verify/<code>."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import resources
from ..extensions import db
from ..models import Assignment, Certificate, Progress, Role, User, utcnow
from ..people import audit
from ..publishing import LiveCourse

bp = Blueprint("certificates", __name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
FONT = resources.folder("static") / "fonts" / "wqy-microhei-gbk.ttf"


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def cycle_of(user_id: int, course_id: str) -> tuple[int, datetime | None]:
    """Which round of the course the learner is in (1, then 2 after the first recertification
    opened, …) and when the current round started (None for the first)."""
    opened, since = db.session.execute(
        select(func.count(), func.max(Certificate.renewal_opened_at)).where(
            Certificate.user_id == user_id, Certificate.course_id == course_id,
            Certificate.renewal_opened_at.is_not(None),
        )
    ).one()
    return opened + 1, since


def open_renewals(live: LiveCourse, on: date, days_before: int) -> int:
    """Re-assign the course to everyone whose certificate lapses within `days_before` days.

    The learner starts a new round: their progress on the course is cleared (every record and
    earlier certificate stays), and a personal assignment falls due on the day the certificate lapses.
    """
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    horizon = datetime.combine(on + timedelta(days=days_before), datetime.max.time(), tz)
    due = db.session.scalars(
        select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .where(
            Certificate.course_id == live.course.id, Certificate.expires_at.is_not(None),
            Certificate.expires_at <= horizon, Certificate.renewal_opened_at.is_(None), User.active.is_(True),
        )
    ).all()
    activity_ids = [live.course.id, *(m.id for m in live.course.modules), *(a.id for a in live.course.activities)]
    for certificate in due:
        claimed = db.session.execute(
            update(Certificate)
            .where(Certificate.id == certificate.id, Certificate.renewal_opened_at.is_(None))
            .values(renewal_opened_at=utcnow())
        ).rowcount
        if claimed != 1:
            continue
        db.session.execute(
            delete(Progress).where(Progress.user_id == certificate.user_id, Progress.activity_id.in_(activity_ids))
        )
        db.session.add(Assignment(
            activity_id=live.course.id, user_id=certificate.user_id,
            due_on=max(certificate.expires_at.astimezone(tz).date(), on),
        ))
    db.session.commit()
    return len(due)


def issue(user: User, live: LiveCourse, now: datetime) -> None:
    """Issue the course certificate (once per round of the course; a retry writes nothing)."""
    course = live.course
    final = course.final_quiz_id
    score = db.session.scalar(
        select(Progress.score).where(Progress.user_id == user.id, Progress.activity_id == final)
    ) if final else db.session.scalar(
        select(func.avg(Progress.score)).where(Progress.user_id == user.id, Progress.kind == "quiz")
    )
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[db.session.get_bind().dialect.name]
    db.session.execute(
        insert(Certificate)
        .values(
            code=new_code(), user_id=user.id, course_id=course.id, course_title=course.title,
            cycle=cycle_of(user.id, course.id)[0],
            revision_id=live.revision_id, score=score, issued_at=now,
            expires_at=now + timedelta(days=course.valid_for_days) if course.valid_for_days else None,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "course_id", "cycle"])
    )


@dataclass(frozen=True)
class CertificateText:
    title: str
    name: str
    course: str
    issued: str
    expires: str | None
    score: str | None
    code: str
    verify_url: str


def render_pdf(text: CertificateText) -> bytes:
    """Lay out one A4 landscape certificate with an embedded Chinese font."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("cjk", fname=str(FONT))
    pdf.set_draw_color(11, 92, 173)
    pdf.set_line_width(1.2)
    pdf.rect(12, 12, 273, 186)
    pdf.set_line_width(0.3)
    pdf.rect(16, 16, 265, 178)
    pdf.set_text_color(31, 41, 51)

    def line(y: float, size: int, value: str) -> None:
        pdf.set_xy(20, y)
        pdf.set_font("cjk", size=size)
        pdf.cell(257, size * 0.5, value, align="C")

    line(38, 34, text.title)
    line(72, 14, "兹证明 / This certifies that")
    line(88, 30, text.name)
    line(110, 14, "已完成课程 / has completed the course")
    line(124, 22, text.course)
    details = f"完成日期 Date: {text.issued}"
    if text.score:
        details += f"    成绩 Score: {text.score}"
    if text.expires:
        details += f"    有效期至 Valid until: {text.expires}"
    line(148, 12, details)
    line(170, 10, f"证书编号 Code: {text.code}")
    line(178, 9, f"验证 Verify: {text.verify_url}")
    return bytes(pdf.output())


def _may_see(certificate: Certificate) -> bool:
    if certificate.user_id == current_user.id or current_user.has_role(Role.ADMIN):
        return True
    if not current_user.has_role(Role.HR):
        return False
    from ..people.scope import visible_department_ids

    visible = visible_department_ids()
    return visible is None or certificate.user.department_id in visible


def _local_date(value: datetime | None) -> str | None:
    from zoneinfo import ZoneInfo

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


def of(user_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.issued_at)))
