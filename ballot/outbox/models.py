"""The durable outbox: messages written in the transaction that caused them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ballot.extensions import Model
from ballot.timestamps import UTCDateTime

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
# Messages waiting to be sent, as SQL with the status written in: the condition of the index that
# claims read (``ix_outbox_message_pending``), which a database uses only for a query that says the same.
IS_PENDING = text(f"outbox_message.status = '{PENDING}'")
# Messages claimed and not yet sent or failed, the same way (``ix_outbox_message_sending``).
IS_SENDING = text(f"outbox_message.status = '{SENDING}'")


def _only(status: str) -> dict:
    """A partial index's condition, the same on both databases: the messages of one status."""
    condition = text(f"status = '{status}'")
    return {"postgresql_where": condition, "sqlite_where": condition}


class OutboxMessage(Model):
    __tablename__ = "outbox_message"
    # The pending messages' ids, in order: a worker's claim reads its batch of the oldest from it and stops.
    # The messages being sent: the few among millions sent that ``stuck`` looks for. Neither index holds a
    # sent message, and a message just queued is only in the first (a vote's 100,000 links are written into
    # it and the primary key, and into no index of every message).
    __table_args__ = (Index("ix_outbox_message_pending", "id", **_only(PENDING)),
                      Index("ix_outbox_message_sending", "id", **_only(SENDING)))

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255))
    # The bodies are rendered from templates/email/<template>.txt and .html when
    # sent. The context carries signed links, so it is erased once sent.
    template: Mapped[str] = mapped_column(String(60))
    context: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
