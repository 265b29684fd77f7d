"""Signing up, confirmed by an e-mailed link (when the company lets people sign up themselves)."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ...extensions import db, limiter
from ...forms import EmptyForm, options
from ...models import AccountToken, Department, Role, User
from ...outbox import queue as outbox
from .. import sessions, tokens
from ..forms import SignupForm
from ..signin import address_limit
from . import bp

SIGNUP_LINK_LIFETIME = timedelta(hours=24)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"])
def signup():
    """Take a sign-up and answer it alike, in words and in work, whether or not the email has an
    account; only the e-mail, which only the address's owner reads, tells the two apart."""
    _signup_open()
    form = SignupForm()
    form.department.choices = options([
        (d.id, d.name) for d in db.session.scalars(select(Department).order_by(Department.name))
    ])
    if form.validate_on_submit():
        email = User.normalise_email(form.email.data)
        password_hash = generate_password_hash(form.password.data, method="scrypt")  # hashed in every case alike
        if User.by_email(email) is None:
            _mail_signup_link(email, form.name.data.strip(), form.department.data, password_hash)
        else:
            _mail_account_exists(email)
        db.session.commit()
        return render_template("auth/signup_sent.html", email=email)
    return render_template("auth/signup.html", form=form)


def _signup_open() -> None:
    if not current_app.config["SIGNUP_ENABLED"]:
        abort(404)


def _mail_signup_link(email: str, name: str, department_id: int, password_hash: str) -> None:
    """Queue the link that creates the account; what was typed waits with the token until then."""
    details = {"name": name, "department_id": department_id, "password_hash": password_hash, "locale": str(get_locale())}
    token = tokens.issue(tokens.SIGNUP, email, details, SIGNUP_LINK_LIFETIME)
    link = current_app.config["PUBLIC_URL"] + url_for(".signup_confirmation", token=token)  # never the request's Host
    outbox.enqueue_mail(email, _("Finish signing up"), _(
        "Hello,\n\nTo finish signing up for the internal customer service course, open this link within "
        "24 hours and create your account:\n\n%(link)s\n\nIf you did not sign up, ignore this message: "
        "no account is created.",
        link=link,
    ))


def _mail_account_exists(email: str) -> None:
    link = current_app.config["PUBLIC_URL"] + url_for(".login")
    outbox.enqueue_mail(email, _("Someone tried to sign up with your address"), _(
        "Hello,\n\nSomeone (maybe you) tried to sign up with this address, which already has an account. "
        "Log in at %(link)s; if you forgot your password, ask your HR or an administrator.\n\n"
        "If it was not you, there is nothing to do: your account has not changed.",
        link=link,
    ))


@bp.get("/signup/confirm/<token>")
def signup_confirmation(token: str):
    """Show what the link creates. Only the button's POST uses it up, so a mail scanner that opens
    the link does not."""
    _signup_open()
    pending = tokens.peek(tokens.SIGNUP, token)
    if pending is None:
        return render_template("auth/signup_link_dead.html"), 410
    department = db.session.get(Department, pending.payload["department_id"])
    session.setdefault("locale", pending.payload.get("locale"))  # the language they signed up in, as in the mail
    return render_template("auth/signup_confirm.html", pending=pending, department=department, form=EmptyForm())


@bp.post("/signup/confirm/<token>")
def confirm_signup(token: str):
    _signup_open()
    pending = tokens.redeem(tokens.SIGNUP, token)
    if pending is None:
        return render_template("auth/signup_link_dead.html"), 410
    if User.by_email(pending.email) is not None:  # an admin or HR import made the account meanwhile
        db.session.commit()
        return render_template("auth/signup_taken.html", email=pending.email)
    user = _trainee(pending)
    db.session.add(user)
    db.session.commit()
    sessions.sign_in(user)
    flash(_("Welcome, %(name)s!", name=user.name), "success")
    return redirect(url_for("learn.home"))


def _trainee(pending: AccountToken) -> User:
    details = pending.payload
    user = User(
        email=pending.email,
        name=details["name"],
        department_id=details["department_id"],
        password_hash=details["password_hash"],
        locale=details["locale"],
    )
    user.roles = {Role.TRAINEE}
    return user
