"""The benchmark: the service at the size of a real membership, on SQLite and PostgreSQL.

    .venv/bin/python bench/run.py                    # 100,000 members, both backends
    .venv/bin/python bench/run.py --quick            # a smoke run with 5,000 members
    .venv/bin/python bench/run.py --backend sqlite --members 20000

For each backend it builds a fresh database (a temporary SQLite file; a
PostgreSQL database it creates and drops), migrates it with Alembic, and
measures, through the service's own functions and its real HTTP routes:

1. roster import of ``--members`` people from a file in the own CSV format,
   and the re-import of the same file (target: each under 10 s), then the
   year's opt-in campaign to every qualifying right (measured, no target);
2. opening a vote for as many enrolled rights, with a ballot link queued in
   the outbox for each (target: under 30 s);
3. casting through gunicorn (config/gunicorn.conf.py, 2 workers) beside a bare
   Flask endpoint doing one INSERT into the same database (bench/bare_app.py),
   loaded by a client process (bench/load.py) (target: the casts per second
   at least half the bare endpoint's inserts per second);
4. tallying as many opened ballots with the pure ``votes.tally.tally``
   (target: under 2 s), and the whole ``close_vote`` on a vote with as many
   sealed ballots, and on one that everybody missed (measured, no target).

It prints one table with each figure, its target and whether it is met, and
always exits 0: it reports, it does not assert. See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gc
import json
import logging
import os
import platform
import random
import resource
import signal
import smtplib
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SEED_CASTS = 200  # ballots cast in-process through casting.cast_ballot before the close
ROUNDS = 4  # turns taken by the bare inserts and the casts

# The service reads BALLOT_* variables and the file named by BALLOT_CONFIG (which
# `make` points at the demo configuration): the benchmark sets its own, alone.
for _name in [name for name in os.environ if name.startswith("BALLOT_")]:
    os.environ.pop(_name)

sys.path.insert(0, str(BENCH))

import bare_app
import population
import psycopg
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import String, func, insert, literal, select

from ballot import create_app, sealing
from ballot.cli import new_secrets
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import Enrollment, VotingRight
from ballot.extensions import db
from ballot.outbox.models import PENDING, OutboxMessage
from ballot.outbox.services import mail_message, render
from ballot.outbox.tasks import send_due
from ballot.policy import load_policy
from ballot.timestamps import UTCDateTime, utcnow
from ballot.tokens import BALLOT_LINK, token_service
from ballot.unit_of_work import unit_of_work
from ballot.votes import casting, lifecycle
from ballot.votes import rules as vote_rules
from ballot.votes.models import (
    OPEN,
    ElectorateEntry,
    ParticipationRecord,
    SealedBallot,
    Vote,
)
from ballot.votes.tally import tally

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


def load(job: dict) -> dict:
    """Run one job of the load client (bench/load.py) in a process of its own."""
    done = subprocess.run([sys.executable, str(BENCH / "load.py")], input=json.dumps(job), capture_output=True,
                          text=True, timeout=job["seconds"] + 120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the load client failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def load_measured(job: dict, server: Server, database: Database) -> dict:
    """A load job, with the CPU seconds that the workers and the database spent on it.

    Unlike requests per second, CPU time per request does not depend on what
    else the machine is running, so it shows the cost of a request even on a
    busy machine.
    """
    workers, backends = server.cpu_seconds(), database.server_cpu()
    outcome = load(job)
    outcome["cpu_app"] = sum(cpu - workers.get(pid, 0.0) for pid, cpu in server.cpu_seconds().items())
    outcome["cpu_db"] = sum(cpu - backends.get(pid, 0.0) for pid, cpu in database.server_cpu().items())
    return outcome


def cpu_split(outcomes: list[dict], kind: str) -> str:
    """Milliseconds of CPU per successful request of ``kind``, in the workers and in the database."""
    ok = max(sum(o["ok"].get(kind, 0) for o in outcomes), 1)
    app, database = (1000 * sum(o[part] for o in outcomes) / ok for part in ("cpu_app", "cpu_db"))
    return f"app {app:.1f} + database {database:.1f}"


def statuses(outcome: dict) -> str:
    return ", ".join(f"{count} x {status}" for status, count in sorted(outcome["statuses"].items()))


# The benchmark of one backend -------------------------------------------------------

def bench_backend(backend: str, args, roster_file: bytes, today: dt.date) -> Results:
    results = Results(backend)
    with tempfile.TemporaryDirectory(prefix=f"ballot-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        with Database(backend, workdir, args.postgres) as database:
            results.notes.append(database.version())
            port, bare_port = free_port(), free_port()
            sink = Controller(Sink(), hostname="127.0.0.1", port=free_port())
            sink.start()
            config_file = workdir / "bench_config.py"
            write_config(config_file, database.url, port, sink.port)
            os.environ["BALLOT_CONFIG"] = str(config_file)
            app = create_app()
            try:
                with app.app_context():
                    try:
                        upgrade()
                        _bench_in_app(app, results, args, roster_file, today, workdir, database, port, bare_port)
                    except Exception as exc:  # noqa: BLE001 - report what was measured, and why it stopped
                        results.failed("stopped", "the rest of this backend's benchmark", "", exc)
                    finally:
                        db.session.remove()
                        db.engine.dispose()
            finally:
                os.environ.pop("BALLOT_CONFIG", None)
                sink.stop()
    return results


def _bench_in_app(app, results: Results, args, roster_file: bytes, today: dt.date, workdir: Path,
                  database: Database, port: int, bare_port: int) -> None:
    n = args.members
    with unit_of_work(BENCH_ACTOR):
        period = eligibility.open_period(today.year, load_policy("seed"))

    # 1. Roster import, then the same file again; the year's opt-in campaign (measured, no target).
    def import_roster():
        return eligibility.import_roster(period, roster_file, "roster.csv")

    report = measure(results, "import", f"roster import, {n:,} members (new)", 10, import_roster,
                     lambda r: f"{len(r.added):,} added, {r.rights_added:,} rights")
    if report is None:
        return
    measure(results, "reimport", "roster re-import, same file (no change)", 10, import_roster,
            lambda r: f"{len(r.added)} added, {len(r.changed)} changed, {len(r.removed)} removed")
    queued = measure(results, "opt_in", f"send opt-in, {n:,} rights", None, lambda: eligibility.send_opt_in(period),
                     lambda queued: f"{queued:,} messages queued")
    try:
        _bench_mail(app, results, queued or 0)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("mail", "mail", ">= 0.5 x smtplib", exc)

    # 2. Everyone enrolled (not timed), then the vote opened.
    now = utcnow()
    db.session.execute(
        insert(Enrollment).from_select(
            ["right_id", "confirmed_at", "source"],
            select(VotingRight.id, literal(now, UTCDateTime()), literal("link")).where(
                VotingRight.period_id == period.id
            ),
        )
    )
    db.session.commit()
    enrolled = db.session.scalar(select(func.count()).select_from(Enrollment))
    with unit_of_work(BENCH_ACTOR):
        vote = lifecycle.create_vote(period, "charter", "Charter of the Benchmark Working Group",
                                     now + dt.timedelta(days=14),
                                     questions=["Do you approve the charter of the Benchmark Working Group?"])
    if measure(results, "open", f"open vote, {enrolled:,} rights, links queued", 30, lambda: lifecycle.open_vote(vote),
               lambda opened: f"{opened:,} in the electorate and the outbox") is None:
        return

    # 3. Casting through gunicorn beside the bare endpoint.
    electorate = list(db.session.scalars(select(ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id)))
    try:
        _bench_http(app, results, args, vote, electorate, workdir, database, port, bare_port)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        results.failed("cast_post", "casting through gunicorn", ">= 0.5 x bare", exc)
    db.session.rollback()

    # 4. Tallying: the pure count, then the whole close.
    _bench_tally(results, vote, period, n)
    _bench_close(app, results, vote, period, electorate)


class Sink:
    """The local SMTP server both mail figures send to: it takes every message and keeps none."""

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def _bench_mail(app, results: Results, queued: int, rounds: int = 3) -> None:
    """The outbox's send rate beside smtplib's over one connection, the same messages, alternating rounds.

    Each round takes the next due opt-in messages: smtplib sends them first,
    already rendered (not timed), over one connection; then ``send_due``
    sends the same messages as the worker does (claim, render, send, record).
    """
    size = min(2000, queued // (rounds + 1))
    if size < 50:
        return
    log(f"[{results.backend}] mail: {rounds} rounds of {size:,} messages, smtplib then the outbox")
    host, port = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    baseline, ours, cpu_ours = [], [], []
    for _ in range(rounds):
        batch = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == PENDING)
                                   .order_by(OutboxMessage.id).limit(size)).all()
        payloads = [(m.to_address, mail_message(m, *render(m)).as_bytes()) for m in batch]
        sender = parseaddr(str(mail_message(batch[0], "", "").sender))[1]
        db.session.rollback()
        wall = time.perf_counter()
        with smtplib.SMTP(host, port) as smtp:
            for to, data in payloads:
                smtp.sendmail(sender, [to], data)
        baseline.append(size / (time.perf_counter() - wall))
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        counts = send_due(limit=size)
        elapsed = time.perf_counter() - wall
        assert counts["sent"] == size, counts
        ours.append(size / elapsed)
        cpu_ours.append((time.process_time() - cpu) / size * 1000)
    ratio = statistics.median(ours) / statistics.median(baseline)
    figure = results.add(Figure(
        "mail", f"mail: outbox vs smtplib over one connection, {size:,} messages x {rounds} rounds", ">= 0.5 x",
        ratio, f"{ratio:.2f} x", ratio >= 0.5))
    figure.note = (f"outbox {statistics.median(ours):,.0f} msg/s (range {min(ours):,.0f}-{max(ours):,.0f}), "
                   f"smtplib {statistics.median(baseline):,.0f} msg/s (range {min(baseline):,.0f}-"
                   f"{max(baseline):,.0f}); outbox CPU {statistics.median(cpu_ours):.2f} ms/message in this process")


def _bench_http(app, results: Results, args, vote: Vote, electorate: list[int], workdir: Path,
                database: Database, port: int, bare_port: int) -> None:
    casts, pairs, warm = args.casts, max(args.casts // 2, 1), 20
    rng = random.Random(11)
    voters = rng.sample(electorate, min(len(electorate), warm + casts + pairs))
    vote_id, closes_at, choices = vote.id, vote.closes_at, {q["id"]: q["choices"] for q in vote.questions}
    db.session.rollback()  # reading the vote began a transaction: on SQLite it holds the write lock
    links = token_service(app.config, BALLOT_LINK)
    paths = [f"/votes/{vote_id}/ballot/{links.dumps({'v': vote_id, 'r': r}, closes_at)}" for r in voters]
    warm_paths, cast_paths, pair_paths = paths[:warm], paths[warm:warm + casts], paths[warm + casts:]
    bare_app.create_table(database.url)
    common = {"threads": args.threads, "seconds": args.seconds, "choices": choices}

    log(f"[{results.backend}] casting through gunicorn: starting the service and the bare endpoint")
    ballot_server = bare_server = None
    try:
        ballot_server = Server("ballot", "ballot:create_app()", port, {"BALLOT_CONFIG": os.environ["BALLOT_CONFIG"]},
                               workdir / "gunicorn-ballot.log")
        bare_server = Server("bare", "bare_app:create_app()", bare_port, {"BENCH_BARE_DATABASE_URL": database.url},
                             workdir / "gunicorn-bare.log", ["--pythonpath", str(BENCH)])
        # Warm up both (workers booted, connections pooled, templates compiled).
        warm_up = load({**common, "mode": "pair", "port": port, "paths": warm_paths, "threads": 2})
        if not warm_up["ok"].get("post"):
            raise RuntimeError(f"no ballot could be cast: {statuses(warm_up)}; log: {ballot_server.tail()}")
        load({**common, "mode": "insert", "port": bare_port, "path": "/insert", "count": 50, "threads": 2})

        log(f"[{results.backend}]   ballot pages, up to {casts:,} GETs")
        got = load_measured({**common, "mode": "get", "port": port, "paths": cast_paths}, ballot_server, database)
        # The casts and the bare inserts take turns, a slice of each per round, so that a change in
        # what else the machine runs weighs on both sides alike.
        bare_runs, post_runs = [], []
        for k in range(ROUNDS):
            pages = got["pages"][k::ROUNDS]
            log(f"[{results.backend}]   round {k + 1} of {ROUNDS}: {len(pages):,} bare inserts, then as many casts")
            bare_runs.append(load_measured({**common, "mode": "insert", "port": bare_port, "path": "/insert",
                                            "count": len(pages)}, bare_server, database))
            post_runs.append(load_measured({**common, "mode": "post", "port": port, "pages": pages},
                                           ballot_server, database))
        log(f"[{results.backend}]   whole casts, up to {pairs:,} GET+POST pairs")
        paired = load_measured({**common, "mode": "pair", "port": port, "paths": pair_paths}, ballot_server, database)
    finally:
        for server in (ballot_server, bare_server):
            if server is not None:
                server.stop()

    bare_ok, bare_rate, bare_cpu = rate_and_cpu(bare_runs, "insert")
    post_ok, post_rate, post_cpu = rate_and_cpu(post_runs, "post")
    get_cpu = rate_and_cpu([got], "get")[2]
    get_rate = got["ok"].get("get", 0) / got["elapsed"]
    pair_rate = paired["ok"].get("post", 0) / paired["elapsed"]
    ratios = " ".join(f"{rate_and_cpu([p], 'post')[1] / rate_and_cpu([b], 'insert')[1]:.2f}"
                      for b, p in zip(bare_runs, post_runs, strict=True))
    threads = f"{args.threads} client threads"
    results.add(Figure("bare", "bare endpoint: one INSERT, requests/s", "", bare_rate, f"{bare_rate:.0f} /s",
                       note=f"{bare_ok:,} inserts in {ROUNDS} rounds, {threads}; p50 "
                            f"{bare_runs[0]['latency_ms']['insert']['p50']:.0f} ms"))
    results.add(Figure("cast_post", "ballot: cast POSTs/s (the cast)", ">= 0.5 x bare", post_rate,
                       f"{post_rate:.0f} /s", post_rate >= 0.5 * bare_rate,
                       note=f"{post_ok:,} casts in {ROUNDS} rounds; p50 "
                            f"{post_runs[0]['latency_ms'].get('post', {}).get('p50', 0):.0f} ms"))
    results.add(Figure("ratio", "  ratio cast POSTs / bare inserts", ">= 0.50", post_rate / bare_rate,
                       f"{post_rate / bare_rate:.2f}", post_rate / bare_rate >= 0.5,
                       note=f"round by round: {ratios}"))
    results.add(Figure("cpu_ratio", "  ratio by CPU: bare ms / cast ms", ">= 0.50", bare_cpu / post_cpu,
                       f"{bare_cpu / post_cpu:.2f} ({bare_cpu:.1f} / {post_cpu:.1f} ms)", bare_cpu / post_cpu >= 0.5,
                       note=f"CPU ms per request: bare {cpu_split(bare_runs, 'insert')}; "
                            f"cast {cpu_split(post_runs, 'post')}"))
    results.add(Figure("cast_get", "ballot: ballot page GETs/s", "", get_rate, f"{get_rate:.0f} /s",
                       note=f"{got['ok'].get('get', 0):,} pages in {got['elapsed']:.1f} s; {get_cpu:.1f} ms CPU each"))
    results.add(Figure("cast_pair", "ballot: whole casts (GET+POST pairs)/s", "", pair_rate, f"{pair_rate:.0f} /s",
                       note=f"{paired['ok'].get('post', 0):,} pairs in {paired['elapsed']:.1f} s; "
                            f"{pair_rate / bare_rate:.2f} x bare"))
    problems = [f"{name}: {statuses(outcome)}" for name, outcome in
                [("GET", got), ("pairs", paired)]
                + [(f"bare, round {k + 1}", o) for k, o in enumerate(bare_runs)]
                + [(f"POST, round {k + 1}", o) for k, o in enumerate(post_runs)]
                if outcome["statuses"]]
    if problems:
        results.notes.append("HTTP requests that failed: " + "; ".join(problems))
    recorded = db.session.scalar(
        select(func.count()).select_from(ParticipationRecord).where(ParticipationRecord.vote_id == vote_id)
    )
    sent = warm_up["ok"].get("post", 0) + post_ok + paired["ok"].get("post", 0)
    if recorded != sent:
        results.notes.append(f"the client saw {sent} receipts but {recorded} participation records exist")
    db.session.commit()


def rate_and_cpu(outcomes: list[dict], kind: str) -> tuple[int, float, float]:
    """Successful requests of ``kind`` over several runs, their rate, and CPU milliseconds
    (workers and database) each."""
    ok = sum(o["ok"].get(kind, 0) for o in outcomes)
    seconds = sum(o["elapsed"] for o in outcomes)
    cpu = sum(o["cpu_app"] + o["cpu_db"] for o in outcomes)
    return ok, ok / seconds, 1000 * cpu / max(ok, 1)


def _copy(ballot: dict, key) -> dict:
    """A copy of a sealed ballot row under a fresh primary key, made as the service makes it."""
    copy = dict(ballot)
    if isinstance(key.type, String):
        copy[key.name] = os.urandom(16).hex()[: key.type.length or 32]
    else:
        copy.pop(key.name)
    return copy


def _bench_tally(results: Results, vote: Vote, period, n: int) -> None:
    rng = random.Random(5)
    questions = vote.questions
    ballots = [{"answers": {q["id"]: rng.choice(q["choices"]) for q in questions}} for _ in range(n)]
    label = f"tally (pure), {n:,} yes/no ballots"
    log(f"[{results.backend}] {label}")
    result, wall, cpu = timed(lambda: tally(vote.rules, questions, ballots, n))
    results.add(seconds_figure("tally", label, 2, wall, cpu)).note = str(result["questions"][0]["counts"])

    # A Board election: approval ballots over 12 candidates for 3 seats.
    kind = vote_rules.get_kind("board")
    candidates = [f"Candidate {letter}" for letter in "ABCDEFGHIJKL"]
    rules = vote_rules.build_rules(kind, eligibility.policy_of(period), seats=3)
    board = vote_rules.build_questions(kind, [], candidates)
    weights = [12 - i for i in range(12)]
    ballots = []
    for _ in range(n):
        chosen = set(rng.choices(candidates, weights, k=rng.randrange(0, 6)))
        ballots.append({"answers": {"board": [c for c in candidates if c in chosen]}})
    label = f"tally (pure), {n:,} Board approval ballots"
    log(f"[{results.backend}] {label}")
    result, wall, cpu = timed(lambda: tally(rules, board, ballots, n))
    results.add(seconds_figure("tally_board", label, 2, wall, cpu)).note = "elected " + ", ".join(
        result["questions"][0]["elected"])


def _bench_close(app, results: Results, vote: Vote, period, electorate: list[int]) -> None:
    # Ballots made by the service itself: those cast over HTTP, and a few more
    # through votes.cast. Copies of them, each a row the close opens on its own,
    # then fill the ballot box to one ballot per right (sealing 100,000 distinct
    # ballots would add half a minute to the run and nothing to the close).
    voted = set(db.session.scalars(select(ParticipationRecord.right_id).where(ParticipationRecord.vote_id == vote.id)))
    waiting = [r for r in electorate if r not in voted]
    seeds, rest = waiting[:SEED_CASTS], waiting[SEED_CASTS:]
    log(f"[{results.backend}] casting {len(seeds)} ballots with votes.cast, copying them to "
        f"{len(electorate):,} (not timed)")
    rng = random.Random(3)
    links = token_service(app.config, BALLOT_LINK)
    for right_id in seeds:
        form = {q["id"]: [rng.choice(q["choices"])] for q in vote.questions}
        with unit_of_work(BENCH_ACTOR):
            casting.cast_ballot(vote.id, links.dumps({"v": vote.id, "r": right_id}, vote.closes_at), form)
    table = SealedBallot.__table__
    pool = [dict(row) for row in db.session.execute(select(table).where(table.c.vote_id == vote.id)).mappings()]
    (key,) = table.primary_key.columns
    today = utcnow().date()
    for start in range(0, len(rest), 10_000):
        chunk = rest[start:start + 10_000]
        db.session.execute(insert(ParticipationRecord.__table__),
                           [{"vote_id": vote.id, "right_id": r, "voted_on": today} for r in chunk])
        db.session.execute(insert(table), [_copy(pool[n % len(pool)], key) for n in range(start, start + len(chunk))])
        db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(table).where(table.c.vote_id == vote.id))
    db.session.commit()

    label = f"close_vote, {count:,} sealed ballots"
    log(f"[{results.backend}] {label}")
    try:
        closed, wall, cpu = timed(lambda: lifecycle.close_vote(vote))
        figure = results.add(seconds_figure("close", label, None, wall, cpu))
        figure.note = (f"{closed['ballots']:,} ballots opened and counted ({len(pool):,} distinct), "
                       f"{closed['missed']:,} missed")
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("close", label, "", exc)

    # The same electorate in a second vote that nobody votes in: the missed-votes path at full size.
    with unit_of_work(BENCH_ACTOR):
        other = lifecycle.create_vote(period, "policy", "A vote nobody casts", utcnow() + dt.timedelta(days=14),
                                      questions=["Adopt the benchmark policy?"])
    other.public_key, other.wrapped_key = sealing.new_vote_keys(
        base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"]), other.id)
    other.status, other.opened_at, other.electorate_size = OPEN, utcnow(), len(electorate)
    db.session.execute(insert(ElectorateEntry).from_select(
        ["vote_id", "right_id"],
        select(literal(other.id), ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id),
    ))
    db.session.commit()
    label = f"close_vote, 0 ballots, {len(electorate):,} missed"
    log(f"[{results.backend}] {label}")
    try:
        closed, wall, cpu = timed(lambda: lifecycle.close_vote(other))
        figure = results.add(seconds_figure("close_missed", label, None, wall, cpu))
        figure.note = f"{closed['missed']:,} missed votes recorded, {closed['forfeited']} forfeited"
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("close_missed", label, "", exc)


# The table ----------------------------------------------------------------------------

ORDER = ["import", "reimport", "opt_in", "mail", "open", "bare", "cast_post", "ratio", "cpu_ratio", "cast_get",
         "cast_pair", "tally", "tally_board", "close", "close_missed", "stopped"]


def print_table(all_results: list[Results], args, started: float, load_before: tuple) -> None:
    def verdict(figure: Figure) -> str:
        if figure.met is None:
            return ""
        return "met" if figure.met else "NOT MET"

    labels = {}
    for results in all_results:
        for key, figure in results.figures.items():
            labels.setdefault(key, figure)
    rows = [labels[key] for key in ORDER if key in labels]
    width = max((len(f.label) for f in rows), default=20) + 2
    cell = 30
    print()
    print(f"ballot benchmark: {args.members:,} members; gunicorn {GUNICORN_CONF.relative_to(ROOT)} "
          f"(2 sync workers); {os.cpu_count()} cores; load average before {load_before[0]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}; {time.perf_counter() - started:.0f} s in all; "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    header = f"{'figure':<{width}}{'target':<15}" + "".join(f"{r.backend:<{cell}}" for r in all_results)
    print(header)
    print("-" * len(header))
    for row in rows:
        line = f"{row.label:<{width}}{row.target:<15}"
        for results in all_results:
            figure = results.figures.get(row.key)
            text = "-" if figure is None else f"{figure.text} {verdict(figure)}".strip()
            line += f"{text:<{cell}}"
        print(line.rstrip())
    print()
    for results in all_results:
        print(f"{results.backend}:")
        for note in results.notes:
            print(f"  {note}")
        for key in ORDER:
            figure = results.figures.get(key)
            if figure is not None and figure.note:
                print(f"  {figure.label.strip()}: {figure.note}")
    print()
    print("Wall-clock seconds; cpu is this process's CPU time (PostgreSQL's own work is not in it).")
    print("Ratio by CPU: CPU milliseconds per request of the gunicorn workers and the database backends, bare")
    print("insert over cast POST: the throughput ratio a machine with nothing else to run shows when CPU-bound.")
    print("Targets: import and re-import < 10 s, mail >= 0.5 x smtplib, open < 30 s, casts >= half the bare inserts,")
    print("tally < 2 s.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the ballot service on SQLite and PostgreSQL.")
    parser.add_argument("--members", type=int, default=None, help="roster size (default 100000; 5000 with --quick)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5,000 members, 300 casts, 5 s phases")
    parser.add_argument(
        "--casts", type=int, default=None, help="cast POSTs to measure (default 2000; 300 with --quick)"
    )
    parser.add_argument("--seconds", type=float, default=None,
                        help="time limit of each HTTP phase (default 10; 5 with --quick)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", POSTGRES_ADMIN),
                        help=f"PostgreSQL admin URL to create the database from (default {POSTGRES_ADMIN})")
    args = parser.parse_args(argv)
    args.members = args.members or (5_000 if args.quick else 100_000)
    args.casts = args.casts or (300 if args.quick else 2_000)
    args.seconds = args.seconds or (5.0 if args.quick else 10.0)
    if args.members < args.casts * 2:
        args.casts = max(args.members // 3, 10)

    logging.disable(logging.INFO)  # Alembic's and the service's progress lines
    started, load_before = time.perf_counter(), os.getloadavg()
    today = dt.date.today()
    log(f"generating a roster of {args.members:,} members")
    roster_file = population.roster_csv(args.members, today)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    all_results = []
    for backend in backends:
        try:
            all_results.append(bench_backend(backend, args, roster_file, today))
        except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL is not running: report it, go on
            results = Results(backend)
            results.failed("import", "benchmark", "", exc)
            all_results.append(results)
    print_table(all_results, args, started, load_before)
    log(f"python {platform.python_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
