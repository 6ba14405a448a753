"""ballot: secret-ballot voting for membership organisations."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from email.utils import parseaddr
from pathlib import Path

from flask import Flask, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer
from limits.errors import StorageError
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from ballot import request_size, unit_of_work
from ballot.errors import BallotError, PolicyInvalid, TokenExpired, TokenInvalid
from ballot.extensions import csrf, db, limiter, mail, migrate, serialise_sqlite_transactions
from ballot.trustees.services import installation_trustees

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_SECRETS = (
    "SECRET_KEY",
    "BALLOT_LINK_SECRET",
    "BALLOT_TOKEN_SECRET",
    "BALLOT_SEALING_KEY",
    "BALLOT_SIGNING_KEY",
)


def postgresql_session_options(config) -> dict:
    """On PostgreSQL, settings of each session that free a lost app process's locks: the server ends a
    transaction left idle (BALLOT_PG_IDLE_IN_TRANSACTION_TIMEOUT) and probes a silent connection
    (BALLOT_PG_KEEPALIVE_IDLE), so that an app host lost mid-transaction (a power cut) does not hold
    a vote's row lock, and with it every close and cast of that vote, until TCP gives up hours later."""
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return {}
    options = {}
    for name, setting, unit in [("BALLOT_PG_IDLE_IN_TRANSACTION_TIMEOUT", "idle_in_transaction_session_timeout", "s"),
                                ("BALLOT_PG_KEEPALIVE_IDLE", "tcp_keepalives_idle", "")]:
        seconds = config[name]
        if type(seconds) is not int or seconds < 0:
            raise PolicyInvalid(f"{name} must be a whole number of seconds, 0 (off) or more (not {seconds!r})")
        options[setting] = f"{seconds}{unit}"
    connect_args = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}))
    given = connect_args.get("options", "")
    connect_args["options"] = " ".join([given, *(f"-c {k}={v}" for k, v in options.items())]).strip()
    return {"connect_args": connect_args}


def create_app(config: dict | None = None) -> Flask:
    """The only place that knows every part of the service.

    Configuration, in order: config/default.py, the file named by
    BALLOT_CONFIG (`make run` writes instance/dev.py for the demo),
    BALLOT_* environment variables, then ``config``.
    """
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_relative_config=True)
    app.config.from_pyfile(str(ROOT / "config" / "default.py"))
    app.config.from_envvar("BALLOT_CONFIG", silent=True)
    _settings_from_environment(app)
    app.config.update(config or {})
    missing = [name for name in REQUIRED_SECRETS if not app.config.get(name)]
    if missing:
        raise PolicyInvalid(
            f"missing secrets: {', '.join(missing)}. Generate them with `ballot secrets` "
            "and set them in the file named by BALLOT_CONFIG."
        )
    host = app.config["SERVER_NAME"].split(":")[0]
    # Flask's defaults hold TRUSTED_HOSTS = None, so setdefault would never apply.
    if not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [host]
    proxies = app.config["BALLOT_TRUSTED_PROXIES"]
    if type(proxies) is not int or proxies < 0:
        raise PolicyInvalid(f"BALLOT_TRUSTED_PROXIES must be a whole number of proxies, 0 or more (not {proxies!r})")
    if proxies:
        # Flask's documented way to add WSGI middleware; its types declare wsgi_app a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    installation_trustees(app.config)  # a malformed BALLOT_TRUSTEES stops the service here
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # SQL parameters hold ballot tokens, receipts and right ids: keep them out
    # of SQL logs and error messages, whatever the logging configuration.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        "hide_parameters": True,
        **postgresql_session_options(app.config),
    }
    # The rate limits' store failing raises one error type, whatever the store: pages answer it with a 503.
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        "wrap_exceptions": True,
    }

    app.session_interface = SessionCookies()
    db.init_app(app)
    with app.app_context():
        serialise_sqlite_transactions(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    mail.init_app(app)
    request_size.init_app(app)  # before the CSRF check, which reads the form
    csrf.init_app(app)
    limiter.init_app(app)
    _register_models()

    from ballot.admin.views import bp as admin_bp
    from ballot.eligibility.views import bp as eligibility_bp
    from ballot.votes.views import bp as votes_bp

    app.register_blueprint(eligibility_bp)
    app.register_blueprint(votes_bp)
    app.register_blueprint(admin_bp)

    from ballot import commands

    commands.register(app)
    _security_headers(app)
    # After the headers hook, so that it runs first: a failed commit's error page gets the headers too.
    unit_of_work.init_app(app)
    _error_pages(app)
    _template_filters(app)
    _redact_tokens_in_logs()
    return app


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie (it holds the CSRF token), its signing serializer made once per secret:
    Flask makes one each time it reads or writes the cookie, twice for a ballot page."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        secrets = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if secrets not in self._serializers:
            self._serializers[secrets] = super().get_signing_serializer(app)
        return self._serializers[secrets]


def _settings_from_environment(app: Flask) -> None:
    """BALLOT_* environment variables, values parsed as JSON where they parse (else strings).

    The service's own settings keep their name (``BALLOT_LINK_SECRET``); any
    other takes the name after the prefix (``BALLOT_SECRET_KEY`` sets
    ``SECRET_KEY``, ``BALLOT_SQLALCHEMY_DATABASE_URI`` the database).
    """
    own = {name for name in app.config if name.startswith("BALLOT_")} | set(REQUIRED_SECRETS)
    for variable in sorted(os.environ):
        if not variable.startswith("BALLOT_") or variable == "BALLOT_CONFIG":
            continue
        name = variable if variable in own else variable.removeprefix("BALLOT_")
        value = os.environ[variable]
        if name not in REQUIRED_SECRETS:  # a secret is text, even one that reads as a number
            try:
                value = json.loads(value)
            except ValueError:
                pass
        app.config[name] = value


def _register_models() -> None:
    # Importing the models registers their tables with the metadata.
    import ballot.admin.models  # noqa: F401
    import ballot.audit.models  # noqa: F401
    import ballot.eligibility.models  # noqa: F401
    import ballot.outbox.models  # noqa: F401
    import ballot.roster.models  # noqa: F401
    import ballot.trustees.models  # noqa: F401
    import ballot.votes.models  # noqa: F401
    import ballot.worker.models  # noqa: F401


def _security_headers(app: Flask) -> None:
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["Referrer-Policy"] = "no-referrer"  # links carry tokens
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config["PREFERRED_URL_SCHEME"] == "https":
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response


def _error_pages(app: Flask) -> None:
    """Every error answers with a page, and abandons the request's unit of work: nothing is kept."""

    @app.errorhandler(BallotError)
    def ballot_error(exc: BallotError):
        unit_of_work.abandon()
        status = exc.status if 400 <= exc.status < 500 else 400
        # Links sent again help only with a link that is damaged or expired.
        link_again = isinstance(exc, (TokenInvalid, TokenExpired))
        return render_template("error.html", message=str(exc), status=status, link_again=link_again), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        unit_of_work.abandon()
        message = "This form has expired or was not sent from this site. Go back, reload the page and try again."
        return render_template("error.html", message=message, status=400), 400

    @app.errorhandler(SecurityError)
    def untrusted_host(exc: SecurityError):
        unit_of_work.abandon()
        # A Host header other than SERVER_NAME: no URL can be built for it, so no page either.
        return "Bad request: this address is not served here.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(StorageError)
    def rate_limits_unavailable(exc: StorageError):
        # Fail closed: a limited page (signing in, links sent again) is refused while its limit cannot be
        # checked, rather than served without one.
        unit_of_work.abandon()
        app.logger.error("the rate limits' store is unreachable (%s: %s); refused %s %s with 503",
                         type(exc.storage_error).__name__, exc.storage_error, request.method, request.path)
        message = ("This service cannot check its request limits right now, so it cannot do this for the moment. "
                   "Nothing was recorded; please try again in a few minutes.")
        return render_template("error.html", message=message, status=503), 503, {"Retry-After": "120"}

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):
        unit_of_work.abandon()
        limit = request.max_content_length
        message = (f"This request is too large: this page accepts at most {limit / 2**20:g} MiB. "
                   "Nothing was recorded." if limit else "This request is too large. Nothing was recorded.")
        return render_template("error.html", message=message, status=413), 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        unit_of_work.abandon()
        return render_template("error.html", message=exc.description, status=exc.code), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        unit_of_work.abandon()
        app.logger.exception("unexpected error")
        message = "Something went wrong on our side. Nothing was recorded; please try again later."
        return render_template("error.html", message=message, status=500), 500


def _template_filters(app: Flask) -> None:
    from ballot.votes.rules import kind_label

    app.add_template_filter(kind_label)

    web_address = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")

    @app.template_filter()
    def linkify(text: str) -> Markup:
        """Plain text, escaped, with its web addresses made links (a vote's description)."""
        escaped = str(escape(text))
        return Markup(web_address.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))

    @app.template_filter()
    def sentence(text: str) -> str:
        """A message as a sentence: a capital first, a full stop last (services' messages serve commands too)."""
        text = str(text).strip()
        if not text:
            return text
        text = text[0].upper() + text[1:]
        return text if text[-1] in ".!?:" else text + "."

    @app.context_processor
    def election_contact() -> dict:
        """Whom voters write to when something is wrong, on every page and in every message."""
        address = app.config.get("BALLOT_CONTACT_ADDRESS") or app.config["MAIL_DEFAULT_SENDER"]
        if isinstance(address, (tuple, list)):
            address = address[1]
        return {"election_contact": _bare_address(address)}


@functools.lru_cache(maxsize=16)
def _bare_address(address: str) -> str:
    """``elections@example.org`` from ``PSF Elections <elections@example.org>``: every page and message asks."""
    return parseaddr(address)[1] or address


class RedactTokens(logging.Filter):
    """Removes signed tokens and receipts from logged request lines: links must not end up in logs,
    nor receipts (the results page's check puts one in its query string)."""

    PATTERN = re.compile(r"/(opt-in|standing|ballot)/[^\s/?\"]+")
    RECEIPT = re.compile(r"([?&]receipt=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = ()
        record.msg = self.PATTERN.sub(r"/\1/[redacted]", str(record.msg))
        record.msg = self.RECEIPT.sub(r"\1[redacted]", record.msg)
        return True


class DropSQLRows(logging.Filter):
    """Drops the result rows SQLAlchemy logs at DEBUG: they hold tokens, receipts, links and right ids.

    Statements are still logged; their parameters are hidden by ``hide_parameters``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).endswith("Row %r")


def _redact_tokens_in_logs() -> None:
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    sql = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, DropSQLRows) for f in sql.filters):
        sql.addFilter(DropSQLRows())
