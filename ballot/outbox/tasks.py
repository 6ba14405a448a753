"""Sending the outbox: what `ballot worker` and `ballot mail send` do.

Messages go out in batches of ``BALLOT_MAIL_BATCH``. A batch is claimed
(status "sending") and written out for the wire in a unit of work; it is then
handed to the mail server over one connection, outside any transaction (a
slow mail server holds no database lock); its outcomes are recorded together
in the next unit of work, which also claims the next batch. A worker that
dies mid-batch leaves that batch "sending": none of it is ever sent twice by
itself (an administrator can release such messages, see
``services.release``), so the batch size bounds what a crash leaves for
someone to check. A refused or failed delivery is
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
from sqlalchemy import BindParameter, bindparam, null, select, update

from ballot.audit import WORKER
from ballot.extensions import db
from ballot.outbox.models import FAILED, IS_PENDING, PENDING, SENDING, SENT, OutboxMessage
from ballot.outbox.services import Delivery, Templates, render, sender
from ballot.outbox.wire import BadHeaderError, Envelope, wire_message
from ballot.timestamps import utcnow
from ballot.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

# What a batch costs the database, in statements built once, on the table (the ORM's bulk machinery cost
# more than the statements themselves): one UPDATE claims it, one records the messages sent.
OUTBOX = OutboxMessage.__table__
_NOW = bindparam("now", type_=OUTBOX.c.next_attempt_at.type)
_DUE = (select(OUTBOX.c.id)
        .where(IS_PENDING, OUTBOX.c.next_attempt_at <= _NOW)
        .order_by(OUTBOX.c.id).limit(bindparam("size"))
        .with_for_update(skip_locked=True)  # rows another worker holds are left to it
        .cte("due"))
CLAIM = (update(OUTBOX).where(OUTBOX.c.id == _DUE.c.id)
         .values(status=SENDING, next_attempt_at=_NOW)  # when it was claimed, for `stuck`
         .returning(OUTBOX.c.id, OUTBOX.c.to_address, OUTBOX.c.subject, OUTBOX.c.template, OUTBOX.c.context))
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
SENT_NOW = (update(OUTBOX).where(OUTBOX.c.id.in_(_IDS))
            .values(status=SENT, sent_at=_NOW, attempts=OUTBOX.c.attempts + 1,
                    context=null()))  # the links it carried are no longer kept
UNTRIED = update(OUTBOX).where(OUTBOX.c.id.in_(_IDS)).values(status=PENDING)  # due again at once, no attempt
UNWRITABLE = (update(OUTBOX).where(OUTBOX.c.id == bindparam("message"))
              .values(status=FAILED, attempts=OUTBOX.c.attempts + 1, last_error=bindparam("error")))


@dataclass
class Outgoing:
    """A claimed message, written out for the wire: all that sending it needs, and then what became of it."""

    id: int
    envelope: Envelope
    data: bytes
    error: Exception | None = None  # what the mail server or the connection said, if it was not taken
    tried: bool = False  # handed to the mail server (False: left untried when the batch ended early)


def send_due(now: dt.datetime | None = None, limit: int = 500, batch: int | None = None,
             stopping: Callable[[], bool] = lambda: False) -> dict:
    """Send what is due, up to ``limit`` messages; returns counts. Safe to run from several workers at once.

    A batch's outcomes are recorded in the unit of work that claims the next
    batch: one transaction (one commit, one wait for the disk) a batch. One
    connection to the mail server serves batch after batch, idle meanwhile:
    connecting and greeting again cost as much as sending a few messages.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0}
    max_attempts = current_app.config["BALLOT_MAIL_MAX_ATTEMPTS"]
    batch = batch or current_app.config["BALLOT_MAIL_BATCH"]
    handled = 0
    outgoing: list[Outgoing] = []  # the batch in hand, sent and not yet recorded
    claimed_at = utcnow()
    delivery = Delivery()
    try:
        while True:
            size = 0 if stopping() else min(batch, limit - handled)
            now_ = now or utcnow()
            with unit_of_work(WORKER):
                for outcome in _record(outgoing, claimed_at, max_attempts):
                    counts[outcome] += 1
                outgoing, unsendable = _claim(now_, size) if size > 0 else ([], 0)
            claimed_at = now_
            counts["failed"] += unsendable
            handled += len(outgoing) + unsendable
            if not outgoing:
                if unsendable:
                    continue
                break
            _deliver(outgoing, delivery, stopping)
    finally:
        delivery.close()
    return counts


def _claim(now: dt.datetime, size: int) -> tuple[list[Outgoing], int]:
    """Mark up to ``size`` due messages "sending", for this worker alone, and write them out for the wire.

    Returns them, oldest first, and how many could not be written: those are
    marked failed at once (retrying will not help a broken template, or a
    line break in a subject).
    """
    claimed = sorted(db.session.execute(CLAIM, {"now": now, "size": size}).all())
    outgoing, unsendable, from_, templates = [], [], sender(), Templates()
    for message in claimed:
        try:
            envelope, data = wire_message(from_, message.to_address, message.subject,
                                          *render(message, templates), now)
        except Exception as exc:
            unsendable.append({"message": message.id, "error": f"{type(exc).__name__}: {exc}"[:500]})
            if isinstance(exc, BadHeaderError):
                log.error("outbox message %s cannot be sent: %s", message.id, unsendable[-1]["error"])
            else:
                log.exception("outbox message %s cannot be written", message.id)
            continue
        outgoing.append(Outgoing(message.id, envelope, data))
    if unsendable:
        db.session.execute(UNWRITABLE, unsendable)
    return outgoing, len(unsendable)


def _deliver(outgoing: list[Outgoing], delivery: Delivery, stopping: Callable[[], bool]) -> None:
    """Hand the messages to the mail server over one connection; no transaction is open meanwhile.

    A connection the server drops ends the batch: the message being sent has
    its error, and the rest are left untried. So does a stop (SIGTERM): the
    message in hand is finished first.
    """
    for message in outgoing:
        message.tried = True
        try:
            delivery.send(message.envelope, message.data)
        except Exception as exc:  # the server's refusal, a dropped connection, or the message itself at fault
            message.error = exc
        if isinstance(message.error, (smtplib.SMTPServerDisconnected, OSError)) or stopping():
            break


def _record(outgoing: list[Outgoing], now: dt.datetime, max_attempts: int) -> list[str]:
    """Write down what became of each message of a batch claimed at ``now``: "sent", "retry" or "failed"
    (untried ones go back)."""
    sent = [o.id for o in outgoing if o.tried and o.error is None]
    untried = [o.id for o in outgoing if not o.tried]
    if sent:
        db.session.execute(SENT_NOW, {"ids": sent, "now": now})
    if untried:  # never handed over
        db.session.execute(UNTRIED, {"ids": untried})
    return ["sent"] * len(sent) + [_refused(db.session.get_one(OutboxMessage, o.id), o.error, now, max_attempts)
                                   for o in outgoing if o.error is not None]


def _refused(message: OutboxMessage, error: Exception, now: dt.datetime, max_attempts: int) -> str:
    """A message the mail server did not take: retried later with backoff, or failed for good."""
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    if not isinstance(error, (smtplib.SMTPException, OSError)):
        message.status = FAILED  # the message itself is at fault: retrying will not help
        log.error("outbox message %s cannot be sent: %s", message.id, message.last_error)
        return "failed"
    if message.attempts >= max_attempts:
        message.status = FAILED
        log.warning("outbox message %s failed for good (attempt %s): %s", message.id, message.attempts,
                    message.last_error)
        return "failed"
    message.status = PENDING
    message.next_attempt_at = now + dt.timedelta(minutes=2 ** message.attempts)
    log.warning("outbox message %s not sent (attempt %s): %s", message.id, message.attempts, message.last_error)
    return "retry"
