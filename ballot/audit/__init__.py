"""The audit log: who did what to what, written in the transaction that does it.

Every service that changes something on an administrator's, a command's or
the worker's behalf calls ``audit`` at the moment it acts. The actor comes
from the unit of work (``ballot.unit_of_work``), so an action and its entry
commit together or vanish together: a refused action leaves no entry. The
table refuses updates and deletes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


@dataclass(frozen=True)
class AuditFilter:
    """What the console's audit log is narrowed to: an action, an actor, a vote, days (UTC, inclusive)."""

    action: str = ""
    actor: str = ""
    vote_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def where(self) -> list:
        conditions = []
        if self.action:
            conditions.append(AuditEvent.action == self.action)
        if self.actor:
            conditions.append(AuditEvent.actor == self.actor)
        if self.vote_id is not None:
            # A vote's entries name it as vote_subject does; the colon keeps vote 1 from matching vote 12.
            conditions.append(AuditEvent.subject.startswith(f"vote {self.vote_id}:", autoescape=True))
        if self.since is not None:
            conditions.append(AuditEvent.at >= dt.datetime.combine(self.since, dt.time(), dt.UTC))
        if self.until is not None:
            conditions.append(AuditEvent.at < dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.UTC))
        return conditions


def audit_page(page: int, per_page: int = 50, only: AuditFilter | None = None) -> tuple[list[AuditEvent], int, int]:
    """One page of the audit log, newest first, narrowed by ``only``; the number of pages and of entries."""
    conditions = (only or AuditFilter()).where()
    total = db.session.scalars(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    events = db.session.scalars(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc()).offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(events), pages, total


def audit_choices() -> tuple[list[str], list[str]]:
    """The actions and the actors the log holds, for the console's filters."""
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    actors = db.session.scalars(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor)).all()
    return list(actions), list(actors)
