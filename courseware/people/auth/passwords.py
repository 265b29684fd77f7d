"""Passwords: change one's own, reset a forgotten one, or choose one through HR's invitation."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...extensions import db, limiter
from ...forms import EmptyForm
from .. import password_links, sessions, tokens
from ..forms import ChoosePasswordForm, ForgotPasswordForm, PasswordChangeForm
from ..signin import account_key, address_limit, failed_login, guessing_budget
from . import bp


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@guessing_budget(failed_login, lambda: account_key(current_user.email), methods=["POST"])
def change_password():
    form = PasswordChangeForm(personal=(current_user.email, current_user.name))
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            current_user.set_password(form.password.data)
            sessions.end_sessions(current_user, keep_this_one=True)
            db.session.commit()
            flash(_("Your password has been changed. Every other session of yours has been signed out."), "success")
            return redirect(url_for("learn.home"))
    return render_template("auth/password.html", form=form, sign_out_form=EmptyForm())


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RESET_RATE_LIMIT"], methods=["POST"], scope="password-reset",
    key_func=lambda: account_key(request.form.get("login", "")),
)
def forgot_password():
    """Answer alike whether or not an account matches; only the e-mail tells, to the address's owner."""
    _passwords_in_use()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_links.request_reset(form.login.data.strip())
        db.session.commit()
        return render_template("auth/forgot_sent.html", hours=current_app.config["RESET_LINK_HOURS"])
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    _passwords_in_use()
    return _choose_password(tokens.RESET, token, _("Choose a new password"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    return _choose_password(tokens.INVITATION, token, _("Welcome: choose your password"))


def _passwords_in_use() -> None:
    """With PASSWORD_LOGIN off people sign in only through the company's provider: there is no password to reset."""
    if not current_app.config["PASSWORD_LOGIN"]:
        abort(404)


def _choose_password(purpose: str, token: str, heading: str):
    """Show the form for the link's holder; only a valid POST uses the link up, so a mail scanner opening it does not."""
    person = password_links.holder(purpose, token)
    if person is None:
        return render_template("auth/link_dead.html"), 410
    form = ChoosePasswordForm(personal=(person.email, person.name, person.employee_id or ""))
    if form.validate_on_submit():
        user = password_links.choose_password(purpose, token, form.password.data)
        if user is None:
            db.session.rollback()
            return render_template("auth/link_dead.html"), 410
        db.session.commit()
        sessions.sign_in(user)
        flash(_("Your password is set. Welcome, %(name)s!", name=user.name), "success")
        return redirect(url_for("learn.home"))
    return render_template("auth/choose_password.html", form=form, person=person, heading=heading)
