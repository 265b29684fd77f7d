"""Accounts: sign up, log in, log out, change password."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from . import sessions
from .extensions import db, limiter, login_manager
from .forms import EmptyForm, LoginForm, PasswordChangeForm, SignupForm, options
from .models import Department, Role, User

bp = Blueprint("auth", __name__)

# Checked when there is no password to check, so every failure costs one scrypt, as a success does.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")

login_manager.user_loader(sessions.load)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    Exactly one scrypt check runs whether the email is unknown, has no password yet, belongs to a
    deactivated account or is right, so the time taken tells nothing about which.
    """
    user = User.by_email(email)
    known = user is not None and user.has_password
    matches = check_password_hash(user.password_hash if known else _DUMMY_HASH, password)
    return user if known and matches and user.is_active else None


def _safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the home page (no open redirects).

    Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so a target
    holding any of them could still leave the site and is refused.
    """
    if target and target.startswith("/") and not any(c in target for c in "\\\t\r\n"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and not target.startswith("//"):
            return target
    return url_for("learn.home")


def address_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def account_key(email: str) -> str:
    return "account:" + User.normalise_email(email)


def _failed(response) -> bool:
    """Count only failed attempts, so a whole office behind one address can still log in at nine."""
    return response.status_code != 302


def guessing_budget(deduct_when, key_func, methods: list[str] | None = None):
    """Limit failures per address and per account, shared by every door that checks a password
    (login, the password page, xAPI's HTTP Basic): one budget per account, whatever the door."""
    per_address = limiter.shared_limit(address_limit, scope="guesses-address", methods=methods, deduct_when=deduct_when)
    per_account = limiter.shared_limit(account_limit, scope="guesses-account", key_func=key_func, methods=methods, deduct_when=deduct_when)
    return lambda view: per_address(per_account(view))


@bp.route("/login", methods=["GET", "POST"])
@guessing_budget(_failed, lambda: account_key(request.form.get("email", "")), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            sessions.sign_in(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
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
        db.session.commit()
        sessions.sign_out()
        flash(_("You have been signed out everywhere."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"])
def signup():
    if not current_app.config["SIGNUP_ENABLED"]:
        abort(404)
    form = SignupForm()
    form.department.choices = options([
        (d.id, d.name) for d in db.session.scalars(select(Department).order_by(Department.name))
    ])
    if form.validate_on_submit():
        user = User(
            email=User.normalise_email(form.email.data),
            name=form.name.data.strip(),
            department_id=form.department.data,
        )
        user.set_password(form.password.data)
        user.roles = {Role.TRAINEE}
        db.session.add(user)
        db.session.commit()
        sessions.sign_in(user)
        flash(_("Welcome, %(name)s!", name=user.name), "success")
        return redirect(url_for("learn.home"))
    return render_template("auth/signup.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@guessing_budget(_failed, lambda: account_key(current_user.email), methods=["POST"])
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
