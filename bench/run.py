"""The benchmark: the service at the size of a real membership, on SQLite and PostgreSQL.

    .venv/bin/python bench/run.py                    # 100,000 members, both backends
    .venv/bin/python bench/run.py --quick            # a smoke run with 5,000 members
    .venv/bin/python bench/run.py --backend sqlite --members 20000

For each backend it builds a fresh database (a temporary SQLite file; a
PostgreSQL database it creates and drops), migrates it with Alembic, and
measures, through the service's own functions and its real HTTP routes, one
area per module:

1. ``importing``: the roster import of ``--members`` people, the re-import of
   the same file, the year's opt-in campaign;
2. ``mail``: the outbox's sending rate beside smtplib's;
3. ``voting``: opening a vote for every enrolled right, links queued;
4. ``web``: casting through gunicorn beside a bare endpoint (bench/bare_app.py),
   loaded by a client process (bench/load.py);
5. ``voting``: tallying, and closing a vote with every ballot sealed and one
   that everybody missed.

``harness`` holds what they share. It prints one table with each figure, its
target and whether it is met, and always exits 0: it reports, it does not
assert. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

# The service reads BALLOT_* variables and the file named by BALLOT_CONFIG (which
# `make` points at the demo configuration): the benchmark sets its own, alone.
for _name in [name for name in os.environ if name.startswith("BALLOT_")]:
    os.environ.pop(_name)

sys.path.insert(0, str(BENCH))

import importing
import mail
import population
import voting
import web
from flask_migrate import upgrade
from harness import (
    BENCH_ACTOR,
    GUNICORN_CONF,
    POSTGRES_ADMIN,
    ROOT,
    Database,
    Figure,
    Results,
    free_port,
    log,
    write_config,
)
from sqlalchemy import func, insert, literal, select

from ballot import create_app
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import Enrollment, VotingRight
from ballot.extensions import db
from ballot.policy import load_policy
from ballot.timestamps import UTCDateTime, utcnow
from ballot.unit_of_work import unit_of_work
from ballot.votes.models import ElectorateEntry

# The benchmark of one backend -------------------------------------------------------

def bench_backend(backend: str, args, roster_file: bytes, today: dt.date) -> Results:
    results = Results(backend)
    with tempfile.TemporaryDirectory(prefix=f"ballot-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        with Database(backend, workdir, args.postgres) as database:
            results.notes.append(database.version())
            port, bare_port = free_port(), free_port()
            sink = mail.SmtpSink()
            config_file = workdir / "bench_config.py"
            write_config(config_file, database.url, port, sink.port)
            os.environ["BALLOT_CONFIG"] = str(config_file)
            app = create_app()
            try:
                with app.app_context():
                    try:
                        upgrade()
                        _bench_in_app(app, results, args, roster_file, today, workdir, database, port, bare_port,
                                      sink)
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
                  database: Database, port: int, bare_port: int, sink: mail.SmtpSink) -> None:
    n = args.members
    with unit_of_work(BENCH_ACTOR):
        period = eligibility.open_period(today.year, load_policy("seed"))

    # 1. Roster import, then the same file again; the year's opt-in campaign; mail.
    queued = importing.bench_import(results, period, roster_file, n)
    if queued is None:
        return
    try:
        mail.bench_mail(app, results, queued, database, sink)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("mail", "mail", ">= 0.5 x smtplib", exc)
    if args.only == "mail":
        return

    # 2. Everyone enrolled (not timed), then the vote opened.
    enrolled = enrol_everyone(period)
    vote = voting.bench_open(results, period, enrolled)
    if vote is None:
        return

    # 3. Casting through gunicorn beside the bare endpoint.
    electorate = list(db.session.scalars(select(ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id)))
    try:
        web.bench_http(app, results, args, vote, electorate, workdir, database, port, bare_port)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        results.failed("cast_post", "casting through gunicorn", ">= 0.5 x bare", exc)
    db.session.rollback()

    # 4. Tallying: the pure count, then the whole close.
    voting.bench_tally(results, vote, period, n)
    voting.bench_close(app, results, vote, period, electorate)


def enrol_everyone(period) -> int:
    """Every right of the period enrolled, by one INSERT ... SELECT (not timed); how many."""
    db.session.execute(
        insert(Enrollment).from_select(
            ["right_id", "confirmed_at", "source"],
            select(VotingRight.id, literal(utcnow(), UTCDateTime()), literal("link")).where(
                VotingRight.period_id == period.id
            ),
        )
    )
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Enrollment))


# The table ----------------------------------------------------------------------------

def print_table(all_results: list[Results], args, started: float, load_before: tuple) -> None:
    def verdict(figure: Figure) -> str:
        if figure.met is None:
            return ""
        return "met" if figure.met else "NOT MET"

    labels: dict[str, Figure] = {}  # every figure of any backend, in the order they were measured
    for results in all_results:
        for key, figure in results.figures.items():
            labels.setdefault(key, figure)
    rows = list(labels.values())
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
        for figure in results.figures.values():
            if figure.note:
                print(f"  {figure.label.strip()}: {figure.note}")
    print()
    print("Wall-clock seconds; cpu is this process's CPU time (PostgreSQL's own work is not in it).")
    print("Ratio by CPU: CPU milliseconds per request of the gunicorn workers and the database backends, bare")
    print("insert over cast POST: the throughput ratio a machine with nothing else to run shows when CPU-bound.")


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
    parser.add_argument("--only", choices=("mail",), default=None,
                        help="measure only this area (and the import it needs)")
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
