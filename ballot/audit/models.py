"""The audit log's table: append-only, the database refuses UPDATE and DELETE."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ballot.extensions import Model
from ballot.timestamps import UTCDateTime


class AuditEvent(Model):
    """One action: an administrator's, a command's or the worker's, sign-ins included.

    Never a ballot token, receipt, link, or anything else that ties a ballot to a voter.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(320))  # an administrator's email, cli:<user>, or worker
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(255), default="")
    detail: Mapped[dict] = mapped_column(JSON)
