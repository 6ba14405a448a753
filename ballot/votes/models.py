"""Votes, their frozen electorates, the participation ledger and the ballot box.

Secrecy is in the shape of these tables. The participation ledger says who
voted and on which day; the ballot box holds sealed ballots under random ids,
with no time, no sequence number and no reference to a right. The two are
written in one transaction (so one right casts one ballot); while the vote is
open, row order and PostgreSQL's transaction ids may pair a participation
record with a sealed ballot, but a sealed ballot shows nothing (not even its
receipt) without the vote's key, which is configuration-wrapped and destroyed
at the close, together with the sealed ballots, once they are opened into the
vote's record.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ballot.extensions import Model
from ballot.timestamps import UTCDateTime, utcnow

DRAFT, OPEN, CLOSED, CANCELLED, PUBLISHED = "draft", "open", "closed", "cancelled", "published"
# Shown, never stored: an open vote past its closing time. Casting has stopped; the close (by the
# worker, or an administrator) has not run yet, and it dates itself at the closing time.
CLOSING = "closing"


class Vote(Model):
    __tablename__ = "vote"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("eligibility_period.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    # [{"id": "q1", "title": ..., "description": ..., "choices": [...]}]
    questions: Mapped[list] = mapped_column(JSON)
    # Electorate, method, threshold, quorum, denominator: see votes.rules.VoteRules.
    rules: Mapped[dict] = mapped_column(JSON)
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # a scheduled opening, for the worker
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    electorate_size: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict | None] = mapped_column(JSON)
    # The signed public record (votes.record): canonical JSON and its signature.
    record: Mapped[str | None] = mapped_column(Text)
    record_signature: Mapped[str | None] = mapped_column(String(200))

    def shown_status(self, now: dt.datetime | None = None) -> str:
        """The status as pages and commands show it: "closing" once an open vote's time has passed."""
        if self.status == OPEN and self.closes_at <= (now or utcnow()):
            return CLOSING
        return self.status


class ElectorateEntry(Model):
    """A right in a vote's electorate, frozen when the vote opened."""

    __tablename__ = "electorate_entry"

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("voting_right.id"), primary_key=True)
    # Counted in the quorum's base only if it votes (psf-bylaws 4.8: Fellows), fixed at opening.
    quorum_only_if_voting: Mapped[bool] = mapped_column(default=False)


class ElectorateAddition(Model):
    """A right an administrator added to an open vote's electorate, having been missed: who, why, when.

    Nothing in it touches a ballot: it says only that the right may vote.
    """

    __tablename__ = "electorate_addition"

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("voting_right.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(320))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ParticipationRecord(Model):
    """Who voted, and on which day: never what, never when within the day."""

    __tablename__ = "participation_record"

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("voting_right.id"), primary_key=True)
    voted_on: Mapped[dt.date]


class SealedBallot(Model):
    """A ballot while its vote is open: answers and anonymous token, sealed to the vote's key.

    The id is random. On SQLite the table is stored without rowids, clustered
    on that id. Rows live only until the close opens them into the record.
    """

    __tablename__ = "sealed_ballot"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class VoteReminder(Model):
    """A reminder to the rights of an open vote that have not voted: sent by hand or at a set time.

    The worker sends those that are due; ``recipients`` is how many it reached.
    """

    __tablename__ = "vote_reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), index=True)
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int | None]
