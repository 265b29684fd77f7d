"""HR: staff import, assignments, completion records. Each view module adds its routes to `bp`."""
from flask import Blueprint

bp = Blueprint("hr", __name__, url_prefix="/hr")

from . import (  # noqa: E402,F401 - registers the routes
    assign,
    dashboard,
    exports,
    internal_customers,
    invitations,
    learners,
    lrs,
    staff,
)
