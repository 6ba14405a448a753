"""Opening a vote, tallying, and closing it: with every ballot sealed, and with every ballot missed.

Opening and closing are single operations at full size, so each is measured
over several rounds on votes of its own over the same electorate: ``rounds``
fresh votes are opened one after another, and the closes take turns, a vote
with a sealed ballot from every right, then one that every right missed
(``harness.alternate``). Each round reports its wall-clock seconds, the CPU
seconds of this process, of the worker processes the close starts to open
the ballots, and of the PostgreSQL backends, and for the close its peak
memory. See bench/README.md.
"""

from __future__ import annotations

import base64
import cProfile
import datetime as dt
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from harness import BENCH_ACTOR, Database, Figure, Results, Spread, alternate, log, process_cpu, seconds_figure, timed
from sqlalchemy import delete, func, insert, literal, select, text

from ballot import create_app, sealing
from ballot.bulk import insert_rows
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import MissedVote
from ballot.extensions import db
from ballot.timestamps import utcnow
from ballot.tokens import BALLOT_LINK, token_service
from ballot.unit_of_work import unit_of_work
from ballot.votes import casting, lifecycle, opening
from ballot.votes import rules as vote_rules
from ballot.votes.models import OPEN, ElectorateEntry, ParticipationRecord, SealedBallot, Vote
from ballot.votes.tally import tally

SEED_CASTS = 200  # ballots cast in-process through casting.cast_ballot into each vote before its close
ROUNDS = 3  # votes opened, and closes of each kind
OPEN_LIMIT, CLOSE_LIMIT, CLOSE_MEMORY_LIMIT, CLOSE_MISSED_LIMIT = 5.0, 5.0, 300, 3.0  # seconds, MB (issue 12)


# Measuring one operation: wall, CPU (here, in worker processes, in the database), peak memory ---------------

@dataclass
class Round:
    """One timed operation."""

    wall: float
    cpu: float  # the process that did it
    cpu_workers: float  # the worker processes it started (reaped by its end)
    cpu_db: float  # the PostgreSQL backends serving the database
    peak_mb: float = 0.0  # that process and its workers at their largest together (0: not measured)
    before_mb: float = 0.0  # that process's size as the operation began


def measured(fn, database: Database) -> tuple[object, Round]:
    """Run ``fn`` here as one unit of work (``harness.timed``) and measure it."""
    backends, children = database.server_cpu(), _children_cpu()
    value, wall, cpu = timed(fn)
    cpu_db = sum(now - backends.get(pid, 0.0) for pid, now in database.server_cpu().items())
    return value, Round(wall, cpu, _children_cpu() - children, cpu_db)


def close_in_own_process(vote_id: int) -> tuple[dict, Round]:
    """Close a vote in a process of its own, as ``ballot vote close`` or the worker would, and measure the
    close there: its peak memory is then that of such a process, not of this one, which holds the whole
    benchmark's leftovers (see ``_measure_close``)."""
    measure = _in_own_process("close", vote_id)
    return measure.pop("closed"), Round(**measure)


def opening_in_own_process(vote_id: int) -> Round:
    """Open a vote's sealed ballots alone, in a process of its own, changing nothing (``_measure_opening``)."""
    return Round(**_in_own_process("opening", vote_id))


def _in_own_process(what: str, vote_id: int) -> dict:
    db.session.rollback()  # on SQLite, a transaction of this process would hold the write lock
    done = subprocess.run([sys.executable, __file__, what, str(vote_id)], capture_output=True, text=True,
                          timeout=1200, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {what}'s process failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure_close(vote_id: int) -> dict:
    """In the close's own process: create the app, close the vote as one unit of work, measure it."""
    logging.disable(logging.INFO)
    app = create_app()
    with app.app_context():
        vote = db.session.get_one(Vote, vote_id)
        backends, children = _database_cpu(), _children_cpu()
        memory = PeakMemory()
        try:
            if os.environ.get("BENCH_PROFILE"):  # a directory: the close's profile is written there
                profile = cProfile.Profile()
                closed, wall, cpu = timed(lambda: profile.runcall(lifecycle.close_vote, vote))
                profile.dump_stats(f"{os.environ['BENCH_PROFILE']}/close-{vote_id}.prof")
            else:
                closed, wall, cpu = timed(lambda: lifecycle.close_vote(vote))
        finally:
            memory.stop()
        measure = Round(wall, cpu, _children_cpu() - children, _database_cpu() - backends, memory.peak_mb,
                        memory.before_mb)
    return {"closed": {key: closed[key] for key in ("ballots", "missed", "forfeited") if key in closed},
            **measure.__dict__}


def _measure_opening(vote_id: int) -> dict:
    """In a process of its own: what a close of the vote cannot do without, alone. Its sealed ballots, read
    beforehand (not timed), opened by ``opening.open_ballots`` as the close opens them, in as many worker
    processes, a chunk at a time; nothing written. The close's floor on this machine at this time: the
    rest of a close is its reads and writes, the count and the record."""
    logging.disable(logging.INFO)
    app = create_app()
    with app.app_context():
        vote = db.session.get_one(Vote, vote_id)
        assert vote.wrapped_key is not None, "the vote is open, its key wrapped under the sealing key"
        key = X25519PrivateKey.from_private_bytes(sealing.unwrap_vote_key(
            base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"]), vote.id, vote.wrapped_key))
        chunks = list(lifecycle.sealed_ballots(vote))  # as the close reads them, read to the end
        db.session.rollback()
        processes = opening.processes_for(app.config["BALLOT_OPENING_PROCESSES"])
        children = _children_cpu()
        _, wall, cpu = timed(lambda: opening.open_ballots(vote.id, key, chunks, processes))
        return Round(wall, cpu, _children_cpu() - children, 0.0).__dict__


def _database_cpu() -> float:
    """CPU seconds so far of the PostgreSQL backends serving this process's database (SQLite: none)."""
    if db.engine.dialect.name != "postgresql":
        return 0.0
    pids = db.session.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    db.session.rollback()
    return sum(process_cpu(pid) for pid in pids)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class PeakMemory:
    """The peak memory of this process and its child processes together, from now until ``stop``.

    This process's high-water mark is reset (``/proc/self/clear_refs``) and
    read at the end (VmHWM), which misses nothing. Its children (the close's
    worker processes, forked from it) share most of their pages with it: what
    each holds of its own (``Private_Clean`` + ``Private_Dirty``) is sampled
    every 100 ms and added at its largest.
    """

    def __init__(self, every: float = 0.1):
        Path("/proc/self/clear_refs").write_text("5")
        self.before_mb = _status_mb("VmRSS")
        self.peak_mb = self._children_mb = 0.0
        self._done = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(self._every):
            self._children_mb = max(self._children_mb, sum(_private_mb(pid) for pid in _children()))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self.peak_mb = _status_mb("VmHWM") + self._children_mb


def _children() -> list[int]:
    pids = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def _private_mb(pid: int) -> float:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0.0
    return sum(int(line.split()[1]) for line in lines if line.startswith("Private_")) / 1024


def _status_mb(field_name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def rounds_figure(key: str, label: str, target: str, rounds: list[Round], met: bool | None,
                  memory: bool = False) -> Figure:
    """A figure from several rounds: the median and range of the wall-clock seconds (and of the peak memory),
    with the median CPU seconds per part in the note."""
    walls = Spread([r.wall for r in rounds])
    text = walls.text(unit=" s")
    if memory:
        text += f", {statistics.median(r.peak_mb for r in rounds):.0f} MB"
    figure = Figure(key, label, target, walls.median, text, met)

    def median(part: str) -> float:
        return statistics.median(getattr(r, part) for r in rounds)
    figure.note = (f"{len(rounds)} rounds; cpu (median) {median('cpu'):.2f} s in the process, "
                   f"{median('cpu_workers'):.2f} s in its workers, {median('cpu_db'):.2f} s in PostgreSQL")
    if memory:
        peaks = Spread([r.peak_mb for r in rounds])
        figure.note += (f"; closed in a process of its own: peak memory with its workers "
                        f"{peaks.text('{:.0f}', ' MB')}, {median('before_mb'):.0f} MB before the close")
    return figure


# Opening ---------------------------------------------------------------------------------------------------

@dataclass
class Opened:
    """What ``bench_open`` measured (None: it failed), and the votes it opened."""

    figure: Figure | None
    votes: list[Vote] = field(default_factory=list)  # open, in the order they were opened


def bench_open(results: Results, period, enrolled: int, database: Database, rounds: int = ROUNDS,
               suffix: str = "") -> Opened:
    """Open ``rounds`` fresh charter votes over the period's electorate, one after another, timing each
    opening: the electorate frozen, the vote's keys made, a link queued per right. The figure is added
    to ``results`` as ``"open" + suffix`` and returned with the votes (still open)."""
    label = f"open vote, {enrolled:,} rights, links queued"
    log(f"[{results.backend}] {label} ({rounds} votes)")
    opened, measures = [], []
    try:
        for _ in range(rounds):
            vote = _draft(period, "charter", "Charter of the Benchmark Working Group",
                          "Do you approve the charter of the Benchmark Working Group?")
            size, measure = measured(lambda vote=vote: lifecycle.open_vote(vote), database)
            opened.append(vote)
            measures.append(measure)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("open" + suffix, label, f"< {OPEN_LIMIT:g} s", exc)
        return Opened(None, opened)
    wall = statistics.median(m.wall for m in measures)
    figure = results.add(rounds_figure("open" + suffix, label, f"< {OPEN_LIMIT:g} s", measures, wall < OPEN_LIMIT))
    figure.note = f"{size:,} in the electorate and the outbox; " + figure.note
    return Opened(figure, opened)


def _draft(period, kind: str, title: str, question: str) -> Vote:
    with unit_of_work(BENCH_ACTOR):
        return lifecycle.create_vote(period, kind, title, utcnow() + dt.timedelta(days=14), questions=[question])


def bench_tally(results: Results, vote: Vote, period, n: int) -> None:
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


def bench_close(app, results: Results, period, votes: list[Vote], rounds: int = ROUNDS,
                suffix: str = "") -> dict[str, Figure]:
    """Close votes in turns: one with a sealed ballot from every right of its electorate (figure
    ``"close" + suffix``), then one over the same electorate that every right missed (``"close_missed" +
    suffix``), ``rounds`` of each. ``votes`` are open votes over the electorate (as ``bench_open`` leaves
    them), closed with a sealed ballot per right; more are opened if there are fewer than ``rounds``.

    What a round prepares is not timed: the ballots (``SEED_CASTS`` cast through ``casting.cast_ballot``,
    then copied, each copy under a fresh random id, to one per right: the close opens every row on its own,
    so the copies cost it what distinct ballots would); for a missed round, a vote set open directly in the
    tables with the same electorate. After a missed round its missed votes are deleted again, so that each
    round starts from the same state: nobody has missed a vote, and nobody forfeits.

    Each close runs in a process of its own (``close_in_own_process``), which measures it.
    """
    votes = list(votes) or [_opened_now(period)]
    first = votes[0]
    n = db.session.scalar(select(func.count()).select_from(ElectorateEntry).where(ElectorateEntry.vote_id == first.id))
    db.session.rollback()
    sealed_label, missed_label = f"close_vote, {n:,} sealed ballots", f"close_vote, 0 ballots, {n:,} missed"
    opening_label = f"{n:,} ballots opened alone"
    sealed: list[Round] = []
    alone: list[Round] = []  # the same ballots opened just before each sealed close (_measure_opening)
    missed: list[Round] = []
    notes: dict[str, str] = {}
    doing = ["close"]  # the side of the round under way, to name a failure

    def sealed_round() -> float:
        doing[0] = "close"
        vote = votes.pop(0) if votes else _opened_now(period)
        count = _fill_with_ballots(app, results, vote)
        log(f"[{results.backend}] {opening_label} (round {len(sealed) + 1})")
        alone.append(opening_in_own_process(vote.id))
        log(f"[{results.backend}] {sealed_label} (round {len(sealed) + 1})")
        closed, measure = close_in_own_process(vote.id)
        sealed.append(measure)
        notes["close"] = (f"{closed['ballots']:,} ballots opened and counted of {count:,} sealed, "
                          f"{closed['missed']:,} missed")
        return measure.wall

    def missed_round() -> float:
        doing[0] = "close_missed"
        vote = _open_directly(app, period, first, n)
        log(f"[{results.backend}] {missed_label} (round {len(missed) + 1})")
        closed, measure = close_in_own_process(vote.id)
        missed.append(measure)
        notes["close_missed"] = f"{closed['missed']:,} missed votes recorded, {closed['forfeited']} forfeited"
        db.session.execute(delete(MissedVote).where(MissedVote.vote_id == vote.id))
        db.session.commit()
        return measure.wall

    figures: dict[str, Figure] = {}
    try:
        alternate({"close": sealed_round, "close_missed": missed_round}, rounds)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        label, target = ((sealed_label, f"< {CLOSE_LIMIT:g} s") if doing[0] == "close"
                         else (missed_label, f"< {CLOSE_MISSED_LIMIT:g} s"))
        results.failed(doing[0] + suffix, label, target, exc)
        return figures
    wall, memory = statistics.median(r.wall for r in sealed), statistics.median(r.peak_mb for r in sealed)
    target = f"<{CLOSE_LIMIT:g} s, <{CLOSE_MEMORY_LIMIT} MB"  # as narrow as the table's column
    figures["close"] = results.add(rounds_figure(
        "close" + suffix, sealed_label, target, sealed, wall < CLOSE_LIMIT and memory < CLOSE_MEMORY_LIMIT, True))
    figures["close"].note = notes["close"] + "; " + figures["close"].note
    figures["close_opening"] = results.add(rounds_figure(
        "close_opening" + suffix, f"  {opening_label} (floor)", "", alone, None))
    figures["close_opening"].note = ("the same ballots, read beforehand, opened by the same worker processes "
                                     "just before each close; " + figures["close_opening"].note)
    ratio = Spread([c.wall / o.wall for c, o in zip(sealed, alone, strict=True)])
    figures["close_over_opening"] = results.add(Figure(
        "close_over_opening" + suffix, "  close / opening alone", "", ratio.median,
        ratio.text("{:.2f}", " x"), None, "the rounds' own ratios: what the close adds to opening the ballots"))
    wall = statistics.median(r.wall for r in missed)
    figures["close_missed"] = results.add(rounds_figure(
        "close_missed" + suffix, missed_label, f"< {CLOSE_MISSED_LIMIT:g} s", missed, wall < CLOSE_MISSED_LIMIT,
        True))
    figures["close_missed"].note = notes["close_missed"] + "; " + figures["close_missed"].note
    return figures


def _opened_now(period) -> Vote:
    """Another charter vote over the period's electorate, opened by the service (not timed)."""
    vote = _draft(period, "charter", "Charter of the Benchmark Working Group",
                  "Do you approve the charter of the Benchmark Working Group?")
    with unit_of_work(BENCH_ACTOR):
        lifecycle.open_vote(vote)
    return vote


def _fill_with_ballots(app, results: Results, vote: Vote) -> int:
    """A sealed ballot and a participation record for every right of the vote's electorate; how many sealed.

    ``SEED_CASTS`` ballots cast through ``casting.cast_ballot``; the rest sealed here as a cast seals them
    (``casting.seal_ballot``: each with its own anonymous token, so the record holds as many distinct tokens
    and receipts as a real close's, which matters to how it is stored) and written in bulk.
    """
    voted = set(db.session.scalars(select(ParticipationRecord.right_id).where(ParticipationRecord.vote_id == vote.id)))
    electorate = db.session.scalars(
        select(ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id).order_by(ElectorateEntry.right_id))
    waiting = [r for r in electorate if r not in voted]
    seeds, rest = waiting[:SEED_CASTS], waiting[SEED_CASTS:]
    log(f"[{results.backend}] casting {len(seeds)} ballots with casting.cast_ballot into vote {vote.id}, sealing "
        f"{len(rest):,} more (not timed)")
    rng = random.Random(3)
    links = token_service(app.config, BALLOT_LINK)

    def form() -> dict:
        return {q["id"]: [rng.choice(q["choices"])] for q in vote.questions}

    for right_id in seeds:
        with unit_of_work(BENCH_ACTOR):
            casting.cast_ballot(vote.id, links.dumps({"v": vote.id, "r": right_id}, vote.closes_at), form())
    assert vote.public_key is not None, "an open vote has its public key"
    box = casting.BallotBox.of(vote.id, vote.questions, vote.rules, vote.public_key, 0)
    today = utcnow().date()
    for start in range(0, len(rest), 20_000):
        chunk = rest[start:start + 20_000]
        insert_rows(ParticipationRecord.__table__, [{"vote_id": vote.id, "right_id": r, "voted_on": today}
                                                    for r in chunk])
        insert_rows(SealedBallot.__table__, [
            {"id": os.urandom(16).hex(), "vote_id": vote.id,
             "ciphertext": casting.seal_ballot(box, casting.check_ballot(box, form()))[1]}
            for _ in chunk])
        db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.vote_id == vote.id))
    db.session.commit()
    return count


def _open_directly(app, period, like: Vote, size: int) -> Vote:
    """A vote that nobody casts in, set open directly in the tables with ``like``'s electorate (not timed:
    opening is measured on its own)."""
    with unit_of_work(BENCH_ACTOR):
        vote = lifecycle.create_vote(period, "policy", "A vote nobody casts", utcnow() + dt.timedelta(days=14),
                                     questions=["Adopt the benchmark policy?"])
    vote.public_key, vote.wrapped_key = sealing.new_vote_keys(
        base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"]), vote.id)
    vote.status, vote.opened_at, vote.electorate_size = OPEN, utcnow(), size
    db.session.execute(insert(ElectorateEntry).from_select(
        ["vote_id", "right_id"],
        select(literal(vote.id), ElectorateEntry.right_id).where(ElectorateEntry.vote_id == like.id),
    ))
    db.session.commit()
    return vote


if __name__ == "__main__":  # python bench/voting.py close|opening VOTE_ID: measured (_in_own_process)
    print(json.dumps({"close": _measure_close, "opening": _measure_opening}[sys.argv[1]](int(sys.argv[2]))))
