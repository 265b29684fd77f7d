"""Trainer studio: edit, preview, publish and roll back the course; exchange files; see what learners did.

Each view module adds its routes to `bp`.
"""
from flask import Blueprint

from ..access import roles_required
from ..models import Role
from .messages import translated

bp = Blueprint("studio", __name__, url_prefix="/studio")
bp.add_app_template_filter(translated)  # {{ error|translated }}: compiler errors and lint warnings in the interface's language
trainer_required = roles_required(Role.TRAINER)

from . import editor, exchange, media, revisions  # noqa: E402,F401 - registers the routes
from .analytics import views  # noqa: E402,F401 - registers the routes
