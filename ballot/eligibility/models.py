"""Eligibility periods, voting rights, enrolment, missed votes and forfeiture."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ballot.extensions import Model
from ballot.roster.models import Member
from ballot.timestamps import UTCDateTime

INDIVIDUAL = "individual"
DELEGATE = "delegate"


def capacity_label(capacity: str, sponsor: str) -> str:
    """How a right votes, in the words mails and pages use."""
    return f"as delegate of {sponsor}" if capacity == DELEGATE else "as an individual member"


class EligibilityPeriod(Model):
    """A year of voting: its roster, its rights, and the policy it runs under."""

    __tablename__ = "eligibility_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The policy in force, copied when the period opens (Policy.as_dict()).
    policy: Mapped[dict] = mapped_column(JSON)
    enrolment_closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class VotingRight(Model):
    """A person acting in one capacity: individual, or delegate of one Sponsor Member."""

    __tablename__ = "voting_right"
    __table_args__ = (UniqueConstraint("member_id", "capacity", "sponsor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("eligibility_period.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    capacity: Mapped[str] = mapped_column(String(20))
    sponsor: Mapped[str] = mapped_column(String(255), default="")  # "" for an individual right
    opt_in_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return capacity_label(self.capacity, self.sponsor)


class Enrollment(Model):
    """A right whose holder answered the opt-in affirmatively."""

    __tablename__ = "enrollment"

    right_id: Mapped[int] = mapped_column(ForeignKey("voting_right.id"), primary_key=True)
    confirmed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20))  # "link" or "roster" (python.org's affirmation)


class MissedVote(Model):
    """A right that was in a vote's electorate and cast no ballot before it closed."""

    __tablename__ = "missed_vote"

    right_id: Mapped[int] = mapped_column(ForeignKey("voting_right.id"), primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    # When the vote closed: a calendar-year window counts the missed votes of its year.
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Forfeiture(Model):
    """A right that lost its voting privileges: until the next period, or under a calendar-year
    window until the year ends (so a right may forfeit again in a later year of the same period)."""

    __tablename__ = "forfeiture"

    right_id: Mapped[int] = mapped_column(ForeignKey("voting_right.id"), primary_key=True)
    # The year it runs in: the calendar year under a calendar-year window, else the period's. One per right
    # and year, so two closes at once (two workers) cannot both forfeit the same right.
    year: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"))  # the close that reached the limit
    forfeited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
