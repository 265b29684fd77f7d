"""Telling people about a round: a notice on their home page and an e-mail when it opens, a reminder two
days before it closes, and HR's reminder to those who have not answered. Written in the caller's
transaction (the outbox sends the mail).

A round is announced when HR saves it while it is open (opening today), and otherwise by `flask
surveys notify`, which cron runs daily: it announces the rounds open today and reminds two days
before a round closes. The notices themselves record who was told, so running it twice tells nobody twice.
"""
from __future__ import annotations

import enum
from datetime import date, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import insert, select

from ..extensions import db
from ..models import Notice, SurveyRound, User, utcnow
from ..outbox import queue as outbox
from . import rounds

CLOSING_REMINDER_DAYS = 2


class SurveyNotice(enum.StrEnum):
    OPEN = "survey_open"
    CLOSING = "survey_closing"  # the automatic reminder before the round closes
    REMINDER = "survey_reminder"  # HR's reminder


def notice_key(survey: SurveyRound) -> str:
    """What a survey notice stores in `Notice.activity_id`, to know which round it was about."""
    return f"survey:{survey.id}"


def text(kind: str, title: str, closes_on: date | None) -> str:
    """One line for the home page or the e-mail, in the language active when it is called."""
    day = closes_on.isoformat() if closes_on else ""
    if kind == SurveyNotice.OPEN:
        return _("A new internal-customer survey is open: %(title)s, until %(date)s. Your answers are anonymous.", title=title, date=day)
    return _("Please answer the internal-customer survey %(title)s by %(date)s. Your answers are anonymous.", title=title, date=day)


def _mail(person: User, kind: SurveyNotice, survey: SurveyRound, link: str) -> tuple[str, str]:
    what = text(kind, survey.title, survey.closes_on)
    return what, _("Hello %(name)s,\n\n%(what)s\n\nAnswer it here: %(link)s", name=person.name, what=what, link=link)


def tell(survey: SurveyRound, kind: SurveyNotice, people: list[User]) -> int:
    """Leave each person a notice about the round and queue their e-mail; return how many were told."""
    if not people:
        return 0
    now = utcnow()
    db.session.execute(insert(Notice), [
        {"user_id": person.id, "kind": kind.value, "title": survey.title[:255], "activity_id": notice_key(survey),
         "due_on": survey.closes_on, "created_at": now}
        for person in people
    ])
    link = current_app.config["PUBLIC_URL"] + url_for("surveys.screener", round_id=survey.id)
    outbox.enqueue_mails(outbox.in_their_language(people, lambda person: _mail(person, kind, survey, link)))
    return len(people)


def _not_yet_told(query, survey: SurveyRound, kind: SurveyNotice):
    told = select(Notice.user_id).where(Notice.kind == kind.value, Notice.activity_id == notice_key(survey))
    return query.where(User.id.not_in(told))


def announce(survey: SurveyRound) -> int:
    """Tell everyone asked in the round that it is open, but those told already."""
    return tell(survey, SurveyNotice.OPEN, list(db.session.scalars(_not_yet_told(rounds.eligible(survey), survey, SurveyNotice.OPEN))))


def remind(survey: SurveyRound) -> int:
    """HR's reminder: tell everyone asked who has rated nothing in the round yet."""
    return tell(survey, SurveyNotice.REMINDER, list(db.session.scalars(rounds.not_yet_answered(survey))))


def daily(on: date) -> dict[str, int]:
    """Announce the rounds open on `on`, and remind before a round closes; commit; return who was told."""
    counts = {"announced": 0, "reminded": 0}
    for survey in db.session.scalars(rounds.open_on(on)):
        if survey.opens_on == on:
            counts["announced"] += announce(survey)
        if survey.closes_on == on + timedelta(days=CLOSING_REMINDER_DAYS):
            waiting = _not_yet_told(rounds.not_yet_answered(survey), survey, SurveyNotice.CLOSING)
            counts["reminded"] += tell(survey, SurveyNotice.CLOSING, list(db.session.scalars(waiting)))
    db.session.commit()
    return counts
