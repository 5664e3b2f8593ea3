"""Emarge: the application factory."""

from __future__ import annotations

import logging
import os
import secrets
from urllib.parse import urlsplit

from flask import Flask

logger = logging.getLogger(__name__)

PRODUCTION = "production"


class ConfigError(RuntimeError):
    pass


class Emarge(Flask):
    def create_url_adapter(self, request):
        """Outside a request (a job, a CLI command) links are built on ``PUBLIC_BASE_URL``: ``url_for`` and the
        mail templates work the same, and no fake request is ever made. Inside one, Flask's own adapter."""
        adapter = super().create_url_adapter(request)
        if adapter is None and request is None and self.config.get("PUBLIC_BASE_URL"):
            base = urlsplit(self.config["PUBLIC_BASE_URL"])
            adapter = self.url_map.bind(
                base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
            )
        return adapter


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _database_url(url: str) -> str:
    # psycopg 3 is the driver; accept the URLs operators usually have.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(app: Flask, env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == PRODUCTION:
        raise ConfigError("SECRET_KEY must be set in production (EMARGE_ENV=production)")
    # Embedded default: generated once and kept, so sessions survive a restart.
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        os.makedirs(app.instance_path, exist_ok=True)
        with open(path, "x") as f:
            f.write(secrets.token_hex(32))
        os.chmod(path, 0o600)
    with open(path) as f:
        return f.read().strip()


def _key_fallbacks() -> list[str]:
    # Comma-separated, any order: every key listed still verifies what it signed (see blueprints/web/keys.py).
    return [key.strip() for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]


def _check_mail(config: dict) -> None:
    """In production an email must really leave: no silent outbox unless asked for."""
    if (
        config.get("EMARGE_ENV") == PRODUCTION
        and not config.get("MAIL_SERVER")
        and not config.get("MAIL_OUTBOX")
    ):
        raise ConfigError(
            "MAIL_SERVER must be set in production (EMARGE_ENV=production); set MAIL_OUTBOX=1 to keep emails "
            "in instance/outbox/ instead"
        )


def _sms_sender(value: str | None) -> str:
    from blueprints.shared.sms import check_sender

    try:
        return check_sender(value)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def load_config(app: Flask) -> dict:
    """Settings from the environment, read when the app is made, never at import."""
    env = os.environ.get("EMARGE_ENV", "development")
    return {
        "EMARGE_ENV": env,
        "SECRET_KEY": _secret_key(app, env),
        "SECRET_KEY_FALLBACKS": _key_fallbacks(),
        # Proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none, the default).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "SQLALCHEMY_DATABASE_URI": _database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{os.path.join(app.instance_path, 'platform.db')}"
        ),
        # DATABASE_URL goes through a pooler in transaction mode (PgBouncer): no server-side prepared statement.
        "DATABASE_TRANSACTION_POOLER": _env_bool("DATABASE_TRANSACTION_POOLER"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Erasures, kept apart so that a restored backup cannot bring an erased person back (blueprints/rights).
        "ERASURE_LEDGER_URL": _database_url(
            os.environ.get("ERASURE_LEDGER_URL")
            or f"sqlite:///{os.path.join(app.instance_path, 'erasure-ledger.db')}"
        ),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "AUDIT_GUARD": os.environ.get("AUDIT_GUARD", "log"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_OUTBOX": _env_bool("MAIL_OUTBOX"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Emarge <no-reply@emarge.localhost>"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "20")),
        "SESSION_COOKIE_SECURE": env == PRODUCTION or _env_bool("SESSION_COOKIE_SECURE"),
        "MIGRATE_JOBS": int(os.environ.get("MIGRATE_JOBS", "4")),
        # How quickly an RQ worker notices another one died (jobs/worker.py): seconds.
        "WORKER_TICK": int(os.environ.get("WORKER_TICK", "10")),
        "WORKER_MONITORING_INTERVAL": int(os.environ.get("WORKER_MONITORING_INTERVAL", "10")),
        "WORKER_HEARTBEAT_GRACE": int(os.environ.get("WORKER_HEARTBEAT_GRACE", "15")),
        # SMS: without a gateway URL, SMS are kept in the app (development adapter); see blueprints/shared/sms.py.
        "SMS_GATEWAY_URL": os.environ.get("SMS_GATEWAY_URL") or None,
        "SMS_GATEWAY_USER": os.environ.get("SMS_GATEWAY_USER") or None,
        "SMS_GATEWAY_PASSWORD": os.environ.get("SMS_GATEWAY_PASSWORD") or None,
        "SMS_GATEWAY_TOKEN": os.environ.get("SMS_GATEWAY_TOKEN") or None,
        "SMS_SENDER": _sms_sender(os.environ.get("SMS_SENDER")),
        "SMS_RECEIPT_SECRET": os.environ.get("SMS_RECEIPT_SECRET") or None,
        "SMS_TIMEOUT": float(os.environ.get("SMS_TIMEOUT", "10")),
    }


DEFAULTS = {
    "SESSION_COOKIE_NAME": "emarge_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # The remember-me cookie is Emarge's own (blueprints/accounts/auth.py): Flask-Login's is never set.
    # A page left open all day must still post: the token lives as long as the session.
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": False,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "LANGUAGES": ("fr", "en"),
    "MAX_CONTENT_LENGTH": 60 * 1024 * 1024,
    "JOBS_EAGER": False,
    "SECRET_KEY_FALLBACKS": [],
    "TRUSTED_PROXIES": 0,
    "MAIL_OUTBOX": False,
}


def _behind_transaction_pooler(config) -> None:
    """Behind PgBouncer in transaction mode each transaction may run on another server connection: psycopg must
    not prepare statements (PgBouncer 1.18 does not carry them over). Nothing else needs a change: schema names
    are written into the SQL (``schema_translate_map``), no session setting is ever made, and advisory locks
    are transaction-scoped."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def create_app(config: dict | None = None) -> Flask:
    app = Emarge(
        __name__, instance_path=os.environ.get("EMARGE_INSTANCE") or None, instance_relative_config=True
    )
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(DEFAULTS)
    app.config.update(load_config(app) if not (config and config.get("SKIP_ENV")) else {})
    app.config.update(config or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _check_mail(app.config)
    if app.config.get("AUDIT_GUARD", "log") not in ("log", "raise"):
        raise ConfigError(f"AUDIT_GUARD must be log or raise, not {app.config['AUDIT_GUARD']!r}")

    import tenants
    from blueprints import register_areas, register_blueprints
    from blueprints.web import init_web
    from jobs import init_jobs
    from tenants.db import configure_engine, db

    register_areas()
    if app.config.get("DATABASE_TRANSACTION_POOLER") and app.config["SQLALCHEMY_DATABASE_URI"].startswith(
        "postgresql"
    ):
        _behind_transaction_pooler(app.config)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    tenants.init_app(app)
    init_web(app)
    init_jobs(app)
    register_blueprints(app)
    # The job families that subscribe to the failure hook (jobs.on_job_failure).
    import jobs.diagnostics
    import jobs.messages
    import jobs.tasks  # noqa: F401

    if app.config["TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Outermost, so every layer below (the live poll's fast path included) sees the client's address.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app
