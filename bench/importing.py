"""The roster: importing a whole membership, importing the same file again, the year's opt-in campaign."""

from __future__ import annotations

from harness import Results, measure

from ballot.eligibility import services as eligibility


def bench_import(results: Results, period, roster_file: bytes, n: int) -> int | None:
    """Import, re-import, then queue the opt-in campaign; the number of messages queued (None: import failed)."""
    def import_roster():
        return eligibility.import_roster(period, roster_file, "roster.csv")

    report = measure(results, "import", f"roster import, {n:,} members (new)", 10, import_roster,
                     lambda r: f"{len(r.added):,} added, {r.rights_added:,} rights")
    if report is None:
        return None
    measure(results, "reimport", "roster re-import, same file (no change)", 10, import_roster,
            lambda r: f"{len(r.added)} added, {len(r.changed)} changed, {len(r.removed)} removed")
    return measure(results, "opt_in", f"send opt-in, {n:,} rights", None, lambda: eligibility.send_opt_in(period),
                   lambda queued: f"{queued:,} messages queued") or 0
