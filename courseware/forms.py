"""The FlaskForm every form of the app derives from, and helpers shared by every feature's forms."""
from __future__ import annotations

import flask_wtf
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, StringField, TextAreaField

from .inputs import control_character


class FlaskForm(flask_wtf.FlaskForm):
    """Flask-WTF's form (it owns CSRF) that also refuses NUL and control characters in any text typed."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            multiline = isinstance(field, TextAreaField)
            if isinstance(field, StringField) and field.data and control_character(field.data, multiline):
                field.errors.append(_l("This field contains a control character; remove it."))
                valid = False
        return valid


def options(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for button-only POSTs."""
