"""Logging in (with an email or an employee ID) and out, here or everywhere."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...forms import EmptyForm
from ...inputs import safe_next
from .. import directory, sessions
from ..company_accounts import SignInRefused
from ..forms import LoginForm
from ..signin import account_key, check_login, failed_login, guessing_budget
from . import bp


@bp.route("/login", methods=["GET", "POST"])
@guessing_budget(failed_login, lambda: account_key(request.form.get("email", "")), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    if request.method == "POST" and not (current_app.config["PASSWORD_LOGIN"] or directory.enabled()):
        abort(403)  # only the company's OpenID Connect sign-in (people/auth/sso.py)
    form = LoginForm()
    if directory.enabled():
        form.email.label.text = _("Company account, email or employee ID")
    if form.validate_on_submit():
        try:
            user = check_login(form.email.data, form.password.data)
        except SignInRefused as refused:
            form.password.errors.append(refused.message)
            return render_template("auth/login.html", form=form), refused.code
        if user is not None:
            sessions.sign_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append(_("Email or password is incorrect."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        sessions.sign_out()
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of this person: other browsers, copied cookies, and this one."""
    if EmptyForm().validate_on_submit():
        sessions.end_sessions(current_user)
        sessions.sign_out()  # commits both
        flash(_("You have been signed out everywhere."), "info")
    return redirect(url_for("auth.login"))
