"""Certificates: their codes, the round of the course a learner is in, the holder's list, the PDF layout."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from sqlalchemy import bindparam, func, select

from .. import resources
from ..extensions import db
from ..models import Certificate

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
FONT = resources.folder("static") / "fonts" / "wqy-microhei-gbk.ttf"


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


# The learner's renewals of a course and when the last one opened, as a one-row subquery (`:user_id`,
# `:course_id`): the rule for the round, which statements that need the round with something else join.
RENEWALS = select(
    func.count().label("renewals"), func.max(Certificate.renewal_opened_at).label("since")
).where(
    Certificate.user_id == bindparam("user_id"), Certificate.course_id == bindparam("course_id"),
    Certificate.renewal_opened_at.is_not(None),
).subquery()
_CYCLE = select(RENEWALS.c.renewals, RENEWALS.c.since)  # built once: every lesson view asks


def cycle_of(user_id: int, course_id: str) -> tuple[int, datetime | None]:
    """Which round of the course the learner is in (1, then 2 after the first recertification
    opened, …) and when the current round started (None for the first)."""
    opened, since = db.session.execute(_CYCLE, {"user_id": user_id, "course_id": course_id}).one()
    return opened + 1, since


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
    minutes: int | None = None  # credited learning time (学时)


def render_pdf(text: CertificateText) -> bytes:
    """Lay out one A4 landscape certificate with an embedded Chinese font."""
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
    if text.minutes is not None:
        details += f"    学时 Learning time: {text.minutes} 分钟 min"
    if text.expires:
        details += f"    有效期至 Valid until: {text.expires}"
    line(148, 12, details)
    line(170, 10, f"证书编号 Code: {text.code}")
    line(178, 9, f"验证 Verify: {text.verify_url}")
    return bytes(pdf.output())


def of(user_id: int) -> list[Certificate]:
    """The person's certificates, oldest first."""
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.issued_at)))
