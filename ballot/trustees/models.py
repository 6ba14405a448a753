"""The installation's registered trustees: a name and a public key, known by its fingerprint."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ballot.extensions import Model
from ballot.timestamps import UTCDateTime

FINGERPRINT_LENGTH = 79  # 16 groups of 4 hex digits and 15 spaces (``keys.fingerprint``)


class Trustee(Model):
    """Someone who holds a share of the key of each vote they are named for.

    Only the public key is here; the private key never leaves the trustee's
    machine. A trustee is never deleted (votes name them); a disabled one is
    not chosen for votes opened afterwards.
    """

    __tablename__ = "trustee"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[bytes] = mapped_column(LargeBinary, unique=True)  # raw X25519, 32 bytes
    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_LENGTH), unique=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
