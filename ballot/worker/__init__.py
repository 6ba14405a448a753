"""`ballot worker`: the scheduled tasks, each item in a unit of work of its own.

A round asks each task for its due items one at a time and handles each in
its own transaction, which claims the item (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers never take the same one; SQLite's writers take
turns). An item that fails rolls back alone: the failure is logged, audited
the first time, kept in ``worker_failure`` (shown in the console and by
``ballot worker status``) and retried later, backing off from a minute to an
hour; the worker carries on with the next item. It stops only when told to:
on SIGTERM or SIGINT it finishes the item in hand, then exits.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select

from ballot.audit import WORKER, audit
from ballot.extensions import db
from ballot.timestamps import utcnow
from ballot.unit_of_work import unit_of_work
from ballot.worker.models import WorkerFailure

log = logging.getLogger(__name__)

FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Claimed:
    """An item a task has claimed in the current unit of work."""

    item: int
    subject: str  # how people name it, for the audit log and the console


@dataclass(frozen=True)
class ItemTask:
    """A scheduled task done item by item (opening due votes, closing them, sending reminders).

    ``claim(now, skip)`` finds and locks the next due item, leaving out those in
    ``skip`` and those waiting to be retried (``waiting_items``), or returns None.
    ``handle(item, now)`` does it, in the same unit of work, and says what it did.
    """

    name: str
    claim: Callable[[dt.datetime, set[int]], Claimed | None]
    handle: Callable[[int, dt.datetime], str]


@dataclass(frozen=True)
class RoundTask:
    """A task done once a round, as one unit of work (sending mail, purging old uploads)."""

    name: str
    run: Callable[[Callable[[], bool]], str | None]  # given "should I stop?", says what it did, if anything


def waiting_items(task: str, now: dt.datetime):
    """The items of ``task`` that failed and wait for their retry time (a subquery for claims)."""
    return select(WorkerFailure.item).where(WorkerFailure.task == task, WorkerFailure.retry_at > now)


class Worker:
    """Runs rounds of tasks until told to stop."""

    def __init__(self, tasks: Sequence[ItemTask | RoundTask], clock: Callable[[], dt.datetime] = utcnow):
        self.tasks = tasks
        self.clock = clock
        self._stop = threading.Event()
        self.worked = False  # whether the last round got anything done

    def stop(self, *_signal) -> None:
        """Finish the item in hand, then stop (the SIGTERM and SIGINT handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, interval: float, once: bool = False, report: Callable[[str], None] = log.info) -> None:
        """Run rounds until stopped (or one round with ``once``): back to back while they get things done,
        then every ``interval`` seconds."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.stop)
        if not once:
            report(f"worker {os.getpid()} started: a round every {interval:g} s; SIGTERM stops it after the item "
                   "in hand")
        while not self.stopping:
            for line in self.round():
                report(line)
            if once:
                return
            if not self.worked:  # a round that got something done goes on at once: more may be due
                self._stop.wait(interval)

    def round(self) -> list[str]:
        """One pass over every task; returns what was done (and what failed), a line each.

        ``worked`` then says whether any task got something done (a failure
        does not count): a task may stop at a limit (the outbox sends at most
        500 messages a round) so that the others get their turn.
        """
        done: list[str] = []
        self.worked = False
        for task in self.tasks:
            if self.stopping:
                break
            try:
                if isinstance(task, ItemTask):
                    done.extend(self._run_items(task))
                else:
                    with unit_of_work(WORKER):
                        line = task.run(lambda: self.stopping)
                    if line:
                        done.append(f"{task.name}: {line}")
                        self.worked = True
            except Exception:  # the database gone, say: log it, and try again next round
                log.exception("the worker's task %s failed this round", task.name)
                done.append(f"{task.name}: failed this round (see the log); trying again next round")
        return done

    def _run_items(self, task: ItemTask) -> list[str]:
        done: list[str] = []
        tried: set[int] = set()
        while not self.stopping:
            now = self.clock()
            claimed = None
            try:
                with unit_of_work(WORKER):
                    claimed = task.claim(now, tried)
                    if claimed is None:
                        return done
                    tried.add(claimed.item)
                    failed_before = failure_of(task.name, claimed.item)
                    attempts = failed_before.attempts if failed_before is not None else 0
                    line = task.handle(claimed.item, now)
                    if attempts:
                        _recovered(task.name, claimed, attempts)
                done.append(line)
                self.worked = True
            except Exception as exc:
                if claimed is None:
                    raise
                log.exception("the worker could not do %s for %s", task.name, claimed.subject)
                done.append(_failed(task.name, claimed, exc, now))
        return done


def _recovered(task: str, claimed: Claimed, failed_attempts: int) -> None:
    audit("worker.recovered", claimed.subject, task=task, attempts=failed_attempts + 1)
    forget_failures(task, claimed.item)


def _failed(task: str, claimed: Claimed, exc: Exception, now: dt.datetime) -> str:
    """Keep the failure in a unit of work of its own (the item's was rolled back); say what failed."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    line = f"{task} failed for {claimed.subject}: {error}"
    try:
        with unit_of_work(WORKER):
            failure = db.session.get(WorkerFailure, (task, claimed.item))
            if failure is None:
                failure = WorkerFailure(task=task, item=claimed.item, subject=claimed.subject[:255], attempts=0,
                                        error=error, first_failed_at=now, last_failed_at=now, retry_at=now)
                db.session.add(failure)
                audit("worker.failed", claimed.subject, now=now, task=task, error=error)
            failure.attempts += 1
            failure.error, failure.last_failed_at = error, now
            failure.retry_at = now + min(FIRST_RETRY * 2 ** (failure.attempts - 1), LONGEST_RETRY)
            line += f" (attempt {failure.attempts}; trying again at {failure.retry_at:%Y-%m-%d %H:%M:%S} UTC)"
    except Exception:
        log.exception("the worker could not record that %s failed for %s", task, claimed.subject)
    return line


def failures() -> list[WorkerFailure]:
    """Every item the worker could not do, oldest first (for the console and `ballot worker status`)."""
    return list(db.session.scalars(select(WorkerFailure).order_by(WorkerFailure.first_failed_at)))


def failure_of(task: str, item: int) -> WorkerFailure | None:
    return db.session.get(WorkerFailure, (task, item))


def forget_failures(task: str, item: int) -> None:
    """Drop the failure of an item that no longer needs doing (a vote closed by hand, say)."""
    db.session.execute(delete(WorkerFailure).where(WorkerFailure.task == task, WorkerFailure.item == item))
