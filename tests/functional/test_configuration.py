"""Configuration from BALLOT_* environment variables, as a container deployment sets it."""

from __future__ import annotations

import os

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from ballot import create_app
from ballot.cli import new_secrets
from ballot.extensions import db, limiter
from ballot.policy import Policy, load_policy
from tests.conftest import TEST_SECRETS, make_app
from tests.functional.factories import run


def test_settings_come_from_ballot_environment_variables(monkeypatch, tmp_path):
    for name in [name for name in os.environ if name.startswith("BALLOT_")]:
        monkeypatch.delenv(name)
    secrets = new_secrets()
    secrets["BALLOT_TOKEN_SECRET"] = "12345678901234567890123"  # reads as a number, is a secret
    for name, value in secrets.items():
        monkeypatch.setenv(name if name.startswith("BALLOT_") else f"BALLOT_{name}", value)
    monkeypatch.setenv("BALLOT_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("BALLOT_MAIL_PORT", "2525")
    monkeypatch.setenv("BALLOT_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    app = create_app()
    try:
        assert {name: app.config[name] for name in secrets} == secrets, "each secret under its own name, as text"
        assert app.config["BALLOT_TRUSTED_PROXIES"] == 1 and app.config["MAIL_PORT"] == 2525
        assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite3")
        assert not {"LINK_SECRET", "TRUSTED_PROXIES", "TOKEN_SECRET"} & set(app.config)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_production_example_serves_with_secrets_from_the_environment(monkeypatch, database_app):
    """config/production.example.py as documented: secrets and database from the environment, the
    limiter's counters in Redis, one proxy in front, HTTPS. (Limits across processes: test_rate_limits.)"""
    from ballot import ROOT

    for name in [name for name in os.environ if name.startswith("BALLOT_")]:
        monkeypatch.delenv(name)
    for name, value in new_secrets().items():
        monkeypatch.setenv(name if name.startswith("BALLOT_") else f"BALLOT_{name}", value)
    monkeypatch.setenv("BALLOT_CONFIG", str(ROOT / "config" / "production.example.py"))
    monkeypatch.setenv("BALLOT_SQLALCHEMY_DATABASE_URI", database_app.config["SQLALCHEMY_DATABASE_URI"])
    app = create_app()
    try:
        assert type(limiter.storage).__name__ == "RedisStorage" and limiter.storage.check(), "Redis answers"
        page = app.test_client().get("/link-again", base_url="https://vote.python.org",
                                     headers={"X-Forwarded-For": "203.0.113.7"})
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in page.headers["Set-Cookie"]
    finally:
        with app.app_context():
            db.engine.dispose()
        limiter.init_app(database_app)  # the extension is shared: give the test app its own store back


def test_postgresql_ends_an_abandoned_transaction(backend, smtp_server):
    """An app process that stops mid-transaction (frozen, or its host lost without closing the connection)
    must not hold a vote's row lock for good: PostgreSQL ends the idle transaction and its locks go."""
    kind, url = backend
    app = make_app(url, smtp_server[0].port, BALLOT_PG_IDLE_IN_TRANSACTION_TIMEOUT=1)
    with app.app_context():
        try:
            if kind == "sqlite":
                assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
                pytest.skip("SQLite: a lost process's lock goes with the process (the file lock)")
            with db.engine.connect() as conn:
                assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "1s"
                assert conn.execute(text("SHOW tcp_keepalives_idle")).scalar() == "30"
            abandoned = db.engine.connect()
            abandoned.begin()
            abandoned.execute(text("SELECT pg_advisory_xact_lock(4242)"))  # a lock, then silence
            plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(plain, autocommit=True) as other:
                other.execute("SET lock_timeout = '20s'")
                other.execute("SELECT pg_advisory_lock(4242)")  # waits until the server ends the other
                other.execute("SELECT pg_advisory_unlock(4242)")  # granted: the abandoned one is gone
            with pytest.raises(Exception, match="idle-in-transaction"):
                abandoned.execute(text("SELECT 1"))
            abandoned.invalidate()
        finally:
            db.engine.dispose()


def test_an_installation_that_names_no_policy_follows_the_seed(monkeypatch, tmp_path):
    """docs/DOMAIN.md: "Keep every such number and switch in one policy configuration with the seed model as
    the default." An installation with its secrets and a database, and no other setting."""
    for name in [name for name in os.environ if name.startswith("BALLOT_")]:
        monkeypatch.delenv(name)
    app = create_app({**TEST_SECRETS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})
    try:
        with app.app_context():
            upgrade()
            opened = run(app.test_cli_runner(), "period", "open", "2031")
        assert Policy.from_dict(opened["policy"]) == load_policy("seed")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
