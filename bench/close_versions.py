"""Two versions of the code closing the same vote, side by side: is a change to the close faster?

    .venv/bin/python bench/close_versions.py BEFORE AFTER [--backend sqlite|postgresql] [--rounds 4]

BEFORE and AFTER are checkouts of this project (``git worktree add /tmp/before <commit>``). A vote of
``--members`` rights (100,000), each with a sealed ballot, is made once with this checkout's code, the
database kept in ``--workdir``. Then each round closes it once with each version, the two taking turns
at going first: each close on a fresh copy of that database (SQLite: the file copied; PostgreSQL:
``CREATE DATABASE ... TEMPLATE``), taken to that version's schema (this checkout's migrations go down to
it: this checkout must be the newer, AFTER itself or a later one), and timed in a process of its own by
that version's ``bench/voting.py close`` (``close_in_own_process``). Prints each close and the medians.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import population
import psycopg
import voting
from flask_migrate import upgrade
from harness import BENCH, BENCH_ACTOR, POSTGRES_ADMIN, Results, log, write_config
from run import enrol_everyone

from ballot import create_app
from ballot.eligibility import services as eligibility
from ballot.extensions import db
from ballot.policy import load_policy
from ballot.unit_of_work import unit_of_work

BASE, COPY = "ballot_versions_base", "ballot_versions_copy"


def database_url(backend: str, workdir: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / name}.sqlite3"
    return f"{POSTGRES_ADMIN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def make_vote(backend: str, workdir: Path, members: int) -> int:
    """The kept database: a roster, everyone enrolled, one open vote with a sealed ballot from every right."""
    if backend == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {BASE}")
    write_config(workdir / "base.py", database_url(backend, workdir, BASE), 5999, 2525)
    os.environ["BALLOT_CONFIG"] = str(workdir / "base.py")
    app = create_app()
    with app.app_context():
        upgrade()
        today = dt.date.today()
        with unit_of_work(BENCH_ACTOR):
            period = eligibility.open_period(today.year, load_policy("seed"))
        with unit_of_work(BENCH_ACTOR):
            eligibility.import_roster(period, population.roster_csv(members, today), "roster.csv")
        enrol_everyone(period)
        vote = voting._opened_now(period)
        voting._fill_with_ballots(app, Results(backend), vote)
        vote_id = vote.id
        db.session.remove()
        db.engine.dispose()
    return vote_id


def close_copy(backend: str, workdir: Path, version: Path, vote_id: int) -> dict:
    """Close the vote on a fresh copy of the kept database with ``version``'s code; its measures."""
    if backend == "sqlite":
        shutil.copyfile(workdir / f"{BASE}.sqlite3", workdir / f"{COPY}.sqlite3")
        for suffix in ("-wal", "-shm"):
            (workdir / f"{COPY}.sqlite3{suffix}").unlink(missing_ok=True)
    else:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {COPY} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {COPY} TEMPLATE {BASE}")
    config = (workdir / "base.py").read_text().replace(database_url(backend, workdir, BASE),
                                                       database_url(backend, workdir, COPY))
    (workdir / "copy.py").write_text(config)  # the same secrets: the vote's key is wrapped with them
    env = {**os.environ, "BALLOT_CONFIG": str(workdir / "copy.py")}
    # The copy is at this checkout's schema, the newest: taken down to the version's own by this checkout's
    # migrations (nothing to do for this checkout's own version).
    head = _run([BALLOT, "db", "heads"], {**env, "PYTHONPATH": str(version)}, version).split()[0]
    _run([BALLOT, "db", "downgrade", head], env, BENCH.parent)
    closed = _run([sys.executable, str(version / "bench" / "voting.py"), "close", str(vote_id)],
                  {**env, "PYTHONPATH": str(version)}, version)
    return json.loads(closed.strip().splitlines()[-1])


BALLOT = str(Path(sys.executable).with_name("ballot"))  # the command, in the same environment


def _run(command: list[str], env: dict, cwd: Path) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{cwd}: {' '.join(command[1:])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def base_exists(backend: str, workdir: Path) -> bool:
    """Whether the kept database is still there (a dropped database, or a file deleted, is made again)."""
    if backend == "sqlite":
        return (workdir / f"{BASE}.sqlite3").exists()
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BASE,)).fetchone() is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ballot-close-versions"),
                        help="where the kept database and its settings are (made again if its members differ)")
    args = parser.parse_args()
    versions = [args.before.resolve(), args.after.resolve()]
    workdir = args.workdir / args.backend
    workdir.mkdir(parents=True, exist_ok=True)
    kept = workdir / "vote.json"
    if (not kept.exists() or json.loads(kept.read_text())["members"] != args.members
            or not base_exists(args.backend, workdir)):
        log(f"[{args.backend}] making a vote of {args.members:,} sealed ballots (not timed)")
        kept.write_text(json.dumps({"members": args.members, "vote": make_vote(args.backend, workdir, args.members)}))
    vote_id = json.loads(kept.read_text())["vote"]
    walls: dict[Path, list[float]] = {version: [] for version in versions}
    for round_ in range(args.rounds):
        for version in versions if round_ % 2 == 0 else versions[::-1]:
            measure = close_copy(args.backend, workdir, version, vote_id)
            walls[version].append(measure["wall"])
            print(f"{version.name:>12}: {measure['wall']:.2f} s; cpu {measure['cpu']:.2f} s in the process, "
                  f"{measure['cpu_workers']:.2f} s in its workers, {measure['cpu_db']:.2f} s in PostgreSQL; "
                  f"peak {measure['peak_mb']:.0f} MB", flush=True)
    for version, seconds in walls.items():
        print(f"{version.name:>12}: median {statistics.median(seconds):.2f} s "
              f"({' '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
