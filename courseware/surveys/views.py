"""Survey rounds for HR and answering for every employee: routes on `bp`.

HR: /surveys/rounds (list), /surveys/rounds/new, /surveys/rounds/<id> (response rates, reminder),
/surveys/rounds/<id>/edit (while upcoming). Employees: /surveys (their open rounds), /surveys/<id>
(the screener: which departments they worked with) and /surveys/<id>/rate?department=… (one form per
department picked; the picks travel in the query string, nothing is kept for the person in between).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..access import hr_required
from ..extensions import db
from ..forms import EmptyForm, options
from ..hr.assignments import today
from ..inputs import integer
from ..models import AuditEntry, SurveyRound, utcnow
from ..people.departments import tree
from ..people.scope import visible_department_ids
from . import announcements, answering, bp, rounds
from .audience import result_department_ids
from .forms import RoundForm, rating_form
from .rounds import RoundState

MAX_PICKED = 50  # departments rated on one page


# --- HR: rounds -----------------------------------------------------------------------------


def _round_or_404(round_id: int, visible: set[int] | None) -> SurveyRound:
    """A round HR may see: one rating at least one of its departments."""
    return db.session.scalar(rounds.visible_rounds(visible).where(SurveyRound.id == round_id)) or abort(404)


@bp.get("/rounds")
@hr_required
def rounds_page():
    visible = visible_department_ids()
    listed = db.session.scalars(rounds.visible_rounds(visible)).all()
    return render_template("surveys/rounds.html", rounds=listed, state=rounds.state, today=today(), labels=rounds.STATE_LABELS)


def _round_form(survey: SurveyRound | None, visible: set[int] | None) -> RoundForm:
    nodes = tree()
    if request.method == "POST":
        form = RoundForm()
    elif survey is None:
        form = RoundForm(formdata=None, threshold=rounds.DEFAULT_THRESHOLD, comment_enabled=True)
    else:
        form = RoundForm(formdata=None, obj=survey, departments=sorted(survey.department_ids),
                         comment_enabled=rounds.comment_question(survey) is not None)
    form.departments.choices = options([(n.id, n.path) for n in nodes if visible is None or n.id in visible])
    if request.method == "GET":
        shown = rounds.questions(survey) if survey else rounds.questions(SurveyRound(questions=rounds.default_questions()))
        for question in shown:
            for part, field in zip(rounds.SCORE_PARTS, form.score_fields(question.key)):
                field.data = getattr(question, part)
        form.comment_text.data = (rounds.comment_question(survey) if survey else None) or str(rounds.DEFAULT_COMMENT)
    return form


def _save(form: RoundForm, survey: SurveyRound, visible: set[int] | None) -> SurveyRound:
    hidden = survey.department_ids - visible if visible is not None else set()  # kept as they were
    return rounds.save_round(
        survey, title=form.title.data, opens_on=form.opens_on.data, closes_on=form.closes_on.data,
        threshold=form.threshold.data, department_ids=list(form.departments.data) + sorted(hidden),
        questions=rounds.stored_questions(form.texts(), form.comment_text.data, form.comment_enabled.data),
    )


def _after_save(survey: SurveyRound, action: str) -> None:
    """Announce a round saved open (it opens today), audit, commit and say so."""
    told = announcements.announce(survey) if rounds.state(survey, today()) is RoundState.OPEN else 0
    db.session.add(AuditEntry(user_id=current_user.id, action=action, detail={
        "round_id": survey.id, "opens_on": survey.opens_on.isoformat(), "closes_on": survey.closes_on.isoformat(),
        "departments": sorted(survey.department_ids), "threshold": survey.threshold, "told": told,
    }))
    db.session.commit()
    if told:
        flash(ngettext("Survey saved and open. %(num)d person has been told.", "Survey saved and open. %(num)d people have been told.", told), "success")
    else:
        flash(_("Survey saved. Everyone asked will be told on the day it opens."), "success")


@bp.route("/rounds/new", methods=["GET", "POST"])
@hr_required
def new_round():
    visible = visible_department_ids()
    form = _round_form(None, visible)
    if form.validate_on_submit():
        survey = _save(form, SurveyRound(created_by_id=current_user.id), visible)
        db.session.flush()
        _after_save(survey, "create_survey_round")
        return redirect(url_for(".round_page", round_id=survey.id))
    return render_template("surveys/round_form.html", form=form, survey=None)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@hr_required
def edit_round(round_id: int):
    visible = visible_department_ids()
    survey = _round_or_404(round_id, visible)
    if rounds.state(survey, today()) is not RoundState.UPCOMING:
        flash(_("Only a survey that has not opened yet can be changed."), "warning")
        return redirect(url_for(".round_page", round_id=survey.id))
    form = _round_form(survey, visible)
    if form.validate_on_submit():
        _after_save(_save(form, survey, visible), "change_survey_round")
        return redirect(url_for(".round_page", round_id=survey.id))
    return render_template("surveys/round_form.html", form=form, survey=survey)


@bp.get("/rounds/<int:round_id>")
@hr_required
def round_page(round_id: int):
    visible = visible_department_ids()
    survey = _round_or_404(round_id, visible)
    rates = rounds.response_rates(survey)
    by_customer = [rate for rate in rates.by_customer if visible is None or rate.department_id in visible]
    return render_template(
        "surveys/round.html", survey=survey, state=rounds.state(survey, today()), labels=rounds.STATE_LABELS,
        rates=rates, by_customer=by_customer, paths={n.id: n.path for n in tree()},
        questions=rounds.questions(survey), comment=rounds.comment_question(survey), form=EmptyForm(),
    )


@bp.post("/rounds/<int:round_id>/remind")
@hr_required
def remind(round_id: int):
    survey = _round_or_404(round_id, visible_department_ids())
    if rounds.state(survey, today()) is not RoundState.OPEN:
        flash(_("Reminders can be sent only while the survey is open."), "warning")
    elif EmptyForm().validate_on_submit():
        told = announcements.remind(survey)
        survey.reminded_at = utcnow()
        db.session.add(AuditEntry(user_id=current_user.id, action="remind_survey", detail={"round_id": survey.id, "told": told}))
        db.session.commit()
        flash(ngettext("%(num)d person who has not answered yet has been reminded.",
                       "%(num)d people who have not answered yet have been reminded.", told), "success")
    return redirect(url_for(".round_page", round_id=survey.id))


@bp.post("/rounds/<int:round_id>/end")
@hr_required
def end_round(round_id: int):
    """Stop taking answers today, so the results can be read (they show only for closed rounds)."""
    survey = _round_or_404(round_id, visible_department_ids())
    if rounds.state(survey, today()) is not RoundState.OPEN:
        flash(_("Only an open survey can be ended."), "warning")
    elif EmptyForm().validate_on_submit():
        rounds.end(survey, today())
        db.session.add(AuditEntry(user_id=current_user.id, action="end_survey_round", detail={"round_id": survey.id}))
        db.session.commit()
        flash(_("The survey is closed: no more answers are taken, and its results can now be read."), "success")
    return redirect(url_for(".round_page", round_id=survey.id))


# --- employees: answering -------------------------------------------------------------------


@bp.get("")
@login_required
def my_rounds():
    waiting = answering.waiting_rounds(current_user, today())
    return render_template(
        "surveys/mine.html", rounds=[(survey, len(answering.rated(current_user, survey))) for survey in waiting],
        sees_results=result_department_ids(current_user) != set(),
    )


def _open_round_or_leave(round_id: int) -> SurveyRound:
    """The round, if it is open and has something for the person to rate; 404 otherwise."""
    survey = db.session.get(SurveyRound, round_id)
    if survey is None or survey not in answering.waiting_rounds(current_user, today()):
        abort(404)
    return survey


@bp.get("/<int:round_id>")
@login_required
def screener(round_id: int):
    survey = _open_round_or_leave(round_id)
    return render_template(
        "surveys/screener.html", survey=survey, choices=answering.screener(current_user, survey),
        rated=answering.rated(current_user, survey),
    )


def _picked(survey: SurveyRound) -> list[int]:
    """The departments ticked on the screener (query string), those the person may rate, in their order."""
    allowed = {department.id for department in answering.rateable(current_user, survey)}
    picked = []
    for value in request.args.getlist("department")[:MAX_PICKED]:
        number = integer(value)
        if number in allowed and number not in picked:
            picked.append(number)
    return picked


@bp.route("/<int:round_id>/rate", methods=["GET", "POST"])
@login_required
def rate(round_id: int):
    survey = db.session.get(SurveyRound, round_id) or abort(404)
    if rounds.state(survey, today()) is not RoundState.OPEN:
        flash(_("This survey is closed: answers are no longer taken."), "warning")
        return redirect(url_for(".my_rounds"))
    picked = _picked(survey)
    form_class = rating_form(rounds.questions(survey), rounds.comment_question(survey))
    posted = None
    if request.method == "POST":
        posted, failed = _save_posted(survey, form_class)
        if not failed:
            return redirect(url_for(".rate", round_id=survey.id, department=picked))
    if not picked:
        return redirect(url_for(".screener", round_id=survey.id))
    forms = {d: posted if posted is not None and posted.department_id == d else form_class(formdata=None, prefix=f"d{d}-")
             for d in picked}
    return render_template(
        "surveys/rate.html", survey=survey, picked=picked, forms=forms, rated=answering.rated(current_user, survey),
        paths={n.id: n.path for n in tree()}, questions=rounds.questions(survey),
    )


def _save_posted(survey: SurveyRound, form_class):
    """Save the one department's form that was posted; return (the form, whether to show it again with its errors)."""
    department_id = integer(request.form.get("department", ""))
    if department_id is None:
        abort(400)
    form = form_class(prefix=f"d{department_id}-")
    form.department_id = department_id
    if not form.validate_on_submit():
        return form, True
    scores = {question.key: form[question.key].data for question in rounds.questions(survey)}
    comment = form.comment.data if "comment" in form else None
    try:
        created = answering.save_rating(current_user, survey, department_id, scores, comment, today())
    except answering.Refused as refused:
        flash(str(refused), "error")
        return form, False
    if created:
        flash(_("Saved. Thank you: your rating is stored without your name."), "success")
    else:
        flash(_("You had already rated this department in this survey; your first answer stands."), "info")
    return form, False
