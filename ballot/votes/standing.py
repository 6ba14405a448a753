"""A voting right's standing: its eligibility, and this period's votes it could take part in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ballot.eligibility import services as eligibility
from ballot.eligibility.models import VotingRight
from ballot.extensions import db
from ballot.timestamps import utcnow
from ballot.votes.models import CANCELLED, OPEN, ElectorateEntry, ParticipationRecord, Vote

VOTED, MISSED, WAITING, NOT_COUNTED = "voted", "missed", "not voted yet", "cancelled"


@dataclass(frozen=True)
class VoteTaken:
    """One vote whose electorate held the right, and what became of the right in it."""

    vote_id: int
    title: str
    closes_at: dt.datetime
    outcome: str  # VOTED, MISSED, WAITING or NOT_COUNTED


@dataclass(frozen=True)
class RightStanding:
    eligibility: eligibility.Standing
    votes: list[VoteTaken]

    @property
    def missed_titles(self) -> list[str]:
        return [v.title for v in self.votes if v.outcome == MISSED]


def standing(right: VotingRight, now: dt.datetime | None = None) -> RightStanding:
    """The right's standing now, with every vote of its period it was in the electorate of."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Vote.id, Vote.title, Vote.status, Vote.closes_at, Vote.closed_at,
               ParticipationRecord.right_id.is_not(None))
        .join(ElectorateEntry, ElectorateEntry.vote_id == Vote.id)
        .outerjoin(ParticipationRecord, (ParticipationRecord.vote_id == Vote.id)
                   & (ParticipationRecord.right_id == ElectorateEntry.right_id))
        .where(ElectorateEntry.right_id == right.id)
        .order_by(Vote.opened_at, Vote.id)
    ).all()
    votes = []
    for vote_id, title, status, closes_at, closed_at, voted in rows:
        if voted:
            outcome = VOTED
        elif status == CANCELLED:
            outcome = NOT_COUNTED  # a cancelled vote counts for nobody
        elif status == OPEN:
            outcome = WAITING
        else:  # closed (counting, counted or published) without a ballot: each such close recorded a missed vote
            outcome = MISSED
        votes.append(VoteTaken(vote_id, title, closed_at or closes_at, outcome))
    return RightStanding(eligibility.standing(right, now), votes)
