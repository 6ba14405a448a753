"""`ballot worker`: each item on its own, failures shown and retried, one outcome per race, a clean stop."""

from __future__ import annotations

import base64
import datetime as dt
import signal
import threading
import time

import pytest
from sqlalchemy import select, update

from ballot.audit.models import AuditEvent
from ballot.commands import worker_tasks
from ballot.errors import Conflict
from ballot.extensions import db
from ballot.outbox.models import OutboxMessage
from ballot.unit_of_work import unit_of_work
from ballot.votes import lifecycle, queries
from ballot.votes.models import LinkRequest, Vote
from ballot.worker import Worker
from ballot.worker.models import WorkerFailure
from tests.functional.admin.console import create_admin, sign_in
from tests.functional.factories import YEAR, enrolled_fellows, later
from tests.functional.helpers import open_vote, run, start_worker, write_config


def due_votes(runner, tmp_path, count: int, people: int = 3) -> list[int]:
    """``count`` open charter votes whose closing time has passed (the worker's to close)."""
    enrolled_fellows(runner, tmp_path, people)
    ids = []
    for n in range(count):
        vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", f"Charter {n}",
                   "--question", "Charter it?", "--closes-at", later(hours=1))
        run(runner, "vote", "open", str(vote["id"]))
        ids.append(vote["id"])
    db.session.execute(update(Vote).where(Vote.id.in_(ids)).values(closes_at=dt.datetime.now(dt.UTC)
                                                                   - dt.timedelta(seconds=1)))
    db.session.commit()
    return ids


def status(runner) -> dict:
    return run(runner, "worker", "status")


def audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def other_sealing_key() -> str:
    return base64.urlsafe_b64encode(b"z" * 32).decode()


def test_a_vote_the_worker_cannot_close_is_shown_and_retried_and_the_rest_goes_on(app, runner, inbox, tmp_path,
                                                                                  monkeypatch):
    """A misconfigured installation (a sealing key that cannot unwrap the vote's key) used to stop
    the worker, and all mail with it. Now that vote waits, the others close and the mail goes out."""
    broken, fine = due_votes(runner, tmp_path, 2)
    db.session.execute(update(Vote).where(Vote.id == broken).values(wrapped_key=b"\0" * 60))
    db.session.commit()

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"vote.close failed for vote {broken}: Charter 0" in result.output
    assert f"closed vote {fine}: Charter 1" in result.output
    assert "mail: sent 6" in result.output and len(inbox.messages) == 6  # both votes' ballot links
    assert queries.get_vote(broken).status == "open" and queries.get_vote(fine).status == "closed"

    [failure] = status(runner)["failures"]
    assert (failure["task"], failure["item"], failure["attempts"]) == ("vote.close", broken, 1)
    assert "cannot be unwrapped" in failure["error"]
    assert dt.datetime.fromisoformat(failure["retry_at"]) > dt.datetime.now(dt.UTC)
    assert [e.subject for e in audited("worker.failed")] == [f"vote {broken}: Charter 0"]

    # Not tried again before its retry time; then tried again, backing off, and audited only the first time.
    assert "vote.close" not in runner.invoke(args=["worker", "--once"]).output
    db.session.execute(update(WorkerFailure).values(retry_at=dt.datetime.now(dt.UTC)))
    db.session.commit()
    assert "attempt 2" in runner.invoke(args=["worker", "--once"]).output
    [failure] = db.session.scalars(select(WorkerFailure)).all()
    db.session.refresh(failure)
    assert failure.attempts == 2 and failure.retry_at - failure.last_failed_at == dt.timedelta(minutes=2)
    assert len(audited("worker.failed")) == 1
    assert "Charter 0" in runner.invoke(args=["worker", "status"]).output

    # Cancelling the vote is the administrator's way out: the failure is gone with it.
    run(runner, "vote", "cancel", str(broken), "--reason", "Its key was lost")
    assert status(runner)["failures"] == []


def test_a_failure_that_goes_away_is_recovered_and_audited(app, runner, inbox, tmp_path, monkeypatch):
    (vote_id,) = due_votes(runner, tmp_path, 1)
    right_key = app.config["BALLOT_SEALING_KEY"]
    monkeypatch.setitem(app.config, "BALLOT_SEALING_KEY", other_sealing_key())  # a configuration mistake
    assert "vote.close failed" in runner.invoke(args=["worker", "--once"]).output
    monkeypatch.setitem(app.config, "BALLOT_SEALING_KEY", right_key)  # put right
    db.session.execute(update(WorkerFailure).values(retry_at=dt.datetime.now(dt.UTC)))
    db.session.commit()
    assert f"closed vote {vote_id}" in runner.invoke(args=["worker", "--once"]).output
    assert status(runner)["failures"] == []
    [recovered] = audited("worker.recovered")
    assert recovered.subject == f"vote {vote_id}: Charter 0" and recovered.detail == {"task": "vote.close",
                                                                                        "attempts": 2}


def test_the_console_shows_what_the_worker_could_not_do(app, runner, inbox, tmp_path):
    (vote_id,) = due_votes(runner, tmp_path, 1)
    db.session.execute(update(Vote).where(Vote.id == vote_id).values(wrapped_key=b"\0" * 60))
    db.session.commit()
    runner.invoke(args=["worker", "--once"])
    console = app.test_client()
    sign_in(console, create_admin(runner, tmp_path))
    dashboard = console.get("/admin/").text
    assert "What the worker could not do" in dashboard and f"vote {vote_id}: Charter 0" in dashboard
    page = console.get(f"/admin/votes/{vote_id}").text
    assert "The worker could not close this vote" in page and "cannot be unwrapped" in page


def test_an_administrators_close_racing_the_workers_gives_one_close_and_a_plain_refusal(
        committed_app, runner_for, tmp_path, monkeypatch):
    """The worker is in the middle of closing a vote when an administrator closes it too: the
    administrator waits for the vote's row, then is told it is closed; it was closed once."""
    with committed_app.app_context():
        runner = runner_for(committed_app)
        (vote_id,) = due_votes(runner, tmp_path, 1)
    counting, release = threading.Event(), threading.Event()
    real_tally = lifecycle.tally

    def slow_tally(*args, **kwargs):
        counting.set()
        release.wait(10)
        return real_tally(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "tally", slow_tally)

    def worker_round():
        with committed_app.app_context():
            return Worker(worker_tasks()).round()

    def administrator_close():
        with committed_app.app_context():
            try:
                with unit_of_work("admin@example.org"):
                    lifecycle.close_vote(queries.get_vote(vote_id))
            except Conflict as exc:
                return str(exc)
        return "closed"

    worker_thread = ThreadResult(worker_round)
    assert counting.wait(10), "the worker began its close"
    admin_thread = ThreadResult(administrator_close)
    time.sleep(0.3)  # the administrator is now waiting for the vote's row
    release.set()
    lines = worker_thread.result()
    assert any(line.startswith(f"closed vote {vote_id}") for line in lines), lines
    assert admin_thread.result() == f"vote {vote_id} is closed; only an open vote can be closed"
    with committed_app.app_context():
        closes = db.session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "vote.close")).all()
        assert closes == ["worker"]
        assert db.session.scalars(select(WorkerFailure)).all() == []


def test_two_workers_at_once_do_each_item_once(committed_app, runner_for, inbox, tmp_path):
    """Several workers may run at once (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's writers take
    turns): every due vote is closed once and every message sent once."""
    with committed_app.app_context():
        runner = runner_for(committed_app)
        ids = due_votes(runner, tmp_path, 6, people=4)
    inbox.clear()
    start = threading.Barrier(2)

    def worker_round():
        with committed_app.app_context():
            start.wait(10)
            return Worker(worker_tasks()).round()

    first, second = ThreadResult(worker_round), ThreadResult(worker_round)
    lines = first.result() + second.result()
    assert sorted(line.split(":")[0] for line in lines if line.startswith("closed vote")) == sorted(
        f"closed vote {vote_id}" for vote_id in ids)
    with committed_app.app_context():
        assert sorted(db.session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "vote.close"))) == \
            sorted(f"vote {vote_id}: Charter {n}" for n, vote_id in enumerate(ids))
        Worker(worker_tasks()).round()  # whatever the closes queued after the rounds' mail (forfeiture notices)
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
    assert set(statuses) == {"sent"}
    assert len(inbox.messages) == len(statuses) == 6 * 4 + 4  # the ballot links, and each right's forfeiture
    assert len({(m["To"], m["Subject"], inbox.text(m)) for m in inbox.messages}) == len(inbox.messages)


def test_rounds_follow_at_once_while_there_is_mail_to_send(committed_app, smtp_server, tmp_path):
    """A round sends at most 500 messages, so that votes still open and close on time during a campaign; the
    next round starts at once, not after the interval, until the outbox is empty; then the worker waits."""
    _, inbox = smtp_server
    open_vote(committed_app, 600)  # a ballot link queued for each voter: two rounds' worth
    inbox.clear()
    log = tmp_path / "worker.log"
    worker = start_worker(write_config(committed_app, tmp_path / "worker.py"), log, interval=3600)
    try:
        deadline = time.monotonic() + 120
        while len(inbox.messages) < 600 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert len(inbox.messages) == 600, log.read_text()[-3000:]
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0, log.read_text()[-3000:]
    rounds = [line for line in log.read_text().splitlines() if line.startswith("mail: ")]
    assert rounds == ["mail: sent 500", "mail: sent 100"], log.read_text()[-3000:]


def test_a_stop_finishes_the_item_in_hand_and_starts_no_other(app, runner, inbox, tmp_path, monkeypatch):
    ids = due_votes(runner, tmp_path, 2)
    worker = Worker(worker_tasks())
    real_close = lifecycle.close_vote

    def close_then_stop(vote, now=None):
        summary = real_close(vote, now)
        worker.stop()  # SIGTERM arrives while the first close is in hand
        return summary

    monkeypatch.setattr(lifecycle, "close_vote", close_then_stop)
    lines = worker.round()
    assert lines == [f"closed vote {ids[0]}: Charter 0: 0 ballots, 3 missed, 0 rights forfeited"]
    assert [queries.get_vote(i).status for i in ids] == ["closed", "open"]
    assert not inbox.messages  # the mail task did not start either


def test_sigterm_stops_a_running_worker_cleanly(committed_app, tmp_path):
    config = write_config(committed_app, tmp_path / "worker_config.py")
    with committed_app.app_context(), unit_of_work("test"):
        request = LinkRequest(address="nobody@example.org")  # something for the first round to do and say
        db.session.add(request)
        db.session.flush()
        done = f"link request {request.id} answered"
    log = tmp_path / "worker.log"
    process = start_worker(config, log, interval=60)
    try:
        # Its first round done (its signal handlers set before it), it waits for the next.
        give_up = time.monotonic() + 120
        while done not in log.read_text() and process.poll() is None and time.monotonic() < give_up:
            time.sleep(0.1)
        assert done in log.read_text() and process.poll() is None, log.read_text()
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0, log.read_text()
        assert time.monotonic() - started < 5, "it does not wait out its interval"
        assert "Traceback" not in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# Helpers ------------------------------------------------------------------------------------

class ThreadResult:
    """Run ``fn`` in a thread; ``result()`` joins it and returns what it returned (or raises)."""

    def __init__(self, fn):
        self._value, self._error = None, None
        self._thread = threading.Thread(target=self._run, args=(fn,))
        self._thread.start()

    def _run(self, fn):
        try:
            self._value = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self._error = exc

    def result(self, timeout: float = 30):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the thread did not finish"
        if self._error is not None:
            raise self._error
        return self._value


@pytest.fixture
def runner_for():
    return lambda app: app.test_cli_runner()
