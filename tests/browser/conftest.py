"""The real app served over HTTP, and Debian's Chromium driven by Playwright.

Browsers cannot be downloaded here: Playwright drives /usr/bin/chromium
(`make test` installs it with apt) and never runs `playwright install`. The
accessibility checks inject axe-core, which `make test` installs from npm into
.cache/npm. Without either, the browser tests are skipped, except under CI,
where they fail.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from ballot.extensions import db, limiter
from tests.conftest import drop_postgres_database, make_app, postgres_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BALLOT_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def missing(what: str) -> None:
    message = f"{what}; `make test` installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    if not CHROMIUM.exists():
        missing(f"the browser tests need Debian's Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def axe_script() -> Path:
    if not AXE.exists():
        missing(f"the accessibility checks need axe-core at {AXE}")
    return AXE


@dataclass
class Site:
    """The app as a browser sees it: its base URL, and the app for the administrator's commands."""

    app: Flask
    url: str

    @property
    def link_pattern(self) -> str:
        """Links in mail to this site."""
        return re.escape(self.url) + r"/\S+"


@contextmanager
def served(database_url: str, smtp_port: int):
    """The real app on a freshly migrated database, served by a werkzeug thread on 127.0.0.1.

    Links in mail are built from SERVER_NAME, so it names the server's port, over
    plain http (hence cookies without the Secure flag).
    """
    app = make_app(database_url, smtp_port, SERVER_NAME="127.0.0.1", PREFERRED_URL_SCHEME="http",
                   SESSION_COOKIE_SECURE=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["SERVER_NAME"] = f"127.0.0.1:{server.server_port}"
    with app.app_context():
        limiter.reset()
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield Site(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def site(backend, smtp_server, tmp_path):
    """The served app, once on SQLite and once on PostgreSQL."""
    controller, _ = smtp_server
    kind, _ = backend
    if kind == "sqlite":
        with served(f"sqlite:///{tmp_path / 'served.sqlite3'}", controller.port) as site:
            yield site
        return
    name = f"ballot_browser_{os.getpid()}"
    with served(postgres_database(name), controller.port) as site:
        yield site
    drop_postgres_database(name)


@pytest.fixture
def sqlite_site(smtp_server, tmp_path):
    """The served app on SQLite only, for checks of what pages look like, which no database changes."""
    controller, _ = smtp_server
    with served(f"sqlite:///{tmp_path / 'served.sqlite3'}", controller.port) as site:
        yield site


@contextmanager
def browser_context(browser, **options):
    """A fresh browser context (its own cookies: another person's browser), closed at the end; Playwright's
    ``options`` (viewport, java_script_enabled...), and steps that wait at most 10 s."""
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser):
    """A page in a fresh browser context at phone width."""
    with browser_context(browser, viewport=PHONE) as context:
        yield context.new_page()
