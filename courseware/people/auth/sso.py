"""Signing in through the company's OpenID Connect provider (404 while `OIDC_ISSUER` is unset)."""
from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from joserfc.errors import JoseError
from requests import RequestException

from ...inputs import safe_next
from .. import oidc, sessions
from ..company_accounts import SignInRefused
from . import bp

NEXT = "sso_next"


@bp.get("/login/sso")
def sso_login():
    provider = oidc.client() or abort(404)
    session[NEXT] = safe_next(request.args.get("next"))
    # From PUBLIC_URL, never the request's Host: the provider sends the code wherever this says.
    callback = current_app.config["PUBLIC_URL"] + url_for("auth.sso_callback")
    try:
        return provider.authorize_redirect(callback)  # adds state, nonce and a PKCE challenge (S256)
    except (OAuthError, RequestException, ValueError) as error:  # provider unreachable or its metadata broken
        current_app.logger.warning("OpenID Connect provider unavailable: %s", error)
        return _failed(_l("The company sign-in service cannot be reached. Try again later, or log in with your password."), 503)


@bp.get("/login/sso/callback")
def sso_callback():
    provider = oidc.client() or abort(404)
    try:
        token = provider.authorize_access_token()  # checks state, then the ID token's signature and nonce
    except (OAuthError, JoseError, RequestException, RuntimeError, ValueError, KeyError) as error:
        current_app.logger.warning("OpenID Connect sign-in failed: %s", error)
        return _failed(_l("The company sign-in did not succeed or has expired. Please try again."), 400)
    claims = token.get("userinfo")
    if not claims:
        return _failed(_l("The company sign-in did not succeed or has expired. Please try again."), 400)
    try:
        user = oidc.sign_in(dict(claims))
    except SignInRefused as refused:
        return _failed(refused.message, refused.code)
    sessions.sign_in(user)
    return redirect(safe_next(session.pop(NEXT, None)))


def _failed(message, code: int):
    return render_template("auth/sso_failed.html", message=message), code
