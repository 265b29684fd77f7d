"""Forms shared by the blueprints. Flask-WTF's FlaskForm owns CSRF for every one of them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from .models import User

MIN_PASSWORD = 8


def options(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def _new_password(label: str, repeat_label: str) -> tuple[PasswordField, PasswordField]:
    """Return a new-password field and its confirmation, validated together."""
    password = PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD, message=_l("Use at least %(n)s characters.", n=MIN_PASSWORD)),
        ],
    )
    confirm = PasswordField(
        repeat_label,
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    return password, confirm


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for button-only POSTs."""


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me"))


class SignupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    department = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])
    password, confirm = _new_password(_l("Password"), _l("Repeat password"))

    def validate_email(self, field: EmailField) -> None:
        if User.by_email(field.data) is not None:
            raise ValidationError(_l("An account with this email already exists."))


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password, confirm = _new_password(_l("New password"), _l("Repeat new password"))


class AnonymiseForm(FlaskForm):
    """Anonymising cannot be undone, so the admin confirms by typing the person's email."""

    email = StringField(_l("Type this person's email to confirm"), validators=[DataRequired(), Length(max=254)])
