"""Fixtures for functional tests: the service under gunicorn, as production runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.functional.helpers import HttpBrowser, Machine, service_env, trustee_machine, write_config

WORKERS = 3
THREADS = 4
START_TIMEOUT = 20  # seconds for gunicorn to listen and answer


@pytest.fixture
def gunicorn_settings() -> dict:
    """Settings for the gunicorn-served app on top of the test app's; a test module may override this."""
    return {}


@pytest.fixture
def gunicorn(committed_app, gunicorn_settings, tmp_path):
    """gunicorn serving the committed app's database, always stopped afterwards.

    A test may kill one of its worker processes or the whole server (SIGKILL)
    and start it again on the same database and port.
    """
    server = Gunicorn(write_config(committed_app, tmp_path / "ballot_config.py", **gunicorn_settings), tmp_path)
    server.start()
    try:
        yield server
        server.check_logs()
    finally:
        server.stop()


class Gunicorn:
    """The app under gunicorn on 127.0.0.1, configured by a BALLOT_CONFIG file.

    ``--preload`` loads the app once before forking (no connection is opened
    then); ``--no-control-socket`` keeps parallel runs from sharing one socket
    in the home directory. Each start has a log of its own.
    """

    def __init__(self, config: Path, directory: Path):
        self.config = config
        self.directory = directory
        self.port = 0  # chosen by the first start, kept by the next ones
        self.logs: list[Path] = []
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log_path = self.directory / f"gunicorn-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads", str(THREADS),
                 "--bind", f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "3", "--preload",
                 "--no-control-socket", "--access-logfile", "-",
                 "--access-logformat", 'access %(p)s "%(r)s" %(s)s', "ballot:create_app()"],
                cwd=self.directory, env=service_env(self.config), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that `kill` takes the workers with it
            )
        self.port = _wait_until_serving(self.process, log_path)

    @property
    def log_path(self) -> Path:
        """The log of the server as started last."""
        return self.logs[-1]

    def worker_pids(self) -> list[int]:
        """The server's worker processes now."""
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker process, as the kernel's OOM killer would; the server starts another."""
        assert pid in self.worker_pids()
        os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the server and its workers at once, as a power cut would."""
        workers = self.worker_pids()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, "gunicorn's workers outlived SIGKILL"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def check_logs(self) -> None:
        for log_path in self.logs:
            text = log_path.read_text()
            assert "Traceback" not in text and "unexpected error" not in text, text[-3000:]
            assert len(re.findall(r"Booting worker with pid", text)) >= WORKERS
            # The access log is on here (it is off in config/gunicorn.conf.py): links are redacted in it.
            assert set(re.findall(r'"\w+ /votes/\d+/ballot/(\S+) ', text)) <= {"[redacted]"}

    def workers(self, request: str) -> set[str]:
        """The worker processes that answered requests matching ``request`` ("POST /votes/"), from the access log."""
        return {pid for log_path in self.logs
                for pid in re.findall(rf'access <(\d+)> "{request}', log_path.read_text())}

    def cast_workers(self, casts: int = 0) -> set[str]:
        """The worker processes that answered a cast, once the access log holds ``casts`` of them:
        gunicorn writes a request's line after its answer, so the last ones may not be there yet."""
        pattern = r"POST /votes/\d+/ballot/"
        deadline = time.monotonic() + 15
        while (sum(len(re.findall(rf'access <\d+> "{pattern}', log_path.read_text())) for log_path in self.logs)
               < casts and time.monotonic() < deadline):
            time.sleep(0.05)
        return self.workers(pattern)


def _alive(pid: int) -> bool:
    """Whether a process still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


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
def machines(tmp_path) -> list[Machine]:
    """Three trustees' own machines, each with a key made by `ballot trustee keygen`."""
    return [trustee_machine(tmp_path / name.lower(), name) for name in ("Ada", "Bea", "Cy")]
