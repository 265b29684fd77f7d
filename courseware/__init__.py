"""Courseware: an e-learning platform for internal customer service awareness."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, make_url
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cli, first_start, hr, i18n, inputs, pieces, postgres, resources, studio, surveys, system
from .access import refuse_unlisted_routes
from .config import from_environment
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .hr import xapi
from .learning import aids, certificates, learn
from .learning import media as course_media
from .learning import plans, quizzes, scenarios
from .people import admin, auth, directory, oidc, sessions
from .publishing import NoCoursePublished

PACKAGE_DIR = Path(__file__).resolve().parent
LANGUAGES = pieces.LANGUAGES
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → database → accounts → i18n → security → pages → commands."""
    config = config or {}
    instance_path = Path(
        config.get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or resources.default_instance_path()
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=resources.folder("templates"),
        static_folder=resources.folder("static"),
    )
    app.config.from_mapping(from_environment(instance_path))
    app.config.update(config)
    app.config["PUBLIC_URL"] = app.config["PUBLIC_URL"].rstrip("/")  # links append paths that start with /

    _init_database(app)
    _init_accounts(app)
    _init_i18n(app)
    _init_security(app)
    _register_blueprints(app)
    _register_error_pages(app)
    cli.register(app)
    if app.config.get("PROXY_COUNT"):
        # Behind N trusted reverse proxies: take the client's address and scheme from their headers,
        # so rate limits count per learner, not per proxy.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    return app


def _init_database(app: Flask) -> None:
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql":
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**postgres.ENGINE_OPTIONS, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
        elif db.engine.dialect.name == "postgresql":
            postgres.init_engine(db.engine)
    # Before every other hook, so a database nobody has set up yet gets a page saying what to run.
    app.before_request(first_start.refuse_until_set_up)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Use WAL (readers never block the writer), wait for locks, and enforce foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _init_accounts(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(sessions.load)
    app.add_template_global(sessions.viewer)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    oidc.init_app(app)  # sign-in through the company's OpenID Connect provider, when OIDC_ISSUER is set
    directory.init_app(app)  # refuses an LDAP_URL that would send passwords in clear text


def _select_locale() -> str:
    viewer = sessions.viewer()
    if viewer is not None and viewer.locale in LANGUAGES:
        return viewer.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return "zh"


def _init_i18n(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PACKAGE_DIR / "translations")
    babel.init_app(app, locale_selector=_select_locale)
    i18n.install(app.jinja_env)
    app.add_template_global(pieces.frame)
    app.add_template_global(pieces.hole)

    @app.context_processor
    def language() -> dict[str, Any]:
        locale = str(get_locale())
        return {"html_lang": "zh-CN" if locale == "zh" else locale, "locale": locale}


def _init_security(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    _skip_limits_for_page_views(app)
    # Before any route is added: every `<int:…>` then refuses ids no database column holds.
    app.url_map.converters["int"] = inputs.IdConverter
    app.before_request(inputs.refuse_nul_bytes)
    app.before_request(refuse_unlisted_routes)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def _skip_limits_for_page_views(app: Flask) -> None:
    """Every limit guards a form post or a password sent with the request (HTTP Basic on the xAPI), so a
    page view (GET or HEAD without credentials) cannot spend one: it skips the limiter's check, which
    cost every page about as much as reading the learner's progress."""
    hooks = app.before_request_funcs.get(None, [])
    check = limiter._check_request_limit
    if check not in hooks:  # limits are off (RATELIMIT_ENABLED)
        return

    def check_unless_page_view() -> None:
        if request.method in ("GET", "HEAD") and request.authorization is None:
            return None
        return check()

    hooks[hooks.index(check)] = check_unless_page_view


def _register_blueprints(app: Flask) -> None:
    for module in (auth, learn, quizzes, scenarios, certificates, aids, plans, course_media, hr, studio, surveys, xapi, admin, system):
        app.register_blueprint(module.bp)


def _register_error_pages(app: Flask) -> None:
    def error_page(code: int):
        return lambda error: (render_template("errors/error.html", code=code, message=_reason(error)), code)

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, error_page(code))

    @app.errorhandler(NoCoursePublished)
    def no_course(error: NoCoursePublished):
        return render_template("learn/empty.html")

    @app.errorhandler(DataError)  # PostgreSQL refusing a value
    @app.errorhandler(OverflowError)  # SQLite (or a date) refusing one
    def unstorable_value(error: DataError | OverflowError):
        # A value the checks in inputs.py missed: a NUL, a number or date out of the column's range.
        db.session.rollback()
        app.logger.warning("refused a value that cannot be stored: %s", getattr(error, "orig", error))
        message = _l("The request contains a value that cannot be stored (too large, or with a NUL character). Check what you entered and try again.")
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(CSRFError)
    def csrf_expired(error: CSRFError):
        message = _l("The form had expired or was sent from another page. Go back, reload and try again.")
        return render_template("errors/error.html", code=400, message=message), 400


def _reason(error) -> str | None:
    """The reason given by `abort(400, description=…)`; never werkzeug's stock English text."""
    if type(error) is BadRequest and error.description != BadRequest.description:
        return error.description
    return None
