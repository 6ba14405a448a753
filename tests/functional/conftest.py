"""Fixtures for functional tests: the service under gunicorn, as production runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ballot import REQUIRED_SECRETS
from tests.functional.helpers import HttpBrowser, Machine, trustee_machine

WORKERS = 3
THREADS = 4
START_TIMEOUT = 20  # seconds for gunicorn to listen and answer
# What the test app is configured with (tests/conftest.py), passed on to gunicorn.
SETTINGS = ("SQLALCHEMY_DATABASE_URI", "SERVER_NAME", "PREFERRED_URL_SCHEME", "MAIL_SERVER", "MAIL_PORT",
            "BALLOT_MAIL_TRANSPORT", "BALLOT_POLICY", *REQUIRED_SECRETS)


@pytest.fixture
def gunicorn_settings() -> dict:
    """Settings for the gunicorn-served app on top of the test app's; a test module may override this."""
    return {}


@pytest.fixture
def gunicorn(committed_app, gunicorn_settings, tmp_path):
    """gunicorn serving the committed app's database, always stopped afterwards.

    ``--preload`` loads the app once before forking (no connection is opened
    then); ``--no-control-socket`` keeps parallel runs from sharing one socket
    in the home directory.
    """
    config = tmp_path / "ballot_config.py"
    settings = {**{name: committed_app.config[name] for name in SETTINGS}, **gunicorn_settings}
    config.write_text(
        "".join(f"{name} = {value!r}\n" for name, value in settings.items())
        + "SESSION_COOKIE_SECURE = False  # the test talks plain HTTP to 127.0.0.1\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALLOT_")}
    env["BALLOT_CONFIG"] = str(config)
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads", str(THREADS),
             "--bind", "127.0.0.1:0", "--timeout", "30", "--graceful-timeout", "3", "--preload",
             "--no-control-socket", "--access-logfile", "-", "--access-logformat", 'access %(p)s "%(r)s" %(s)s',
             "ballot:create_app()"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        yield Server(_wait_until_serving(process, log_path), log_path)
        text = log_path.read_text()
        assert "Traceback" not in text and "unexpected error" not in text, text[-3000:]
        assert len(re.findall(r"Booting worker with pid", text)) >= WORKERS
        # The access log is on here (it is off in config/gunicorn.conf.py): links are redacted in it.
        assert set(re.findall(r'"\w+ /votes/\d+/ballot/(\S+) ', text)) <= {"[redacted]"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True)
class Server:
    port: int
    log_path: Path

    def workers(self, request: str) -> set[str]:
        """The worker processes that answered requests matching ``request`` ("POST /votes/"), from the access log."""
        return set(re.findall(rf'access <(\d+)> "{request}', self.log_path.read_text()))

    def cast_workers(self) -> set[str]:
        """The worker processes that answered a cast."""
        return self.workers(r"POST /votes/\d+/ballot/")


def _wait_until_serving(process: subprocess.Popen, log_path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    port = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
        text = log_path.read_text()
        if port is None:
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
            port = int(match.group(1)) if match else None
        if port is not None and text.count("Booting worker with pid") >= WORKERS:
            try:
                if HttpBrowser(port).request("GET", "/")[0] == 200:
                    return port
            except OSError:
                pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not serve within {START_TIMEOUT} s:\n{log_path.read_text()}")


@pytest.fixture
def machines(tmp_path, monkeypatch) -> list[Machine]:
    """Three trustees' own machines, each with a key made by `ballot trustee keygen`."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)  # FlaskGroup sets it; keep it out of other tests
    return [trustee_machine(tmp_path / name.lower(), name) for name in ("Ada", "Bea", "Cy")]
