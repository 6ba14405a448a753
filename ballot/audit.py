"""The audit log's one entry point: who did what to what, in the transaction that does it.

Every administrator action (on the web or the command line) and every action
the worker takes on its own (opening and closing votes at their scheduled
times, sending scheduled reminders) adds an event in the transaction that
carries the action out: an action that fails (and is rolled back) leaves no
event. The table refuses updates and deletes.
"""

from __future__ import annotations

import datetime as dt

from ballot.admin.models import AuditEvent
from ballot.extensions import db
from ballot.timestamps import utcnow

WORKER = "worker"  # the actor of what `ballot worker` does at the scheduled time


def audit(actor: str, action: str, subject: str = "", *, now: dt.datetime | None = None, **detail) -> AuditEvent:
    """Add an audit event to the current transaction (whoever commits next writes it).

    ``detail`` must never hold a ballot token, receipt, link or anything that
    ties a ballot to a voter; nor a password or second-factor code.
    """
    event = AuditEvent(at=now or utcnow(), actor=actor, action=action, subject=subject[:255], detail=detail)
    db.session.add(event)
    return event


def vote_subject(vote) -> str:
    """How the audit log names a vote."""
    return f"vote {vote.id}: {vote.title}"
