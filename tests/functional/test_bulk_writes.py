"""Rows written in bulk (ballot.bulk: a vote's ballot links, a roster's members) are stored as the ORM
stores them, so that every query finds them alike."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ballot.bulk import insert_rows
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import OutboxMessage


@pytest.mark.parametrize("now", [
    dt.datetime(2026, 12, 2, 1, 0, 0, tzinfo=dt.UTC),  # on the second: SQLite's own adapter wrote no fraction
    dt.datetime(2026, 12, 2, 1, 0, 0, 123456, tzinfo=dt.UTC),
], ids=["on the second", "with microseconds"])
def test_a_time_stamp_written_in_bulk_is_found_by_the_same_time(app, now):
    insert_rows(OutboxMessage.__table__, [outbox.outbox_row("ballot_link", "bulk@example.org", "Bulk", {}, now)])
    db.session.add(OutboxMessage(**outbox.outbox_row("ballot_link", "orm@example.org", "ORM", {}, now)))
    db.session.flush()

    # Compared in SQL with the same moment, bound as every query binds it.
    found = db.session.scalars(select(OutboxMessage.to_address).where(
        OutboxMessage.created_at == now, OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.to_address))
    assert list(found) == ["bulk@example.org", "orm@example.org"]
    # And stored alike, to the byte.
    stored = db.session.execute(select(OutboxMessage.created_at.cast(db.String)).where(
        OutboxMessage.to_address.in_(["bulk@example.org", "orm@example.org"]))).scalars().all()
    assert len(set(stored)) == 1
