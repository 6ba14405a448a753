"""Fixtures: the app on SQLite and on PostgreSQL, per-test rollback, a real SMTP server.

Every test that asks for ``app`` (or anything built on it) runs twice: once on
a SQLite file and once on the PostgreSQL server at 127.0.0.1 (override with
BALLOT_TEST_POSTGRES). Both are migrated to head by Alembic, as in
production. Each test runs inside a transaction that is rolled back; the
services' commits release savepoints within it.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import re
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

os.environ.pop("BALLOT_CONFIG", None)  # never the developer's demo configuration

from hypothesis import settings  # noqa: E402

# Timing is not what property tests check: no per-example deadline, which a
# loaded 2-core CI machine would otherwise turn into flaky failures.
settings.register_profile("ballot", deadline=None, print_blob=True)
settings.load_profile("ballot")

from ballot import create_app, sealing  # noqa: E402
from ballot.extensions import db, limiter  # noqa: E402
from ballot.unit_of_work import unit_of_work  # noqa: E402

TEST_ACTOR = "test"

POSTGRES_ADMIN = os.environ.get("BALLOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_SECRETS = {
    "SECRET_KEY": "test-secret-key",
    "BALLOT_LINK_SECRET": "test-link-secret",
    "BALLOT_TOKEN_SECRET": "test-token-secret",
    "BALLOT_SEALING_KEY": base64.urlsafe_b64encode(b"k" * 32).decode(),
    "BALLOT_SIGNING_KEY": sealing.new_signing_key_pem(),
}


@pytest.fixture(autouse=True)
def no_flask_cli_flag(monkeypatch):
    """`ballot` (a FlaskGroup) sets FLASK_RUN_FROM_CLI in the environment when a test invokes it: each test
    starts without it, and whatever a test sets is undone after it."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)


# Mail ---------------------------------------------------------------------------

@dataclass
class Inbox:
    """Messages received by the test SMTP server, parsed."""

    messages: list = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)  # each message's bytes as they came, in the same order
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
            self.received.append(envelope.original_content)
        return "250 OK"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.received.clear()

    def wire(self, message) -> bytes:
        """The bytes ``message`` arrived as."""
        return self.received[next(n for n, m in enumerate(self.messages) if m is message)]

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    @staticmethod
    def text(message) -> str:
        return message.get_body(("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(("html",)).get_content()

    def links(self, address: str, pattern: str = r"https://vote\.test/\S+") -> list[str]:
        return [link for m in self.to(address) for link in re.findall(pattern, self.text(m))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mail_server_for(handler):
    """An SMTP server on a free port of 127.0.0.1 whose messages ``handler`` takes, until the block ends."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_server():
    """The mail server of the test apps, and what it received (each test's ``inbox`` starts empty)."""
    inbox = Inbox()
    with mail_server_for(inbox) as controller:
        yield controller, inbox


@pytest.fixture
def inbox(smtp_server):
    _, box = smtp_server
    box.clear()
    return box


# Databases ------------------------------------------------------------------------

def postgres_database(name: str) -> str:
    """A fresh, empty PostgreSQL database; returns its SQLAlchemy URL."""
    drop_postgres_database(name)
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(database_url: str, smtp_port: int, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": "vote.test",
        "PREFERRED_URL_SCHEME": "https",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "BALLOT_MAIL_TRANSPORT": "smtp",
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail suppresses under TESTING; we want the real path
        "BALLOT_POLICY": "seed",
        # The `app` fixture keeps one transaction open around a whole test, idle while a browser or a
        # subprocess works: the server must not end it (test_postgresql_ends_an_abandoned_transaction).
        "BALLOT_PG_IDLE_IN_TRANSACTION_TIMEOUT": 900,
        **TEST_SECRETS,
        **overrides,
    }
    app = create_app(config)
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        yield "sqlite", f"sqlite:///{tmp_path_factory.mktemp('db') / 'ballot.sqlite3'}"
        return
    name = f"ballot_test_{os.getpid()}"
    yield "postgresql", postgres_database(name)
    drop_postgres_database(name)


@pytest.fixture(scope="session")
def database_app(backend, smtp_server):
    controller, _ = smtp_server
    app = make_app(backend[1], controller.port)
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def rolled_back(database_app):
    """The app inside one app context and one transaction that is rolled back at the end, with fresh rate limits.

    Whatever runs inside runs as a unit of work on behalf of "test", so that it
    can call services directly; the units of work of commands, requests and the
    worker commit savepoints inside the transaction. The limiter's counters are
    the process's, not the database's: they are emptied before and after.
    """
    with database_app.app_context():
        limiter.reset()
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            with unit_of_work(TEST_ACTOR):
                yield database_app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
            limiter.reset()


@pytest.fixture
def app(database_app):
    """The app for one test: nothing it writes, and no request it makes, outlives it (``rolled_back``)."""
    with rolled_back(database_app) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Committed data, for tests that need several connections or processes ------------

@pytest.fixture
def committed_app(backend, smtp_server, tmp_path):
    """An app on its own freshly migrated database, with real commits (no rollback)."""
    controller, _ = smtp_server
    kind, _ = backend
    name = f"ballot_committed_{os.getpid()}"
    url = f"sqlite:///{tmp_path / 'committed.sqlite3'}" if kind == "sqlite" else postgres_database(name)
    app = make_app(url, controller.port)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if kind == "postgresql":
        drop_postgres_database(name)
