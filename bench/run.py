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
import math
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

AREAS = ("import", "mail", "open", "web", "close")  # in the order they run

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
    queued = importing.bench_import(results, period, roster_file, n, database)
    if queued is None:
        return
    if "mail" in args.only:
        try:
            mail.bench_mail(app, results, queued, database, sink)
        except Exception as exc:  # noqa: BLE001 - a failure is a figure too
            db.session.rollback()
            results.failed("mail", "mail", ">= 0.5 x smtplib", exc)
    if not args.only & {"open", "web", "close"}:
        return

    # 2. Everyone enrolled (not timed), then votes opened.
    enrolled = enrol_everyone(period)
    opened = voting.bench_open(results, period, enrolled, database)
    if opened.figure is None:
        return
    vote = opened.votes[0]

    # 3. Casting through gunicorn beside the bare endpoint.
    electorate = list(db.session.scalars(select(ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id)))
    if "web" in args.only:
        try:
            web.bench_http(app, results, args, vote, electorate, workdir, database, port, bare_port)
        except Exception as exc:  # noqa: BLE001 - a failure is a figure too
            results.failed("web_post_ratio", "casting through gunicorn", ">= 0.75 x bare", exc)
        db.session.rollback()

    # 4. Tallying: the pure count, then the whole close.
    if "close" in args.only:
        voting.bench_tally(results, vote, period, n)
        voting.bench_close(app, results, period, opened.votes)


GROWTH_FIGURES = {"import": "roster import", "open": "open vote", "close": "close, sealed ballots",
                  "close_missed": "close, all missed"}
GROWTH_LIMIT = 1.1  # the fitted exponent: 1 is linear; the margin is for noise


def bench_growth(backend: str, args, today: dt.date, full: Results) -> None:
    """Import, open and close again at a tenth and three tenths of ``--members`` (10,000 and 30,000
    by default), each on a fresh database, and fit time = c * members ** k through the three sizes
    (the full size's figures are those of the main run): k <= 1 is linear growth or better."""
    sizes = [args.members // 10, 3 * args.members // 10]
    small = []
    for size in sizes:
        log(f"[{backend}] growth: import, open and close at {size:,} members")
        sub = argparse.Namespace(**{**vars(args), "members": size, "only": {"open", "close"}})
        small.append(bench_backend(backend, sub, population.roster_csv(size, today), today))
    for key, name in GROWTH_FIGURES.items():
        runs = [*small, full]
        if any(r.figures.get(key) is None or r.figures[key].value is None for r in runs):
            continue
        members = [*sizes, args.members]
        seconds = [r.figures[key].value for r in runs]
        exponent = _slope([math.log(m) for m in members], [math.log(t) for t in seconds])
        full.add(Figure(
            f"growth_{key}", f"growth of {name}: exponent k in time ~ members^k", f"k <= {GROWTH_LIMIT}",
            exponent, f"k = {exponent:.2f}", exponent <= GROWTH_LIMIT,
            note=", ".join(f"{m:,}: {t:.2f} s ({1e6 * t / m:.0f} us/member)" for m, t in zip(members, seconds,
                                                                                          strict=True))))


def _slope(xs: list[float], ys: list[float]) -> float:
    """The least-squares slope of ys over xs."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


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
    cell = max([30] + [len(f.text) + 10 for r in all_results for f in r.figures.values()])  # room for " NOT MET"
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
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5,000 members, 300 casts a round")
    parser.add_argument("--casts", type=int, default=None,
                        help="cast POSTs per round, and half as many whole casts (default 2000; 300 with --quick)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="time limit of each run of the HTTP client, which stops sooner once its casts are "
                             "done (default 60)")
    parser.add_argument("--threads", type=int, default=8,
                        help="HTTP client (wrk) threads, one connection each (default 8)")
    parser.add_argument("--only", default=",".join(AREAS),
                        help=f"the areas to measure, comma-separated, of {', '.join(AREAS)} (the roster import "
                             "always runs: the others need it)")
    parser.add_argument("--growth", action=argparse.BooleanOptionalAction, default=None,
                        help="also import, open and close at a tenth and three tenths of --members, to show how "
                             "the time grows (default: on, off with --quick or --only)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", POSTGRES_ADMIN),
                        help=f"PostgreSQL admin URL to create the database from (default {POSTGRES_ADMIN})")
    args = parser.parse_args(argv)
    args.members = args.members or (5_000 if args.quick else 100_000)
    args.casts = args.casts or (300 if args.quick else 2_000)
    args.seconds = args.seconds or 60.0
    args.only = {area.strip() for area in args.only.split(",") if area.strip()}
    if args.only - set(AREAS):
        parser.error(f"--only: unknown area {', '.join(sorted(args.only - set(AREAS)))}; the areas: {', '.join(AREAS)}")
    if args.growth is None:
        args.growth = not args.quick and args.only == set(AREAS)

    logging.disable(logging.INFO)  # Alembic's and the service's progress lines
    started, load_before = time.perf_counter(), os.getloadavg()
    today = dt.date.today()
    log(f"generating a roster of {args.members:,} members")
    roster_file = population.roster_csv(args.members, today)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    all_results = []
    for backend in backends:
        try:
            results = bench_backend(backend, args, roster_file, today)
            if args.growth:
                bench_growth(backend, args, today, results)
            all_results.append(results)
        except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL is not running: report it, go on
            results = Results(backend)
            results.failed("import", "benchmark", "", exc)
            all_results.append(results)
    print_table(all_results, args, started, load_before)
    log(f"python {platform.python_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
