"""The learner's personal action plan: make it, see and print it, edit it before the review, record what happened."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import FieldList, Form, FormField, StringField, TextAreaField

from ..forms import FlaskForm
from ..hr.assignments import today
from ..models import ActionPlan
from . import action_plans
from .action_plans import PlanInvalid

bp = Blueprint("plans", __name__)

ROWS_SHOWN = 3  # customer rows and action rows on the form; blank ones are ignored


class CustomerRow(Form):
    who = StringField(_l("Who uses my output"))
    needs = TextAreaField(_l("What they need from me"))
    feedback = TextAreaField(_l("How I will ask for their feedback"))


class PlanForm(FlaskForm):
    customers = FieldList(FormField(CustomerRow), min_entries=ROWS_SHOWN)
    actions = FieldList(StringField(_l("Action")), min_entries=ROWS_SHOWN)


class ReviewForm(FlaskForm):
    outcome = TextAreaField(_l("What happened"))


def _own_or_404(plan_id: int) -> ActionPlan:
    plan = action_plans.own_plan(current_user.id, plan_id)
    if plan is None:
        abort(404)
    return plan


@bp.route("/my/action-plan")
@login_required
def mine():
    plan = action_plans.open_plan(current_user.id)
    earlier = [other for other in action_plans.plans_of(current_user.id) if other is not plan]
    if plan is None:
        return render_template("plans/form.html", form=PlanForm(), plan=None, errors=[], earlier=earlier)
    return render_template("plans/plan.html", plan=plan, due=action_plans.is_due(plan, today()), earlier=earlier)


@bp.route("/my/action-plan/edit", methods=["GET", "POST"])
@login_required
def edit():
    plan = action_plans.open_plan(current_user.id)
    form = PlanForm(data={"customers": plan.customers, "actions": plan.actions} if plan else None)
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            action_plans.save(current_user.id, [row.data for row in form.customers], form.actions.data, today())
        except PlanInvalid as invalid:
            errors = invalid.messages
        else:
            flash(_("Your action plan is saved.") if plan is None else _("Your action plan is updated."), "success")
            return redirect(url_for("plans.mine"))
    elif request.method == "POST":
        errors = [message for messages in form.errors.values() for message in messages if isinstance(message, str)]
    return render_template("plans/form.html", form=form, plan=plan, errors=errors, earlier=[])


@bp.route("/my/action-plan/<int:plan_id>")
@login_required
def plan(plan_id: int):
    found = _own_or_404(plan_id)
    return render_template("plans/plan.html", plan=found, due=action_plans.is_due(found, today()), earlier=[])


@bp.route("/my/action-plan/<int:plan_id>/review", methods=["GET", "POST"])
@login_required
def review(plan_id: int):
    found = _own_or_404(plan_id)
    if found.reviewed_at is not None:
        return redirect(url_for("plans.plan", plan_id=found.id))
    form = ReviewForm()
    answers = {"yes": True, "no": False}
    done = [answers.get(request.form.get(f"done-{index}", "")) for index in range(len(found.actions))]
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            action_plans.record_review(found, done, form.outcome.data)
        except PlanInvalid as invalid:
            errors = invalid.messages
        else:
            flash(_("Thank you: what happened is recorded. You can make a new plan now."), "success")
            return redirect(url_for("plans.plan", plan_id=found.id))
    elif request.method == "POST":
        errors = [message for messages in form.errors.values() for message in messages]
    return render_template("plans/review.html", plan=found, form=form, done=done, errors=errors)
