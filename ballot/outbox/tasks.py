"""Sending the outbox: what `ballot worker` and `ballot mail send` do.

Each message is claimed (status "sending") in a unit of work of its own
before it is handed to SMTP, and its outcome recorded in another: a worker
that dies mid-send leaves the message "sending", and it is never sent twice
by itself (an administrator can release it, see ``services.release``). A
refused or failed delivery is retried with exponential backoff up to
``BALLOT_MAIL_MAX_ATTEMPTS``, then marked failed.
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
from ballot.outbox.services import deliver, render
from ballot.timestamps import utcnow
from ballot.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


def send_due(now: dt.datetime | None = None, limit: int = 500,
             stopping: Callable[[], bool] = lambda: False) -> dict:
    """Send what is due, up to ``limit`` messages; returns counts. Safe to run from several workers at once."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    max_attempts = current_app.config["BALLOT_MAIL_MAX_ATTEMPTS"]
    for _ in range(limit):
        if stopping():
            break
        now_ = now or utcnow()
        with unit_of_work(WORKER):
            message = _claim(now_)
            claimed = message.id if message is not None else None
        if claimed is None:
            break
        with unit_of_work(WORKER):
            message = db.session.get_one(OutboxMessage, claimed)
            counts[_send(message, now_, max_attempts)] += 1
    return counts


def _claim(now: dt.datetime) -> OutboxMessage | None:
    message = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if message is not None:
        message.status = SENDING
        message.next_attempt_at = now  # when it was claimed, for `stuck`
    return message


def _send(message: OutboxMessage, now: dt.datetime, max_attempts: int) -> str:
    """Deliver a claimed message and record what happened: "sent", "retry" or "failed"."""
    message.attempts += 1
    try:
        text, html = render(message)
        deliver(message, text, html)
    except (smtplib.SMTPException, OSError) as exc:
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
