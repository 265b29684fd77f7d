"""Recertification: before a certificate lapses, its holder is assigned the course again."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..learning import records
from ..models import Assignment, Certificate, User
from ..publishing import LiveCourse


def open_renewals(live: LiveCourse, on: date, days_before: int) -> int:
    """Re-assign the course to everyone whose certificate lapses within `days_before` days.

    The learner starts a new round: their progress on the course is cleared (every record and
    earlier certificate stays), and a personal assignment falls due on the day the certificate lapses.
    """
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
    for certificate in due:
        if not records.start_new_round(certificate, live):
            continue
        db.session.add(Assignment(
            activity_id=live.course.id, user_id=certificate.user_id,
            due_on=max(certificate.expires_at.astimezone(tz).date(), on),
        ))
    db.session.commit()
    return len(due)
