"""Account forms: signing in and up, passwords, anonymising a person."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..forms import FlaskForm
from . import passwords


def strong_password(form, field) -> None:
    """Refuse a short or easily guessed password, saying why (the person's own name and email count as guessable)."""
    if not field.data:
        return
    personal = [getattr(form, name).data for name in ("email", "name") if name in form] + list(getattr(form, "personal", ()))
    if problem := passwords.weakness(field.data, [value for value in personal if isinstance(value, str)]):
        raise ValidationError(problem)


def _new_password(label: str, repeat_label: str) -> tuple[PasswordField, PasswordField]:
    """Return a new-password field and its confirmation, validated together."""
    password = PasswordField(label, validators=[DataRequired(), strong_password])
    confirm = PasswordField(
        repeat_label,
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    return password, confirm


class LoginForm(FlaskForm):
    email = StringField(_l("Email or employee ID"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me"))


class SignupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    department = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])
    password, confirm = _new_password(_l("Password"), _l("Repeat password"))


class ForgotPasswordForm(FlaskForm):
    login = StringField(_l("Email or employee ID"), validators=[DataRequired(), Length(max=254)])


class ChoosePasswordForm(FlaskForm):
    """`personal`: the person's email, name and employee ID, which the password must not be built on."""

    def __init__(self, *args, personal: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.personal = personal
    password, confirm = _new_password(_l("Password"), _l("Repeat password"))


class PasswordChangeForm(FlaskForm):
    """`personal`: the person's own email and name, which the new password must not be built on."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])

    def __init__(self, *args, personal: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.personal = personal
    password, confirm = _new_password(_l("New password"), _l("Repeat new password"))


class AnonymiseForm(FlaskForm):
    """Anonymising cannot be undone, so the admin confirms by typing the person's email."""

    email = StringField(_l("Type this person's email to confirm"), validators=[DataRequired(), Length(max=254)])
