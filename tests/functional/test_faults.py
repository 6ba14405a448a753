"""Faults, shown: the app and the worker killed mid-way and started again lose and repeat nothing.

Real processes on a database with real commits, on SQLite and PostgreSQL: the
app under gunicorn, `ballot worker` and `ballot vote close`, each configured
by a BALLOT_CONFIG file, are killed without warning (SIGKILL, as the kernel's
OOM killer or a power cut would) in the middle of their work, then started
again on the same database:

- in a cast load, every ballot a voter was shown a receipt for is in the
  published record; whenever the vote is looked at, the ledger (who voted) and
  the ballot box (sealed ballots) hold as many rows as each other; a voter
  whose cast went unanswered finds it either recorded or not, never half;
- in a mail run, no message reaches the mail server twice: a message the dead
  worker left "sending" is not sent again by itself, and is reported as stuck;
- in a close, whoever runs it (the worker or an administrator's command), the
  vote is after any kill either still open with all its sealed ballots and
  participation, or closed with its whole record; closing it again gives the
  same record, and no vote is left stuck.

Some kills land at a moment the test makes sure of (casts or a close held up
by a lock the test holds, a message held by the mail server); the others at
moments drawn at random from a seed printed with each test (``-s`` shows it),
which BALLOT_FAULTS_SEED replays.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, update

from ballot.audit.models import AuditEvent
from ballot.eligibility.models import MissedVote
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import SENDING, SENT, OutboxMessage
from ballot.timestamps import utcnow
from ballot.tokens import BALLOT_LINK
from ballot.unit_of_work import unit_of_work
from ballot.votes import casting, lifecycle, queries
from ballot.votes.models import CLOSED, OPEN, Vote
from tests.conftest import Inbox, mail_server_for
from tests.functional.helpers import (
    RECEIPT,
    HttpBrowser,
    after_close,
    ballot_process,
    csrf_token,
    ledger_and_box,
    mailed_ballot_paths,
    open_box,
    open_vote,
    start_process,
    start_worker,
    write_config,
)

pytestmark = pytest.mark.faults

WAIT = 30  # seconds: the longest any one step may take before the test gives up


@pytest.fixture
def rng() -> random.Random:
    """Where the random moments come from; the seed is printed, and BALLOT_FAULTS_SEED replays it."""
    seed = int(os.environ.get("BALLOT_FAULTS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"BALLOT_FAULTS_SEED={seed}")
    return random.Random(seed)


class Processes:
    """The service's processes a test starts (`ballot worker`, `ballot vote close`): none outlives the test."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def worker(self, config: Path, log: Path) -> subprocess.Popen:
        self.started.append(start_worker(config, log))
        return self.started[-1]

    def command(self, config: Path, log: Path, *args: str) -> subprocess.Popen:
        self.started.append(start_process(config, log, *args))
        return self.started[-1]

    def end(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def processes():
    started = Processes()
    yield started
    started.end()


def wait_until(condition, what: str, timeout: float = WAIT, every: float = 0.02):
    """Poll ``condition`` until it holds (returns its value), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"still waiting after {timeout} s: {what}"
        time.sleep(every)


def kill(process: subprocess.Popen, may_have_finished: bool = False) -> int:
    """SIGKILL a process of the service and reap it; its exit status (0 if it had finished, when it may have)."""
    process.kill()
    status = process.wait(timeout=10)
    assert status == -signal.SIGKILL or (may_have_finished and status == 0), status
    return status


def stop(process: subprocess.Popen, log: Path) -> None:
    """Stop a worker as an administrator does (SIGTERM): it finishes the item in hand and exits cleanly."""
    process.terminate()
    assert process.wait(timeout=WAIT) == 0, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def vote_status(app, vote_id: int) -> str:
    with app.app_context():
        status = db.session.scalar(select(Vote.status).where(Vote.id == vote_id))
        db.session.rollback()
    return status


def closing_time_comes(app, vote_id: int) -> None:
    """The vote's closing time arrives (set to now, rather than waited for): the worker's to close it."""
    with app.app_context(), unit_of_work("test"):
        db.session.execute(update(Vote).where(Vote.id == vote_id).values(closes_at=utcnow()))


def nothing_failed(config: Path) -> None:
    """`ballot worker status`: no item failed and no message was left half-sent (that long ago)."""
    assert ballot_process(config, "worker", "status") == {"failures": [], "stuck_messages": []}


# A cast load ----------------------------------------------------------------------------------

VOTERS = 40
BROWSERS = 8  # voters casting at once
HELD = 3  # of them, voters whose casts wait on the database when the whole server dies
REQUEST_TIMEOUT = 15


class Hold:
    """Voters held back at their cast until the test has locked the vote: their casts then wait on the
    database, and are surely in flight, neither recorded nor answered, when the server dies."""

    def __init__(self) -> None:
        self.ready = threading.Semaphore(0)  # a held voter has their ballot page
        self.go = threading.Event()
        self.sent = threading.Semaphore(0)  # a held voter's cast has gone out

    @staticmethod
    def each(semaphore: threading.Semaphore, what: str) -> None:
        for _ in range(HELD):
            assert semaphore.acquire(timeout=WAIT), what


class Acknowledgements:
    """Receipts shown to voters, counted as they come."""

    def __init__(self) -> None:
        self.shown = threading.Semaphore(0)
        self.seen = 0

    def wait_for(self, count: int) -> None:
        while self.seen < count:
            assert self.shown.acquire(timeout=WAIT), "the voters stopped being answered"
            self.seen += 1


@dataclass
class Voter:
    """A voter casting through a browser, who tries again while the server does not answer."""

    port: int
    path: str
    hold: Hold | None = None
    receipt: str | None = None  # shown after the cast: the ballot was acknowledged
    casts_unanswered: int = 0  # casts sent that got no answer (the process answering died)

    def vote(self, acknowledgements: Acknowledgements) -> Voter:
        browser = HttpBrowser(self.port, timeout=REQUEST_TIMEOUT)
        hold = self.hold
        deadline = time.monotonic() + 3 * WAIT
        while time.monotonic() < deadline:
            casting_now = False
            try:
                status, page = browser.request("GET", self.path)
                shown = RECEIPT.search(page) if status == 200 else None
                if shown:  # the cast was answered (its receipt is in this browser), the page after it was not
                    self.receipt = shown.group(1)
                    acknowledgements.shown.release()
                    return self
                if status == 200 and "You have already voted" in page:
                    assert self.casts_unanswered, "a ballot was recorded that its voter never cast"
                    return self  # the ballot was recorded, but the answer with its receipt was lost
                assert status == 200, page
                form = {"csrf_token": csrf_token(page), "q1": "yes", "step": "cast"}
                if hold is not None:
                    hold.ready.release()
                    assert hold.go.wait(timeout=3 * WAIT), "the held voter was never let go"
                sent, hold = (hold.sent.release if hold else None), None
                casting_now = True
                status, page = browser.request("POST", self.path, form, sent=sent)
            except (OSError, http.client.HTTPException):
                self.casts_unanswered += casting_now
                time.sleep(0.2)
                continue
            if status == 409 and "already been cast" in page:
                assert self.casts_unanswered, "a ballot was recorded that its voter never cast"
                return self
            assert status == 200, page
            self.receipt = RECEIPT.search(page).group(1)
            acknowledgements.shown.release()
            return self
        raise AssertionError(f"the voter could not cast within {3 * WAIT} s")


class Snapshots(threading.Thread):
    """Reads (ledger, box) of an open vote again and again while the load runs."""

    def __init__(self, app, vote_id: int):
        super().__init__(daemon=True)
        self.app, self.vote_id = app, vote_id
        self.taken: list[tuple[int, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.taken.append(ledger_and_box(self.app, self.vote_id))


@contextlib.contextmanager
def vote_locked(app, vote_id: int):
    """The test holds the vote's row for update (SQLite: the database's write lock): casts wait for it."""
    with app.app_context():
        db.session.execute(select(Vote.id).where(Vote.id == vote_id).with_for_update())
        try:
            yield
        finally:
            db.session.rollback()


def test_the_app_and_the_worker_killed_mid_cast_load_lose_no_acknowledged_ballot(
    committed_app, gunicorn, inbox, processes, tmp_path, rng,
):
    app = committed_app
    vote_id, rights = open_vote(app, VOTERS)
    paths = list(mailed_ballot_paths(app, inbox, vote_id, rights).values())
    rng.shuffle(paths)
    worker_log = tmp_path / "worker.log"
    worker = processes.worker(gunicorn.config, worker_log)
    acknowledgements = Acknowledgements()
    hold = Hold()
    snapshots = Snapshots(app, vote_id)
    snapshots.start()

    with ThreadPoolExecutor(max_workers=BROWSERS) as pool:
        # The held voters first, so that they take their places at once.
        voters = [Voter(gunicorn.port, path, hold if i < HELD else None) for i, path in enumerate(paths)]
        futures = [pool.submit(voter.vote, acknowledgements) for voter in voters]
        Hold.each(hold.ready, "the held voters to open their ballots")
        # Two app processes die at random moments of the load, one after the other; gunicorn starts others.
        for low, high in ((3, 8), (12, 18)):
            acknowledgements.wait_for(rng.randint(low, high))
            gunicorn.kill_worker(rng.choice(gunicorn.worker_pids()))
        # Then the whole server and the worker die at once, with the held voters' casts waiting on the
        # database, and other requests wherever they are.
        acknowledgements.wait_for(rng.randint(22, 28))
        with vote_locked(app, vote_id):
            hold.go.set()
            Hold.each(hold.sent, "the held voters' casts to go out")
            gunicorn.kill()
            kill(worker)
        ledger, box = ledger_and_box(app, vote_id)
        assert ledger == box, "with nothing running, the ledger and the ballot box are equal"
        time.sleep(rng.uniform(0, 0.5))  # the voters meanwhile find nobody answering
        gunicorn.start()
        worker = processes.worker(gunicorn.config, worker_log)
        voters = [future.result(timeout=4 * WAIT) for future in futures]
    snapshots.done.set()
    snapshots.join(timeout=WAIT)

    assert all(voter.casts_unanswered for voter in voters[:HELD]), "the held casts died with the server"
    assert snapshots.taken and all(ledger == box for ledger, box in snapshots.taken), snapshots.taken
    acknowledged_receipts = {v.receipt for v in voters if v.receipt}
    assert len(acknowledged_receipts) == len([v for v in voters if v.receipt])
    # Every voter cast exactly one ballot in the end: those who lost the answer found their ballot recorded.
    assert ledger_and_box(app, vote_id) == (VOTERS, VOTERS)
    sealed = open_box(app, vote_id)
    assert len(set(sealed)) == VOTERS and acknowledged_receipts <= set(sealed)

    # No vote stuck: at its closing time the restarted worker closes it, and nothing failed.
    closing_time_comes(app, vote_id)
    wait_until(lambda: vote_status(app, vote_id) == CLOSED, "the worker to close the vote")
    listed, voted, missed = after_close(app, vote_id)
    assert sorted(listed) == sorted(sealed) and (voted, missed) == (set(rights.values()), set())
    nothing_failed(gunicorn.config)
    stop(worker, worker_log)

    # Published, the record holds every acknowledged ballot: each voter finds their receipt.
    ballot_process(gunicorn.config, "vote", "publish", str(vote_id))
    for voter in voters:
        if voter.receipt:
            browser = HttpBrowser(gunicorn.port, timeout=REQUEST_TIMEOUT)
            status, page = browser.request("GET", f"/votes/{vote_id}/results")
            assert status == 200, page
            status, page = browser.request("POST", f"/votes/{vote_id}/results",
                                           {"csrf_token": csrf_token(page), "receipt": voter.receipt})
            assert status == 200 and "is among the counted ballots" in page, page


# A mail run ---------------------------------------------------------------------------------

MESSAGES = 60


@dataclass
class CountingInbox(Inbox):
    """The test's mail server: counts the deliveries of each message (its recipient and subject) and, asked to,
    kills a process when a message arrives, before answering it."""

    deliveries: Counter = field(default_factory=Counter)
    kill_on: tuple[int, int] | None = None  # (n, pid): kill pid when the n-th delivery (or a later one) arrives
    held: tuple[str, str] | None = None  # the message that arrived as the process was killed

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        with self.lock:
            key = (envelope.rcpt_tos[0], self.messages[-1]["Subject"])
            self.deliveries[key] += 1
            if self.kill_on and self.delivered() >= self.kill_on[0]:
                os.kill(self.kill_on[1], signal.SIGKILL)
                self.held, self.kill_on = key, None
        return answer

    def delivered(self) -> int:
        return sum(self.deliveries.values())


@pytest.fixture
def mail_server():
    """A mail server of the test's own on 127.0.0.1: its inbox, and its port."""
    inbox = CountingInbox()
    with mail_server_for(inbox) as controller:
        yield inbox, controller.port


def outbox_rows(app) -> dict[tuple[str, str], tuple[int, str]]:
    """Every message in the outbox: (recipient, subject) -> (id, status)."""
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.to_address, OutboxMessage.subject, OutboxMessage.id,
                                         OutboxMessage.status)).all()
        db.session.rollback()
    return {(to, subject): (id_, status) for to, subject, id_, status in rows}


def test_the_worker_killed_mid_mail_run_sends_no_message_twice(committed_app, mail_server, processes, tmp_path, rng):
    app = committed_app
    inbox, port = mail_server
    open_vote(app, MESSAGES)  # a ballot link queued for each voter
    batch = 10  # several batches in the run, each bounding what a kill leaves "sending"
    config = write_config(app, tmp_path / "worker_config.py", MAIL_PORT=port, BALLOT_MAIL_BATCH=batch)
    log = tmp_path / "worker.log"

    # Killed as the mail server takes a message and before it answers: delivered, and the worker never knew.
    worker = processes.worker(config, log)
    inbox.kill_on = (rng.randint(3, 15), worker.pid)
    assert worker.wait(timeout=WAIT) == -signal.SIGKILL
    held = inbox.held
    # Killed at a random moment of a run: claiming a message, handing it over, recording that it was sent.
    worker = processes.worker(config, log)
    delivered = rng.randint(25, 45)
    wait_until(lambda: inbox.delivered() >= delivered, "the worker to send again")
    time.sleep(rng.uniform(0, 0.05))
    kill(worker)
    # Started again, it sends the rest, and only the rest: every message but those the dead workers had
    # claimed (left "sending") ends sent. Then stopped, it exits cleanly.
    left_claimed = {key for key, (_, status) in outbox_rows(app).items() if status == SENDING}
    worker = processes.worker(config, log)
    wait_until(lambda: f"worker {worker.pid} started" in log.read_text(), "the worker to start")
    wait_until(lambda: all(status == SENT or key in left_claimed for key, (_, status) in outbox_rows(app).items()),
               "the run to end", every=0.1)
    stop(worker, log)

    rows = outbox_rows(app)
    sending = {key for key, (_, status) in rows.items() if status == SENDING}
    sent = set(rows) - sending
    assert len(rows) == MESSAGES and {status for _, status in rows.values()} <= {SENT, SENDING}
    assert max(inbox.deliveries.values()) == 1, "a message reached the mail server twice"
    assert {key: inbox.deliveries[key] for key in sent} == dict.fromkeys(sent, 1), "a message sent was delivered"
    assert held in sending and inbox.deliveries[held] == 1, "the message held as the worker died was delivered once"
    # The held one's batch, and perhaps the batch in hand at the random kill: claimed, never known to be sent.
    assert 1 <= len(sending) <= 2 * batch, sending

    # Claimed moments ago, they are not reported yet: a live worker could still be sending them.
    assert ballot_process(config, "mail", "status") == {SENT: len(sent), SENDING: len(sending)}

    # A day on, they are reported as stuck, for an administrator to check in the mail server's log;
    # the worker still does not send them again by itself: they may have been delivered.
    with app.app_context(), unit_of_work("test"):
        for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == SENDING)):
            message.next_attempt_at -= dt.timedelta(days=1)  # when it was claimed
    stuck_ids = sorted(rows[key][0] for key in sending)
    status = ballot_process(config, "mail", "status")
    assert {**status, "stuck": sorted(status["stuck"])} == {SENT: len(sent), SENDING: len(sending),
                                                           "stuck": stuck_ids}
    before = Counter(inbox.deliveries)
    ballot_process(config, "worker", "--once", json_output=False)
    assert inbox.deliveries == before, "nothing was sent again"


# A close ----------------------------------------------------------------------------------

ELECTORATE = 3300
BALLOTS = 3000  # sealed ballots to open at the close: enough for it to take a while
KILLS = 4  # at most: one held up for each closer, then at random moments until one lands after the commit


def cast_in_process(app, vote_id: int, right_ids: list[int]) -> list[str]:
    """Cast a ballot for each right, through the casting service with the links the outbox would mail
    (thousands of casts: too many for HTTP here); returns the receipts."""
    with app.app_context(), unit_of_work("test"):
        closes_at = queries.get_vote(vote_id).closes_at
        links = (outbox.link_token(BALLOT_LINK, {"v": vote_id, "r": right_id}, closes_at) for right_id in right_ids)
        answers = itertools.cycle(["yes", "no", "abstain"])
        return [casting.cast_ballot(vote_id, link, {"q1": [next(answers)]}).receipt for link in links]


def links_went_out(app) -> None:
    """The ballot links were mailed long ago (so that the worker has no mail to send here)."""
    with app.app_context(), unit_of_work("test"):
        db.session.execute(update(OutboxMessage).values(status=SENT, context=None))


class Rehearsal(Exception):
    """Rolls a rehearsed close back."""


def rehearse_close(app, vote_id: int) -> tuple[float, str]:
    """A close of this vote done in this process and rolled back: how long it takes on this machine
    (seconds), and the record it makes."""
    with app.app_context(), pytest.raises(Rehearsal), unit_of_work("test"):
        started = time.monotonic()
        vote = queries.get_vote(vote_id)
        lifecycle.close_vote(vote)
        took, record = time.monotonic() - started, vote.record
        raise Rehearsal
    assert vote_status(app, vote_id) == OPEN
    return took, record


# Holds a reader's lock on a SQLite database in a process of its own (SQLite shares one process's locks
# among its connections, so the test's own probe could not see a writer waiting for them) until told to stop.
HOLD_READ_LOCK = """
import sqlite3, sys
reader = sqlite3.connect(sys.argv[1], isolation_level=None)
reader.execute("BEGIN")
reader.execute("SELECT count(*) FROM vote").fetchone()
print("held", flush=True)
sys.stdin.read()
"""


class Database:
    """The database seen from outside the service's processes, without taking part in their transactions.

    SQLite: a writer writes its rollback journal from its transaction's first
    change (a killed one leaves it behind: changes are what is watched), and
    must wait for every reader to be gone to commit. PostgreSQL: a transaction
    gets an id at its first change, or row lock.
    """

    def __init__(self, app):
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.path = self.url.removeprefix("sqlite:///") if self.url.startswith("sqlite") else None
        self.url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        # Autocommit: each look at pg_stat_activity is a transaction of its own, and so sees it afresh.
        self.postgres = None if self.path else psycopg.connect(self.url, autocommit=True)
        self.before = None

    def _journal(self):
        try:
            found = Path(self.path + "-journal").stat()
        except FileNotFoundError:
            return None
        return found.st_ino, found.st_size, found.st_mtime_ns

    def _backends(self, condition: str) -> int:
        return self.postgres.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND {condition}").fetchone()[0]

    def mark(self) -> None:
        self.before = self._journal() if self.path else None

    def writing(self) -> bool:
        """Whether a process has begun writing since ``mark``."""
        if self.path:
            return self._journal() not in (None, self.before)
        return self._backends("backend_xid IS NOT NULL") > 0

    @contextlib.contextmanager
    def holding_up_the_close(self):
        """Hold a lock that stops a close before it can commit. PostgreSQL: a share lock on the missed
        votes, which a close records after it has opened, counted and destroyed the ballots. SQLite: a
        reader's lock, which a writer must see gone before it commits."""
        if self.postgres:
            with psycopg.connect(self.url) as holder:
                holder.execute("LOCK TABLE missed_vote IN SHARE MODE")
                yield
                holder.rollback()
            return
        with subprocess.Popen([sys.executable, "-c", HOLD_READ_LOCK, self.path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) as holder:
            try:
                assert holder.stdout.readline() == "held\n"
                yield
            finally:
                holder.stdin.close()  # the holder reads to the end of its input, then lets go
                assert holder.wait(timeout=10) == 0

    def close_held_up(self) -> bool:
        """Whether a close waits on the lock ``holding_up_the_close`` holds. SQLite: a writer waiting to
        commit keeps new readers out (its pending lock), and only a writer waiting to commit does."""
        if self.postgres:
            return self._backends("wait_event_type = 'Lock'") > 0
        probe = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN")
            probe.execute("SELECT count(*) FROM vote").fetchone()
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc), exc
            return True
        finally:
            if probe.in_transaction:
                probe.execute("ROLLBACK")
            probe.close()

    def settle(self) -> None:
        """Wait until a killed process's transaction has ended (PostgreSQL notices the dead client)."""
        if self.postgres:
            wait_until(lambda: not self.writing(), "PostgreSQL to end the dead process's transaction")

    def close(self) -> None:
        if self.postgres:
            self.postgres.close()


@pytest.fixture
def database(committed_app):
    watch = Database(committed_app)
    yield watch
    watch.close()


def whole(app, vote_id: int, receipts: list[str], cast: set[int], others: set[int]) -> str:
    """The vote is open with all its sealed ballots and participation, or closed with all its record; which."""
    with app.app_context():
        vote = db.session.get(Vote, vote_id)
        status, keys, record, result = vote.status, (vote.public_key, vote.wrapped_key), vote.record, vote.result
        missed = db.session.scalar(select(func.count()).select_from(MissedVote).where(MissedVote.vote_id == vote_id))
        closes = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "vote.close", AuditEvent.subject.startswith(f"vote {vote_id}:")))
        db.session.rollback()
    if status == OPEN:
        assert None not in keys and (record, result, missed, closes) == (None, None, 0, 0)
        assert ledger_and_box(app, vote_id) == (len(cast), len(cast))
        assert sorted(open_box(app, vote_id)) == sorted(receipts), "the sealed ballots are those cast"
        return OPEN
    assert closes == 1, "one close, audited once"
    listed, voted, missed = after_close(app, vote_id)
    assert sorted(listed) == sorted(receipts), "the record lists every ballot cast"
    assert (voted, missed) == (cast, others)
    return CLOSED


def record_of(app, vote_id: int) -> str:
    with app.app_context():
        record = db.session.scalar(select(Vote.record).where(Vote.id == vote_id))
        db.session.rollback()
    return record


def test_a_close_killed_at_any_moment_is_done_whole_or_done_again_the_same(
    committed_app, database, processes, tmp_path, rng,
):
    app = committed_app
    vote_id, rights = open_vote(app, ELECTORATE, prefix="crowd")
    links_went_out(app)
    right_ids = list(rights.values())
    rng.shuffle(right_ids)
    cast, others = set(right_ids[:BALLOTS]), set(right_ids[BALLOTS:])
    receipts = cast_in_process(app, vote_id, right_ids[:BALLOTS])
    closing_time_comes(app, vote_id)
    takes, rehearsed = rehearse_close(app, vote_id)
    config = write_config(app, tmp_path / "ballot_config.py")
    log = tmp_path / "closers.log"
    # Who closes: the worker, at the closing time, or an administrator, by command; they take turns.
    closers = {
        "worker": lambda: processes.worker(config, log),
        "command": lambda: processes.command(config, log, "vote", "close", str(vote_id), "--json"),
    }
    turns = itertools.cycle(rng.sample(sorted(closers), 2))

    outcomes = []  # (closer, what its kill left: the vote open or closed, whole either way)
    # First each closer is held up inside the close, then killed: it surely dies before its commit.
    for closer in (next(turns), next(turns)):
        with database.holding_up_the_close():
            process = closers[closer]()
            wait_until(database.close_held_up, f"the {closer} to be held up inside the close")
            kill(process)
        database.settle()
        outcomes.append((closer, whole(app, vote_id, receipts, cast, others)))
    assert outcomes == [(closer, OPEN) for closer, _ in outcomes], "a close killed before its commit left nothing"
    # Then at random moments from its first write, up to two and a half times as long as the rehearsal
    # took (a close in a process of its own takes longer): inside the close, or in its commit, or after it.
    while len(outcomes) < KILLS and outcomes[-1][1] == OPEN:
        closer = next(turns)
        database.mark()
        process = closers[closer]()
        wait_until(database.writing, f"the {closer} to begin the close", every=0.002)
        time.sleep(rng.uniform(0, 2.5 * takes))
        finished = kill(process, may_have_finished=closer == "command") == 0
        database.settle()
        outcomes.append((closer, whole(app, vote_id, receipts, cast, others)))
        assert not finished or outcomes[-1][1] == CLOSED, "a close that ended well closed the vote"
    print(f"kills: {outcomes}")

    if outcomes[-1][1] == OPEN:  # done again, by the next closer, to the end
        if next(turns) == "worker":
            worker = processes.worker(config, log)
            wait_until(lambda: vote_status(app, vote_id) == CLOSED, "the worker to close the vote")
            stop(worker, log)
        else:
            ballot_process(config, "vote", "close", str(vote_id))
    assert whole(app, vote_id, receipts, cast, others) == CLOSED
    assert record_of(app, vote_id) == rehearsed, "the close done again made the record the first would have"
    nothing_failed(config)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
