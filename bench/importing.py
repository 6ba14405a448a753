"""The roster: importing a whole membership beside a plain Core executemany of the same rows, importing
the same file again, the year's opt-in campaign."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness import BENCH_ACTOR, Database, Figure, Results, Spread, alternate, log, measure
from sqlalchemy import delete, insert, select, text

from ballot.eligibility import services as eligibility
from ballot.eligibility.models import VotingRight
from ballot.extensions import db
from ballot.roster.models import Member, RosterImport
from ballot.unit_of_work import unit_of_work

ROUNDS = 3
IMPORT_RATIO = 2.0  # the import at most this many times the executemany of the same rows
REIMPORT_SECONDS = 5.0


@dataclass
class Costs:
    """One side's rounds: wall-clock seconds, and CPU seconds of this process and of the database's backends."""

    wall: list[float]
    app: list[float]
    database: list[float]

    def cpu(self) -> float:
        """Median CPU seconds of a round, this process's and the database's."""
        return Spread(self.app).median + Spread(self.database).median

    def per_thousand(self, members: int) -> str:
        """Median CPU milliseconds per 1,000 members, in this process and in PostgreSQL's backends."""
        app, database = (Spread(values).median * 1000 / (members / 1000) for values in (self.app, self.database))
        return f"app {app:.1f} + database {database:.1f} ms CPU per 1,000 members"


def bench_import(results: Results, period, roster_file: bytes, n: int, database: Database) -> int | None:
    """Import beside the baseline, then re-import, then queue the opt-in campaign; the number of messages
    queued (None: the import failed).

    The baseline is what the import must write at the least, written the plainest way: the same member
    and voting-right rows (those a first import wrote, read back, so not parsed in the timing) inserted
    by ``conn.execute(insert(table), rows)`` and committed. Each round empties the tables first, so both
    sides write into the same empty tables.
    """
    label = f"roster import, {n:,} members (new)"
    log(f"[{results.backend}] {label}: a first import (not timed) for the baseline's rows")
    try:
        with unit_of_work(BENCH_ACTOR):
            report = eligibility.import_roster(period, roster_file, "roster.csv")
        members = [dict(row) for row in db.session.execute(select(Member.__table__)).mappings()]
        rights = [dict(row) for row in db.session.execute(select(VotingRight.__table__)).mappings()]
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("import", label, f"<= {IMPORT_RATIO:g} x", exc)
        return None

    def import_roster():
        return eligibility.import_roster(period, roster_file, "roster.csv")

    def core_executemany():
        connection = db.session.connection()
        connection.execute(insert(Member.__table__), members)
        connection.execute(insert(VotingRight.__table__), rights)

    sides = {"import": Costs([], [], []), "core": Costs([], [], [])}
    written_by = ["import"]  # which side wrote what the tables hold now

    def round_of(side: str, fn: Callable[[], object]) -> Callable[[], float]:
        def run() -> float:
            _empty(period.id, database)
            wall = _run_measured(fn, database, sides[side])
            written_by[0] = side
            return wall
        return run

    log(f"[{results.backend}] {label} beside a Core executemany of the same rows, {ROUNDS} alternating rounds")
    try:
        spreads = alternate({"import": round_of("import", import_roster), "core": round_of("core", core_executemany)},
                            ROUNDS)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("import", label, f"<= {IMPORT_RATIO:g} x", exc)
        return None
    if written_by[0] != "import":  # the rest of the run needs a period as an import leaves it
        _empty(period.id, database)
        with unit_of_work(BENCH_ACTOR):
            report = eligibility.import_roster(period, roster_file, "roster.csv")
    ratio = spreads["import"].median / spreads["core"].median
    results.add(Figure("import", label, "", spreads["import"].median, spreads["import"].text("{:.1f}", " s"))).note = (
        f"{len(report.added):,} added, {report.rights_added:,} rights; {sides['import'].per_thousand(n)}")
    results.add(Figure("import_core", "  Core executemany of the same rows", "", spreads["core"].median,
                       spreads["core"].text("{:.1f}", " s"))).note = (
        f"{len(members):,} members, {len(rights):,} rights; {sides['core'].per_thousand(n)}")
    results.add(Figure("import_ratio", "  import / Core executemany", f"<= {IMPORT_RATIO:g} x", ratio,
                       f"{ratio:.2f} x", ratio <= IMPORT_RATIO)).note = (
        f"by CPU (app + database, medians): {sides['import'].cpu() / sides['core'].cpu():.2f} x")

    label = "roster re-import, same file (no change)"
    log(f"[{results.backend}] {label}, {ROUNDS} rounds")
    again = Costs([], [], [])
    reports = []
    try:
        for _ in range(ROUNDS):
            _run_measured(lambda: reports.append(import_roster()), database, again)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("reimport", label, f"< {REIMPORT_SECONDS:g} s", exc)
    else:
        spread = Spread(again.wall)
        last = reports[-1]
        results.add(Figure("reimport", label, f"< {REIMPORT_SECONDS:g} s", spread.median, spread.text("{:.1f}", " s"),
                           spread.median < REIMPORT_SECONDS)).note = (
            f"{len(last.added)} added, {len(last.changed)} changed, {len(last.removed)} removed; "
            f"{again.per_thousand(n)}")
    return measure(results, "opt_in", f"send opt-in, {n:,} rights", None, lambda: eligibility.send_opt_in(period),
                   lambda queued: f"{queued:,} messages queued") or 0


def _run_measured(fn: Callable[[], object], database: Database, costs: Costs) -> float:
    """Run ``fn`` as one unit of work, committed; record its wall-clock and CPU seconds in ``costs``."""
    gc.collect()
    backends = database.server_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    with unit_of_work(BENCH_ACTOR):
        fn()
    elapsed = time.perf_counter() - wall
    costs.wall.append(elapsed)
    costs.app.append(time.process_time() - cpu)
    costs.database.append(sum(cpu - backends.get(pid, 0.0) for pid, cpu in database.server_cpu().items()))
    return elapsed


def _empty(period_id: int, database: Database) -> None:
    """The period's members, rights and import history deleted (not timed); on PostgreSQL the tables are
    vacuumed, so that neither side meets the dead rows of the round before."""
    with unit_of_work(BENCH_ACTOR):
        for model in (VotingRight, Member, RosterImport):
            db.session.execute(delete(model).where(model.period_id == period_id))
    if database.backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) voting_right, member, roster_import"))
