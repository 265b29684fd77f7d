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
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, limiter, login_manager
from .forms import EmptyForm, LoginForm, PasswordChangeForm, SignupForm, options
from .models import Department, Role, User

bp = Blueprint("auth", __name__)

# Checked when the email is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user with roles and HR scope in one query (this runs on every request)."""
    return db.session.get(User, int(user_id), options=[joinedload(User.role_rows), joinedload(User.scope_rows)])


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


def _account_key() -> str:
    return "account:" + User.normalise_email(request.form.get("email", ""))


def _failed(response) -> bool:
    """Count only failed attempts, so a whole office behind one address can still log in at nine."""
    return response.status_code != 302


failed_logins_per_address = limiter.limit(address_limit, methods=["POST"], deduct_when=_failed)
failed_logins_per_account = limiter.limit(account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed)


@bp.route("/login", methods=["GET", "POST"])
@failed_logins_per_address
@failed_logins_per_account
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data)
        elif user.check_password(form.password.data) and user.is_active:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Email or password is incorrect."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("You have logged out."), "info")
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
        login_user(user)
        flash(_("Welcome, %(name)s!", name=user.name), "success")
        return redirect(url_for("learn.home"))
    return render_template("auth/signup.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(account_limit, key_func=lambda: f"password:{current_user.id}", methods=["POST"], deduct_when=_failed)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            current_user.set_password(form.password.data)
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("learn.home"))
    return render_template("auth/password.html", form=form)
