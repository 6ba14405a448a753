"""Administrators and roster files waiting for confirmation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ballot.extensions import Model
from ballot.timestamps import UTCDateTime


class Administrator(Model):
    """Someone who runs the elections: a password (argon2id) and a TOTP second factor."""

    __tablename__ = "administrator"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # The TOTP secret, wrapped with AES-GCM under BALLOT_SEALING_KEY: a copy of
    # the database alone cannot produce codes.
    totp_secret: Mapped[bytes] = mapped_column(LargeBinary)
    # The time step of the last code accepted: a code is good once.
    totp_last_step: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Each console session carries the generation it was made in; signing out,
    # disabling the account or changing its password moves to the next one,
    # which ends every session made before, copies of its cookie included.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class RosterUpload(Model):
    """A roster file uploaded in the console, kept until it is confirmed (or for a day) so the
    confirmation imports exactly the file that was previewed."""

    __tablename__ = "roster_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("eligibility_period.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(320))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
