"""The studio's forms; Flask-WTF handles CSRF for each."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..content.compiler import MAX_FILE_CHARS
from ..forms import FlaskForm
from .drafts import normalise_text

MAX_SOURCE_CHARS = MAX_FILE_CHARS


class EditForm(FlaskForm):
    # Browsers send a line break as CRLF but count it as one character against maxlength.
    text = TextAreaField(
        _l("Source"), filters=[lambda text: normalise_text(text) if text else text], validators=[Length(max=MAX_SOURCE_CHARS)]
    )
    version = HiddenField(default="0")


class NewFileForm(FlaskForm):
    kind = SelectField(_l("What to add"), validators=[DataRequired()])
    folder = SelectField(_l("Module folder"), validators=[Optional()])
    name = StringField(
        _l("File name"), validators=[DataRequired(), Length(max=100)],
        description=_l("Letters, digits and '-', e.g. 05-new-lesson or new-module."),
    )


class PublishForm(FlaskForm):
    note = StringField(_l("What changed (for the revision history)"), validators=[Length(max=255)])


class UploadForm(FlaskForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired(), FileAllowed(["zip", "md", "yaml", "yml"], _l("Upload a .zip, .md or .yaml file."))],
    )
    folder = SelectField(_l("Module folder (for a single lesson file)"), validators=[Optional()])


class GiftImportForm(FlaskForm):
    file = FileField(_l("GIFT file"), validators=[FileAllowed(["gift", "txt"], _l("Upload a .gift or .txt file."))])
    text = TextAreaField(_l("…or paste GIFT text"), validators=[Length(max=MAX_SOURCE_CHARS)])
    quiz = SelectField(_l("Add the questions to"), validators=[DataRequired()])


class MediaUploadForm(FlaskForm):
    file = FileField(_l("Picture or file"), validators=[FileRequired(_l("Choose a picture or file to upload."))])
    name = StringField(
        _l("Name in the course (optional)"), validators=[Optional(), Length(max=100)],
        description=_l("Letters, digits, '-', '_' and '.', e.g. customer-map.png. Left empty: the file's own name."),
    )
    replace = HiddenField()  # the name of the picture or file this upload replaces
    version = HiddenField(default="0")


class MediaChangeForm(FlaskForm):
    name = HiddenField(validators=[DataRequired()])
    version = HiddenField(default="0")
