"""Internal-customer surveys: HR's rounds, employees' anonymous ratings of the departments they work
with, results with an anonymity threshold, and the improvement plans that close the loop.

Each view module adds its routes to `bp`.
"""
from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/surveys")

from . import results_views, views  # noqa: E402,F401 - registers the routes
