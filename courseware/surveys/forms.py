"""Forms: HR's survey round, the employee's screener, and one rating of one department."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import FlaskForm, options
from ..hr.assignments import today
from ..inputs import within_window
from ..models import SCORES
from .answering import MAX_COMMENT
from .rounds import DEFAULT_THRESHOLD, SCORE_PARTS, THRESHOLD_RANGE


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def not_in_the_past(form, field: DateField) -> None:
    if field.data and field.data < today():
        raise ValidationError(_l("The survey cannot open in the past."))


def not_before_opening(form, field: DateField) -> None:
    if field.data and form.opens_on.data and field.data < form.opens_on.data:
        raise ValidationError(_l("The survey must close on or after the day it opens."))


class RoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    opens_on = DateField(_l("Opens on"), validators=[DataRequired(), within_window, not_in_the_past])
    closes_on = DateField(_l("Closes on (the last day answers are taken)"), validators=[DataRequired(), within_window, not_before_opening])
    departments = CheckboxesField(
        _l("Departments to be rated"), coerce=int,
        validators=[DataRequired(_l("Choose at least one department to be rated."))],
    )
    threshold = IntegerField(
        _l("Anonymity threshold: fewest answers behind any figure or comment shown"), default=DEFAULT_THRESHOLD,
        validators=[InputRequired(), NumberRange(*THRESHOLD_RANGE, _l("Choose a threshold from %(min)s to %(max)s answers."))],
    )
    comment_enabled = BooleanField(_l("Ask for a comment"), default=True)
    comment_text = StringField(_l("Comment question"), validators=[Optional(), Length(max=300)])

    def score_fields(self, key: str):
        """The question's text, and the anchors of 1 and 5."""
        return [self[f"{key}_{part}"] for part in SCORE_PARTS]

    def texts(self) -> dict[str, dict[str, str]]:
        return {key: {part: self[f"{key}_{part}"].data or "" for part in SCORE_PARTS} for key in SCORES}


PART_LABELS = {"text": _l("Question"), "low": _l("1 means"), "high": _l("5 means")}
for _key in SCORES:
    for _part in SCORE_PARTS:
        setattr(RoundForm, f"{_key}_{_part}", StringField(PART_LABELS[_part], validators=[DataRequired(), Length(max=300)]))


SCALE = options([(n, str(n)) for n in range(1, 6)])


def rating_form(questions, comment: str | None) -> type[FlaskForm]:
    """A form class for one department's rating: a 1–5 choice per question (blank allowed where the
    question is optional), and the comment when the round asks for one. Each department's form on
    the page takes its own prefix; the department itself travels in a plain hidden field."""

    class RatingForm(FlaskForm):
        pass

    for question in questions:
        validators = [Optional()] if question.optional else [InputRequired(_l("Give an overall rating from 1 to 5."))]
        setattr(RatingForm, question.key, RadioField(question.text, choices=SCALE, coerce=int, validators=validators))
    if comment is not None:
        RatingForm.comment = TextAreaField(comment, validators=[Optional(), Length(max=MAX_COMMENT)])
    return RatingForm
