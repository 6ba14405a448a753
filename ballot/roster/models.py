"""The roster as imported, kept per eligibility period with its import history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ballot.extensions import Model
from ballot.roster.records import MemberClass, display_name
from ballot.timestamps import UTCDateTime


class RosterImport(Model):
    """One import of a roster file: what it added, changed and removed."""

    __tablename__ = "roster_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("eligibility_period.id"), index=True)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    format: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    members: Mapped[int]
    added: Mapped[int]
    changed: Mapped[int]
    removed: Mapped[int]
    # [{"key": ..., "change": "added" | "changed" | "removed", "fields": [...]}]
    changes: Mapped[list] = mapped_column(JSON)


def classes_of(details: dict) -> tuple[MemberClass, ...]:
    """A member's classes, from the stored details (also for rows read without the model)."""
    return tuple(MemberClass.from_dict(c) for c in details["classes"])


class Member(Model):
    """A person on a period's roster; ``removed_at`` is set when a later import drops them."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("period_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("eligibility_period.id"), index=True)
    key: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320), index=True)
    given_name: Mapped[str] = mapped_column(String(255))
    family_name: Mapped[str] = mapped_column(String(255))
    # RosterMember.as_dict(): classes with dates, working groups, delegate links, opt-in.
    details: Mapped[dict] = mapped_column(JSON)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def classes(self) -> tuple[MemberClass, ...]:
        return classes_of(self.details)

    @property
    def display_name(self) -> str:
        return display_name(self.given_name, self.family_name, self.email)
