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

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ballot.extensions import Model
from ballot.timestamps import UTCDateTime, utcnow
from ballot.trustees.models import FINGERPRINT_LENGTH, Trustee

# A vote's life: draft -> open -> (counting ->) closed -> published, or draft/open -> cancelled.
# "counting": closed to casting, missed votes recorded, waiting for k of its trustees' answers;
# "closed": counted (the result and the record exist).
DRAFT, OPEN, COUNTING, CLOSED, CANCELLED, PUBLISHED = "draft", "open", "counting", "closed", "cancelled", "published"
ENDED = (COUNTING, CLOSED, PUBLISHED)  # casting has stopped for good and missed votes are recorded
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
    # The vote's private key, wrapped: under BALLOT_SEALING_KEY, or, when the vote has trustees, under
    # a key split among them (``trustees.shares``). Destroyed at the count.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    # k, how many of the vote's trustees (VoteTrustee) must answer for it to be counted; None: no
    # trustees, the sealing key protects the vote.
    trustee_threshold: Mapped[int | None]
    # From the close until the count of a vote with trustees: the collection key that their answers are
    # sealed to, its private half wrapped under BALLOT_SEALING_KEY.
    collection_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_collection_key: Mapped[bytes | None] = mapped_column(LargeBinary)
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
    """Who voted, and on which day: never what, never when within the day.

    A right of the vote's electorate, so its key is an electorate entry's: one foreign key where two (the
    vote, the right) would check each row twice, at each cast and when a close writes the ledger again.
    """

    __tablename__ = "participation_record"
    __table_args__ = (ForeignKeyConstraint(["vote_id", "right_id"],
                                           ["electorate_entry.vote_id", "electorate_entry.right_id"]),)

    vote_id: Mapped[int] = mapped_column(primary_key=True)
    right_id: Mapped[int] = mapped_column(primary_key=True)
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


class VoteTrustee(Model):
    """A trustee of a vote, in order (``position`` is the index of their share).

    Chosen on the draft; frozen when the vote opens, which fills in the share
    sealed to the trustee and its commitment. At the close the trustee's answer
    is kept as it came, still sealed to the close's collection key, never the
    share in clear. At the count the share, commitment and answer are destroyed;
    who the trustee was and when they answered remain.
    """

    __tablename__ = "vote_trustee"
    __table_args__ = (UniqueConstraint("vote_id", "trustee_id"),)

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    trustee_id: Mapped[int] = mapped_column(ForeignKey("trustee.id"))
    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_LENGTH))
    sealed_share: Mapped[bytes | None] = mapped_column(LargeBinary)
    commitment: Mapped[bytes | None] = mapped_column(LargeBinary)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    trustee: Mapped[Trustee] = relationship(lazy="joined")


class LinkRequest(Model):
    """An address someone asked to be sent their links again ("send me my links again"), until the worker
    has looked it up.

    The page only adds this row, whatever the address, so that it does the same
    work, in the same time, for an address that is known and for one that is
    not. The worker then looks the address up, queues the links, if any, and
    deletes the row: the address is kept no longer than that.
    """

    __tablename__ = "link_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
