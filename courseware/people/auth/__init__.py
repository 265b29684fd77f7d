"""The person's own doors: log in and out, sign up, choose or change a password.

Each view module adds its routes to `bp`.
"""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import login, passwords, signup, sso  # noqa: E402,F401 - registers the routes
