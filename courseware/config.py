"""Configuration: working defaults, overridden by environment variables."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from . import resources


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        # Workers starting together must agree on one key: write aside, then link atomically.
        draft = instance_path / f".secret_key.{os.getpid()}"
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'courseware.db'}")
    # Accept the plain scheme operators copy from their PostgreSQL docs; we drive it with psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path: Path) -> dict:
    """Build the configuration mapping for an app whose instance folder is `instance_path`."""
    redis_url = os.environ.get("REDIS_URL")
    url = database_url(instance_path)
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "COURSE_DIR": os.environ.get("COURSE_DIR", str(resources.folder("lessons"))),
        "SIGNUP_ENABLED": _flag("SIGNUP_ENABLED", True),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;100 per hour"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per minute;30 per hour"),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SECURE_COOKIES", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("SECURE_COOKIES", False),
        "SESSION_DAYS": int(os.environ.get("SESSION_DAYS", "30")),
        "INVITATION_DAYS": int(os.environ.get("INVITATION_DAYS", "14")),
        "RESET_LINK_HOURS": int(os.environ.get("RESET_LINK_HOURS", "2")),
        "RESET_RATE_LIMIT": os.environ.get("RESET_RATE_LIMIT", "3 per hour"),  # reset mails per email or employee ID
        "WTF_CSRF_TIME_LIMIT": None,
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),  # without its trailing /: see create_app
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS", False),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "courseware@localhost"),
        "OUTBOX_MAX_ATTEMPTS": int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "12")),  # then a message is given up
        # Forwarding every learner statement to the company's LRS: off while XAPI_LRS_URL is empty.
        "XAPI_LRS_URL": os.environ.get("XAPI_LRS_URL", ""),  # its xAPI base, e.g. https://lrs.example.com/xAPI
        "XAPI_LRS_USERNAME": os.environ.get("XAPI_LRS_USERNAME", ""),  # HTTP Basic: the LRS's key or user name
        "XAPI_LRS_PASSWORD": os.environ.get("XAPI_LRS_PASSWORD", ""),  # and its secret or password
        "XAPI_LRS_BATCH": int(os.environ.get("XAPI_LRS_BATCH", "100")),  # a POST closes once it holds this many
        "XAPI_LRS_TIMEOUT": float(os.environ.get("XAPI_LRS_TIMEOUT", "20")),  # seconds to wait for its answer
        # Reading time: a lesson without `min_minutes` may be completed after this share of its
        # `minutes`; an open page reports every LESSON_HEARTBEAT_SECONDS while it is visible.
        "LESSON_MIN_SHARE": float(os.environ.get("LESSON_MIN_SHARE", "0.5")),
        "LESSON_HEARTBEAT_SECONDS": float(os.environ.get("LESSON_HEARTBEAT_SECONDS", "30")),
        "RECERTIFY_DAYS_BEFORE": int(os.environ.get("RECERTIFY_DAYS_BEFORE", "30")),
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "REPORT_CACHE_SECONDS": float(os.environ.get("REPORT_CACHE_SECONDS", "120")),
        "CONTENT_CHECK_SECONDS": float(os.environ.get("CONTENT_CHECK_SECONDS", "1")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        "MEDIA_MAX_BYTES": int(float(os.environ.get("MEDIA_MAX_MB", "10")) * 1024 * 1024),  # each picture or file of a course
        # Sign-in through the company's OpenID Connect provider: off while OIDC_ISSUER is empty.
        "OIDC_ISSUER": os.environ.get("OIDC_ISSUER", ""),
        "OIDC_CLIENT_ID": os.environ.get("OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET", ""),
        "OIDC_SCOPES": os.environ.get("OIDC_SCOPES", "openid email profile"),
        "OIDC_EMPLOYEE_ID_CLAIM": os.environ.get("OIDC_EMPLOYEE_ID_CLAIM", "employee_id"),
        "OIDC_DEPARTMENT_CLAIM": os.environ.get("OIDC_DEPARTMENT_CLAIM", "department"),  # a path: 销售部/华东区
        "OIDC_CREATE_USERS": _flag("OIDC_CREATE_USERS", False),
        "OIDC_GROUPS_CLAIM": os.environ.get("OIDC_GROUPS_CLAIM", "groups"),
        "OIDC_GROUP_ROLES": os.environ.get("OIDC_GROUP_ROLES", ""),  # "trainers=trainer,hr-team=hr"; never admin
        "OIDC_LABEL": os.environ.get("OIDC_LABEL", ""),  # the button's text; empty: "Company sign-in", translated
        "PASSWORD_LOGIN": _flag("PASSWORD_LOGIN", True),
        # Sign-in with the company's LDAP directory or Active Directory: off while LDAP_URL is empty.
        "LDAP_URL": os.environ.get("LDAP_URL", ""),  # ldaps://dc1.corp.example.com, or ldap://… with LDAP_STARTTLS
        "LDAP_STARTTLS": _flag("LDAP_STARTTLS", False),
        "LDAP_ALLOW_PLAINTEXT": _flag("LDAP_ALLOW_PLAINTEXT", False),
        "LDAP_CA_FILE": os.environ.get("LDAP_CA_FILE", ""),  # the company's CA; empty: the system's
        "LDAP_BIND_DN": os.environ.get("LDAP_BIND_DN", ""),  # the service account that searches; empty: anonymous
        "LDAP_BIND_PASSWORD": os.environ.get("LDAP_BIND_PASSWORD", ""),
        "LDAP_BASE_DN": os.environ.get("LDAP_BASE_DN", ""),
        "LDAP_USER_FILTER": os.environ.get(
            "LDAP_USER_FILTER", "(|(uid={login})(sAMAccountName={login})(mail={login})(employeeNumber={login}))"
        ),
        "LDAP_EMPLOYEE_ID_ATTRIBUTE": os.environ.get("LDAP_EMPLOYEE_ID_ATTRIBUTE", "employeeNumber"),
        "LDAP_EMAIL_ATTRIBUTE": os.environ.get("LDAP_EMAIL_ATTRIBUTE", "mail"),
        "LDAP_NAME_ATTRIBUTE": os.environ.get("LDAP_NAME_ATTRIBUTE", "displayName"),
        "LDAP_DEPARTMENT_ATTRIBUTE": os.environ.get("LDAP_DEPARTMENT_ATTRIBUTE", "department"),  # a path: 销售部/华东区
        "LDAP_CREATE_USERS": _flag("LDAP_CREATE_USERS", False),
        "LDAP_GROUP_BASE_DN": os.environ.get("LDAP_GROUP_BASE_DN", ""),  # empty: LDAP_BASE_DN
        "LDAP_GROUP_FILTER": os.environ.get("LDAP_GROUP_FILTER", "(|(member={dn})(uniqueMember={dn}))"),
        "LDAP_GROUP_ROLES": os.environ.get("LDAP_GROUP_ROLES", ""),  # "trainers=trainer,hr-team=hr" by group cn; never admin
    }
