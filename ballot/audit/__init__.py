"""The audit log: who did what to what, written in the transaction that does it.

Every service that changes something on an administrator's, a command's or
the worker's behalf calls ``audit`` at the moment it acts. The actor comes
from the unit of work (``ballot.unit_of_work``), so an action and its entry
commit together or vanish together: a refused action leaves no entry. The
table refuses updates and deletes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ballot import unit_of_work
from ballot.audit.models import AuditEvent
from ballot.extensions import db
from ballot.timestamps import utcnow

WORKER = "worker"  # the actor of what `ballot worker` does at the scheduled time


def audit(action: str, subject: str = "", *, actor: str | None = None, now: dt.datetime | None = None,
          **detail) -> AuditEvent:
    """Add an audit event to the current unit of work, on behalf of its actor (or ``actor``).

    ``detail`` must never hold a ballot token, receipt, link or anything that
    ties a ballot to a voter; nor a password or second-factor code.
    """
    event = AuditEvent(at=now or utcnow(), actor=(actor or unit_of_work.actor())[:320], action=action,
                       subject=subject[:255], detail=detail)
    db.session.add(event)
    return event


def vote_subject(vote) -> str:
    """How the audit log names a vote."""
    return f"vote {vote.id}: {vote.title}"


def audit_page(page: int, per_page: int = 50) -> tuple[list[AuditEvent], int]:
    """One page of the audit log, newest first, and the number of pages."""
    total = db.session.scalars(select(func.count()).select_from(AuditEvent)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    events = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(events), pages
