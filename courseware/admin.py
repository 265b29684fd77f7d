"""Administration: the people who use the platform and their roles."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from .access import admin_required
from .extensions import db
from .models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@admin_required
def users():
    people = db.session.scalars(select(User).order_by(User.name)).all()
    return render_template("admin/users.html", users=people)
