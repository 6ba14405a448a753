"""What the worker could not do: one row per item that failed, until it succeeds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ballot.extensions import Model
from ballot.timestamps import UTCDateTime


class WorkerFailure(Model):
    """An item of a scheduled task that failed (a vote the worker could not close, say).

    The worker tries it again after ``retry_at`` (backing off each time) and
    deletes the row once the item succeeds; until then the console and
    ``ballot worker status`` show it. Never a ballot, a token or a link.
    """

    __tablename__ = "worker_failure"

    task: Mapped[str] = mapped_column(String(40), primary_key=True)  # "vote.close", "vote.open", ...
    item: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the id of the vote, reminder...
    subject: Mapped[str] = mapped_column(String(255))  # how people name the item ("vote 12: Board 2026")
    attempts: Mapped[int]
    error: Mapped[str] = mapped_column(Text)
    first_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    retry_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
