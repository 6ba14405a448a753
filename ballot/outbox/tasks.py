"""Sending the outbox: what `ballot worker` and `ballot mail send` do.

Messages go out in batches of ``BALLOT_MAIL_BATCH``. A batch is claimed
(status "sending") and rendered in a unit of work of its own; it is then
handed to the mail server over one connection, outside any transaction (a
slow mail server holds no database lock); its outcomes are recorded together
in another unit of work. A worker that dies mid-batch leaves that batch
"sending": none of it is ever sent twice by itself (an administrator can
release such messages, see ``services.release``), so the batch size bounds
what a crash leaves for someone to check. A refused or failed delivery is
retried with exponential backoff up to ``BALLOT_MAIL_MAX_ATTEMPTS``, then
marked failed. Several workers may send at once: a claim skips rows another
has locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writers take
turns).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ballot.audit import WORKER
from ballot.extensions import db
from ballot.outbox.models import FAILED, PENDING, SENDING, SENT, OutboxMessage
from ballot.outbox.services import Delivery, render
from ballot.timestamps import utcnow
from ballot.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


@dataclass
class Outgoing:
    """A claimed message, rendered: all that sending it needs, and then what became of it."""

    id: int
    to_address: str
    subject: str
    text: str
    html: str
    error: Exception | None = None  # what the mail server or the connection said, if it was not taken
    tried: bool = False  # handed to the mail server (False: left untried when the batch ended early)


def send_due(now: dt.datetime | None = None, limit: int = 500, batch: int | None = None,
             stopping: Callable[[], bool] = lambda: False) -> dict:
    """Send what is due, up to ``limit`` messages; returns counts. Safe to run from several workers at once."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    max_attempts = current_app.config["BALLOT_MAIL_MAX_ATTEMPTS"]
    batch = batch or current_app.config["BALLOT_MAIL_BATCH"]
    handled = 0
    while handled < limit and not stopping():
        now_ = now or utcnow()
        with unit_of_work(WORKER):
            outgoing, unsendable = _claim(now_, min(batch, limit - handled))
        counts["failed"] += unsendable
        handled += len(outgoing) + unsendable
        if not outgoing:
            if unsendable:
                continue
            break
        _deliver(outgoing, stopping)
        with unit_of_work(WORKER):
            for outcome in _record(outgoing, now_, max_attempts):
                counts[outcome] += 1
    return counts


def _claim(now: dt.datetime, size: int) -> tuple[list[Outgoing], int]:
    """Mark up to ``size`` due messages "sending", for this worker alone, and render them.

    Returns them, oldest first, and how many could not be rendered: those are
    marked failed at once (retrying will not help a broken template).
    """
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    ).all()
    outgoing, unsendable = [], 0
    for message in messages:
        try:
            text, html = render(message)
        except Exception as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            message.status = FAILED
            log.exception("outbox message %s cannot be rendered", message.id)
            unsendable += 1
            continue
        message.status = SENDING
        message.next_attempt_at = now  # when it was claimed, for `stuck`
        outgoing.append(Outgoing(message.id, message.to_address, message.subject, text, html))
    return outgoing, unsendable


def _deliver(outgoing: list[Outgoing], stopping: Callable[[], bool]) -> None:
    """Hand the messages to the mail server over one connection; no transaction is open meanwhile.

    A connection the server drops ends the batch: the message being sent has
    its error, and the rest are left untried. So does a stop (SIGTERM): the
    message in hand is finished first.
    """
    delivery = Delivery()
    try:
        for message in outgoing:
            message.tried = True
            try:
                delivery.send(message, message.text, message.html)
            except (smtplib.SMTPException, OSError) as exc:
                message.error = exc
            except Exception as exc:  # the message itself cannot be sent (a line break in a header)
                message.error = exc
            if isinstance(message.error, (smtplib.SMTPServerDisconnected, OSError)) or stopping():
                break
    finally:
        delivery.close()


def _record(outgoing: list[Outgoing], now: dt.datetime, max_attempts: int) -> list[str]:
    """Write down what became of each message: "sent", "retry" or "failed" (untried ones go back)."""
    stored = {m.id: m for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_([o.id for o in outgoing])))}
    outcomes = []
    for sent in outgoing:
        message = stored[sent.id]
        if not sent.tried:
            message.status = PENDING  # never handed over: due again at once, no attempt counted
            continue
        message.attempts += 1
        error = sent.error
        if error is None:
            message.status, message.sent_at = SENT, now
            message.context = None  # the links it carried are no longer kept
            outcomes.append("sent")
            continue
        message.last_error = f"{type(error).__name__}: {error}"[:500]
        if not isinstance(error, (smtplib.SMTPException, OSError)):
            message.status = FAILED  # the message itself is at fault: retrying will not help
            log.error("outbox message %s cannot be sent: %s", message.id, message.last_error)
            outcomes.append("failed")
        elif message.attempts >= max_attempts:
            message.status = FAILED
            log.warning("outbox message %s failed for good (attempt %s): %s", message.id, message.attempts,
                        message.last_error)
            outcomes.append("failed")
        else:
            message.status = PENDING
            message.next_attempt_at = now + dt.timedelta(minutes=2 ** message.attempts)
            log.warning("outbox message %s not sent (attempt %s): %s", message.id, message.attempts,
                        message.last_error)
            outcomes.append("retry")
    return outcomes
