"""Sending the outbox: what `ballot worker` and `ballot mail send` do.

Messages go out in batches. A batch is claimed (status "sending") in a unit
of work of its own, then sent over one connection to the mail server, and
its outcomes are recorded together in another unit of work. A worker that
dies mid-batch leaves the batch "sending": none of it is ever sent twice by
itself (an administrator can release such messages, see
``services.release``). A refused or failed delivery is retried with
exponential backoff up to ``BALLOT_MAIL_MAX_ATTEMPTS``, then marked failed.
Several workers may send at once: a claim skips rows another has locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writers take turns).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select

from ballot.audit import WORKER
from ballot.extensions import db
from ballot.outbox.models import FAILED, PENDING, SENDING, SENT, OutboxMessage
from ballot.outbox.services import Delivery, render
from ballot.timestamps import utcnow
from ballot.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

BATCH = 100  # messages claimed and sent over one connection at a time


def send_due(now: dt.datetime | None = None, limit: int = 500, batch: int = BATCH,
             stopping: Callable[[], bool] = lambda: False) -> dict:
    """Send what is due, up to ``limit`` messages; returns counts. Safe to run from several workers at once."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    max_attempts = current_app.config["BALLOT_MAIL_MAX_ATTEMPTS"]
    handled = 0
    while handled < limit and not stopping():
        now_ = now or utcnow()
        with unit_of_work(WORKER):
            claimed = _claim(now_, min(batch, limit - handled))
        if not claimed:
            break
        with unit_of_work(WORKER):
            outcomes = _send_batch(claimed, now_, max_attempts, stopping)
        for outcome in outcomes:
            counts[outcome] += 1
        handled += len(claimed)
    return counts


def _claim(now: dt.datetime, size: int) -> list[int]:
    """Mark up to ``size`` due messages "sending", for this worker alone; their ids, oldest first."""
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    ).all()
    for message in messages:
        message.status = SENDING
        message.next_attempt_at = now  # when it was claimed, for `stuck`
    return [message.id for message in messages]


def _send_batch(ids: list[int], now: dt.datetime, max_attempts: int, stopping: Callable[[], bool]) -> list[str]:
    """Send the claimed messages over one connection; record each outcome ("sent", "retry", "failed").

    A connection the server drops ends the batch: the message being sent
    counts a failed attempt, and the rest go back to the queue untried.
    So does a stop (SIGTERM): the message in hand is finished first.
    """
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                  .order_by(OutboxMessage.id)).all()
    delivery = Delivery()
    outcomes: list[str] = []
    try:
        for index, message in enumerate(messages):
            outcome = _send(delivery, message, now, max_attempts)
            outcomes.append(outcome)
            broken = outcome != "sent" and isinstance(delivery.error, (smtplib.SMTPServerDisconnected, OSError))
            if broken or stopping():
                for untried in messages[index + 1:]:
                    untried.status = PENDING
                break
    finally:
        delivery.close()
    return outcomes


def _send(delivery: Delivery, message: OutboxMessage, now: dt.datetime, max_attempts: int) -> str:
    """Deliver a claimed message and record what happened: "sent", "retry" or "failed"."""
    message.attempts += 1
    delivery.error = None
    try:
        text, html = render(message)
        delivery.send(message, text, html)
    except (smtplib.SMTPException, OSError) as exc:
        delivery.error = exc
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("outbox message %s not sent (attempt %s): %s", message.id, message.attempts, message.last_error)
        if message.attempts >= max_attempts:
            message.status = FAILED
            return "failed"
        message.status = PENDING
        message.next_attempt_at = now + dt.timedelta(minutes=2 ** message.attempts)
        return "retry"
    except Exception as exc:
        # The message itself cannot be sent (a line break in a header, a broken
        # template): retrying will not help, and it must not stay "sending"
        # nor stop the worker from sending the others.
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        message.status = FAILED
        log.exception("outbox message %s cannot be sent", message.id)
        return "failed"
    message.status = SENT
    message.sent_at = now
    message.context = None  # the links it carried are no longer kept
    return "sent"
