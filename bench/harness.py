"""What every part of the benchmark shares: figures, timing, alternating rounds, databases, gunicorn.

The parts (``importing``, ``mail``, ``web``, ``votes``) each measure one area
of the service and add their figures to a ``Results``; ``run.py`` runs them in
order on each backend and prints one table. See bench/README.md.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import psycopg

from ballot.cli import new_secrets
from ballot.extensions import db
from ballot.unit_of_work import unit_of_work

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_ACTOR = "bench"  # who the benchmark's actions are audited as


# Figures -------------------------------------------------------------------------

@dataclass
class Figure:
    """One measured figure of one backend."""

    key: str
    label: str
    target: str = ""  # in words, e.g. "< 10 s"; blank: measured only
    value: float | None = None
    text: str = ""  # the value as printed
    met: bool | None = None  # None: no target, or not measured
    note: str = ""


@dataclass
class Results:
    backend: str
    figures: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures[figure.key] = figure
        return figure

    def failed(self, key: str, label: str, target: str, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0][:150] if str(exc) else ''}"
        self.add(Figure(key, label, target, text="FAILED", met=False if target else None, note=message))
        log(f"  FAILED: {message}")
        if os.environ.get("BENCH_TRACEBACK"):
            traceback.print_exc()


def seconds_figure(key: str, label: str, limit: float | None, wall: float, cpu: float) -> Figure:
    target = f"< {limit:g} s" if limit else ""
    return Figure(key, label, target, wall, f"{wall:.2f} s (cpu {cpu:.1f} s)",
                  None if limit is None else wall < limit)


def measure(results: Results, key: str, label: str, limit: float | None, fn, note):
    """Time ``fn`` as figure ``key``, noting ``note(its value)``; None (and the failure as the figure) if it raised."""
    log(f"[{results.backend}] {label}")
    try:
        value, wall, cpu = timed(fn)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed(key, label, f"< {limit:g} s" if limit else "", exc)
        return None
    results.add(seconds_figure(key, label, limit, wall, cpu)).note = note(value)
    return value


def timed(fn):
    """Run ``fn`` as one unit of work (as a command would), committed; return its result, the
    wall-clock seconds and this process's CPU seconds."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    with unit_of_work(BENCH_ACTOR):
        result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Alternating rounds -------------------------------------------------------------------

@dataclass
class Spread:
    """The values of one side over several rounds: median and range, as the table prints them."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self, fmt: str = "{:.2f}", unit: str = "") -> str:
        low, high = min(self.values), max(self.values)
        return f"{fmt.format(self.median)}{unit} (range {fmt.format(low)}-{fmt.format(high)})"


def alternate(sides: dict[str, Callable[[], float]], rounds: int) -> dict[str, Spread]:
    """Run each side once per round, taking turns (the first side changes each round), so that
    a change in what else the machine runs weighs on every side alike; each side returns its
    value for the round (a rate, or seconds)."""
    values: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for k in range(rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:
            gc.collect()
            values[name].append(sides[name]())
    return {name: Spread(v) for name, v in values.items()}


# Databases -----------------------------------------------------------------------

class Database:
    """A fresh database for one backend, removed afterwards."""

    def __init__(self, backend: str, workdir: Path, admin_url: str):
        self.backend = backend
        self.admin_url = admin_url
        self.name = f"ballot_bench_{os.getpid()}"
        if backend == "sqlite":
            self.url = f"sqlite:///{workdir / 'ballot-bench.sqlite3'}"
        else:
            base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            self.url = f"{base}/{self.name}"

    def __enter__(self) -> Self:
        if self.backend == "postgresql":
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc) -> None:
        if self.backend == "postgresql":
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def server_cpu(self) -> dict[int, float]:
        """CPU seconds used so far by each PostgreSQL backend serving this database (SQLite: none)."""
        if self.backend == "sqlite":
            return {}
        with psycopg.connect(self.admin_url) as conn:
            pids = [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,))]
        return {pid: process_cpu(pid) for pid in pids}

    def version(self) -> str:
        if self.backend == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        with psycopg.connect(self.admin_url) as conn:
            return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, database_url: str, port: int, smtp_port: int) -> None:
    """The service's configuration for the benchmark: every setting it needs, in one file."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": f"127.0.0.1:{port}",
        "PREFERRED_URL_SCHEME": "http",
        "SESSION_COOKIE_SECURE": False,  # the benchmark speaks plain HTTP to 127.0.0.1
        "BALLOT_POLICY": "seed",
        "BALLOT_MAIL_TRANSPORT": "smtp",  # to the local sink the run starts (the mail figure)
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "RATELIMIT_STORAGE_URI": "memory://",
        **new_secrets(),
    }
    path.write_text("".join(f"{name} = {value!r}\n" for name, value in settings.items()))


# gunicorn --------------------------------------------------------------------------

class Server:
    """A gunicorn master with config/gunicorn.conf.py's settings, on a port of its own."""

    def __init__(self, name: str, app_spec: str, port: int, env: dict, logfile: Path, extra: list[str] = ()):
        self.name, self.port, self.logfile = name, port, logfile
        command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
                   "--bind", f"127.0.0.1:{port}", *extra, app_spec]
        self._log = logfile.open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_listening()

    def _wait_until_listening(self, limit: float = 30.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} gunicorn exited: {self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} gunicorn did not listen on port {self.port}")

    def cpu_seconds(self) -> dict[int, float]:
        """CPU seconds used so far by each worker (the master only watches them)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return {int(pid): process_cpu(int(pid)) for pid in children}

    def tail(self, lines: int = 15) -> str:
        self._log.flush()
        return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def process_cpu(pid: int) -> float:
    """User and system CPU seconds of a process, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_measured(run: Callable[[], dict], server: Server, database: Database) -> dict:
    """A run of the load client (the dict it returns), with the CPU seconds that the workers and the
    database spent on it: ``cpu_app`` and ``cpu_db``.

    Unlike requests per second, CPU time per request does not depend on what
    else the machine is running, so it shows the cost of a request even on a
    busy machine.
    """
    workers, backends = server.cpu_seconds(), database.server_cpu()
    outcome = run()
    outcome["cpu_app"] = sum(cpu - workers.get(pid, 0.0) for pid, cpu in server.cpu_seconds().items())
    outcome["cpu_db"] = sum(cpu - backends.get(pid, 0.0) for pid, cpu in database.server_cpu().items())
    return outcome
