"""Rows written in bulk (ballot.bulk: a vote's ballot links, a roster's members) are stored as the ORM
stores them, so that every query finds them alike."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from sqlalchemy import select

from ballot.bulk import insert_rows, take_in_chunks
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


def test_rows_taken_in_chunks_are_deleted_once_the_last_is_read(app):
    """``take_in_chunks`` (how a close takes its vote's sealed ballots): the matching rows' values in order,
    ``size`` at a time; once the last chunk has been handed on and the next is asked for, the matching rows
    are deleted, and only they. A reading stopped early deletes nothing."""
    now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    table = OutboxMessage.__table__
    insert_rows(table, [{**outbox.outbox_row("ballot_link", f"{n:02}@example.org", "Taken", {}, now),
                         "attempts": n % 2} for n in range(10)])
    odd = ["01@example.org", "03@example.org", "05@example.org", "07@example.org", "09@example.org"]

    def left(attempts: int) -> list[str]:
        return list(db.session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.attempts == attempts)
                                       .order_by(OutboxMessage.to_address)))

    with contextlib.closing(take_in_chunks(table.c.to_address, table.c.attempts, 1, table.c.to_address, 2)) as chunks:
        assert next(chunks) == odd[:2] and next(chunks) == odd[2:4] and next(chunks) == odd[4:]
        assert left(1) == odd  # the last chunk handed on: nothing deleted yet
    assert left(1) == odd  # stopped there: nothing deleted

    chunks = take_in_chunks(table.c.to_address, table.c.attempts, 1, table.c.to_address, 2)
    assert list(chunks) == [odd[:2], odd[2:4], odd[4:]]
    assert left(1) == [] and len(left(0)) == 5  # read to the end: those taken deleted, the others all there
