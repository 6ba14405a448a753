"""Reading votes for pages and commands: nothing here changes anything."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, select

from ballot import sealing
from ballot.counting.ballots import RankedBallot
from ballot.counting.blt import format_blt
from ballot.eligibility import rules as eligibility_rules
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod, VotingRight, capacity_label
from ballot.errors import Conflict, NotFound
from ballot.extensions import db
from ballot.roster.models import Member
from ballot.roster.records import display_name
from ballot.timestamps import utcnow
from ballot.votes.models import (
    DRAFT,
    ENDED,
    OPEN,
    PUBLISHED,
    ElectorateAddition,
    ElectorateEntry,
    ParticipationRecord,
    Vote,
    VoteReminder,
)


def get_vote(vote_id: int) -> Vote:
    # An id from a URL or the command line may be any size; ids are 32-bit in the database.
    vote = db.session.get(Vote, vote_id) if 0 < vote_id < 2**31 else None
    if vote is None:
        raise NotFound(f"there is no vote {vote_id}")
    return vote


def list_votes(period: EligibilityPeriod | None = None) -> list[Vote]:
    query = select(Vote).order_by(Vote.id)
    if period is not None:
        query = query.where(Vote.period_id == period.id)
    return list(db.session.scalars(query))


def period_of(vote: Vote) -> EligibilityPeriod:
    return db.session.get_one(EligibilityPeriod, vote.period_id)


def electorate_of(vote: Vote, on: dt.date) -> list[eligibility.Entitled]:
    """The rights that would be in the vote's electorate if it opened on ``on``."""
    return eligibility.electorate(
        period_of(vote), on, scope=vote.rules["electorate"], managing_years=vote.rules.get("managing_years"),
        group_keys=vote.rules.get("group", {}).get("members", []),
    )


def electorate_preview(vote: Vote, now: dt.datetime | None = None) -> int:
    """The electorate's size: frozen once open; for a draft, as it would be if it opened now."""
    if vote.status != DRAFT:
        return vote.electorate_size
    return len(electorate_of(vote, (now or utcnow()).date()))


def participation_count(vote: Vote) -> int:
    return db.session.scalars(
        select(func.count()).select_from(ParticipationRecord).where(ParticipationRecord.vote_id == vote.id)
    ).one()


@dataclass(frozen=True)
class Turnout:
    """How many of a vote's electorate have voted (for a draft: the electorate it would have now)."""

    voted: int
    electorate: int
    would_be: bool = False  # a draft's: not frozen yet

    @property
    def percent(self) -> float | None:
        return 100 * self.voted / self.electorate if self.electorate and not self.would_be else None


def turnouts(votes: list[Vote], now: dt.datetime | None = None) -> dict[int, Turnout]:
    """Each vote's turnout, counted from the participation ledger in one query (a draft's electorate as if
    it opened now; a cancelled vote's as it stood when cancelled)."""
    counts = dict(db.session.execute(
        select(ParticipationRecord.vote_id, func.count()).group_by(ParticipationRecord.vote_id)).all())
    return {v.id: Turnout(0, electorate_preview(v, now), True) if v.status == DRAFT
            else Turnout(counts.get(v.id, 0), v.electorate_size) for v in votes}


def quorum_base(vote: Vote) -> int:
    """What the vote's quorum is a share of: its electorate, less those counted only if they vote and
    did not (psf-bylaws 4.8: Fellows "if they vote, shall be counted for purposes of a quorum")."""
    voted = select(ParticipationRecord.right_id).where(ParticipationRecord.vote_id == vote.id)
    idle_conditional = db.session.scalars(
        select(func.count()).select_from(ElectorateEntry)
        .where(ElectorateEntry.vote_id == vote.id, ElectorateEntry.quorum_only_if_voting.is_(True),
               ElectorateEntry.right_id.not_in(voted))
    ).one()
    return vote.electorate_size - idle_conditional


@dataclass(frozen=True)
class Addition:
    """A right added to an open vote: whose, why, by whom and when (never anything about a ballot)."""

    name: str
    email: str
    capacity: str
    reason: str
    added_by: str
    added_at: dt.datetime


def additions_of(vote: Vote) -> list[Addition]:
    return [
        Addition(display_name(given, family, email), email, capacity_label(capacity, sponsor), reason, by, at)
        for given, family, email, capacity, sponsor, reason, by, at in db.session.execute(
            select(Member.given_name, Member.family_name, Member.email, VotingRight.capacity, VotingRight.sponsor,
                   ElectorateAddition.reason, ElectorateAddition.added_by, ElectorateAddition.added_at)
            .join(VotingRight, VotingRight.id == ElectorateAddition.right_id)
            .join(Member, Member.id == VotingRight.member_id)
            .where(ElectorateAddition.vote_id == vote.id)
            .order_by(ElectorateAddition.added_at, VotingRight.id)
        )
    ]


def not_voted(vote: Vote) -> list[int]:
    """The rights of the vote's electorate that have not cast a ballot (yet)."""
    return list(db.session.scalars(not_voted_query(vote)))


def not_voted_query(vote: Vote) -> Select:
    """The same as a query, in right order, for statements that take them all at once."""
    voted = select(ParticipationRecord.right_id).where(
        ParticipationRecord.vote_id == vote.id, ParticipationRecord.right_id == ElectorateEntry.right_id)
    # NOT EXISTS rather than NOT IN: PostgreSQL makes an anti-join of it at any size.
    return (
        select(ElectorateEntry.right_id)
        .where(ElectorateEntry.vote_id == vote.id, ~voted.exists())
        .order_by(ElectorateEntry.right_id)
    )


def turnout_by_day(vote: Vote) -> list[tuple[dt.date, int]]:
    """How many ballots were cast on each day: all the participation ledger knows, never what."""
    return [(day, count) for day, count in db.session.execute(
        select(ParticipationRecord.voted_on, func.count())
        .where(ParticipationRecord.vote_id == vote.id)
        .group_by(ParticipationRecord.voted_on)
        .order_by(ParticipationRecord.voted_on)
    )]


def reminders_of(vote: Vote) -> list[VoteReminder]:
    return list(db.session.scalars(
        select(VoteReminder).where(VoteReminder.vote_id == vote.id).order_by(VoteReminder.scheduled_at)
    ))


@dataclass(frozen=True)
class Elector:
    """A right in a vote's electorate, as the console lists it."""

    right_id: int
    name: str
    email: str
    capacity: str
    sponsor: str

    @property
    def label(self) -> str:
        return capacity_label(self.capacity, self.sponsor)


def find_in_electorate(vote: Vote, email: str, limit: int = 20) -> list[Elector]:
    """Rights in the vote's electorate whose email contains ``email`` (any case)."""
    email = email.strip().lower()
    if not email:
        return []
    rows = db.session.execute(
        select(VotingRight.id, Member.given_name, Member.family_name, Member.email, VotingRight.capacity,
               VotingRight.sponsor)
        .join(ElectorateEntry, ElectorateEntry.right_id == VotingRight.id)
        .join(Member, Member.id == VotingRight.member_id)
        .where(ElectorateEntry.vote_id == vote.id, func.lower(Member.email).contains(email, autoescape=True))
        .order_by(Member.email, VotingRight.id)
        .limit(limit)
    ).all()
    return [Elector(right_id, display_name(given, family, address), address, capacity, sponsor)
            for right_id, given, family, address, capacity, sponsor in rows]


@dataclass(frozen=True)
class Participant:
    name: str
    email: str
    capacity: str
    sponsor: str
    voted_on: dt.date


def participants(vote: Vote) -> list[Participant]:
    """Who voted in a closed vote and on which day (the bylaws' waiver needs the last Board election's).

    A vote waiting for its trustees (counting) has closed: who voted in it is
    known for good, though what they voted is not yet.
    """
    if vote.status not in ENDED:
        raise Conflict(f"vote {vote.id} is {vote.status}; who voted is exported once a vote has closed")
    rows = db.session.execute(
        select(Member.given_name, Member.family_name, Member.email, VotingRight.capacity, VotingRight.sponsor,
               ParticipationRecord.voted_on)
        .join(VotingRight, VotingRight.id == ParticipationRecord.right_id)
        .join(Member, Member.id == VotingRight.member_id)
        .where(ParticipationRecord.vote_id == vote.id)
        .order_by(Member.family_name, Member.given_name, Member.email, VotingRight.id)
    ).all()
    return [
        Participant(display_name(given, family, email), email, capacity, sponsor, voted_on)
        for given, family, email, capacity, sponsor, voted_on in rows
    ]


def last_board_election() -> Vote | None:
    """The Board election that closed last (a cancelled one never closed; one waiting for its trustees did)."""
    return db.session.scalar(
        select(Vote).where(Vote.kind == "board", Vote.status.in_(ENDED))
        .order_by(Vote.closed_at.desc(), Vote.id.desc()).limit(1)
    )


def open_votes() -> list[Vote]:
    return [vote for vote in list_votes() if vote.status == OPEN]


# The published record ------------------------------------------------------------------

def signing_public_key() -> str:
    return sealing.public_key_pem(current_app.config["BALLOT_SIGNING_KEY"])


def record_of(vote: Vote) -> dict:
    """The vote's record as built at the close (published or not)."""
    assert vote.record is not None, "a vote has its record from its close"
    return json.loads(vote.record)


def published_record(vote: Vote) -> dict:
    if vote.status != PUBLISHED:
        raise NotFound("the results of this vote are not published")
    return {"record": record_of(vote), "signature": vote.record_signature, "signer": signing_public_key()}


def ballots_blt(vote: Vote) -> str:
    """A published ranked Board vote's ballots in the BLT format, for other counting programs."""
    document = published_record(vote)
    if vote.rules.get("ballot") != "ranked":
        raise NotFound("only ranked Board elections have BLT ballots")
    question = vote.questions[0]
    ballots = [RankedBallot.of(*b["contents"]["answers"][question["id"]])
               for b in document["record"]["ballots"] if b["contents"]["answers"][question["id"]]]
    return format_blt(question["choices"], vote.rules["seats"], ballots, title=vote.title)


# What closing or cancelling would do: for the administrator to confirm ------------------

@dataclass(frozen=True)
class Consequences:
    """What closing (or cancelling) a vote now would do, said before it is done.

    Counts of the participation ledger only: who has voted, never what.
    """

    vote_id: int
    status: str
    closes_at: dt.datetime
    early: bool  # before its scheduled closing time
    electorate: int
    voted: int
    not_voted: int
    would_forfeit: int  # rights that would lose their privileges by missing this vote (on a close)
    missed_limit: int
    until: str  # how long a forfeiture lasts under the policy
    trustees_needed: int | None = None  # with trustees, the count waits for this many of their answers

    def as_dict(self) -> dict:
        return {"vote_id": self.vote_id, "status": self.status, "closes_at": self.closes_at.isoformat(),
                "early": self.early, "electorate": self.electorate, "voted": self.voted,
                "not_voted": self.not_voted, "would_forfeit": self.would_forfeit, "missed_limit": self.missed_limit}

    def early_words(self, now: dt.datetime) -> str:
        left = self.closes_at - now
        days, hours = left.days, left.seconds // 3600
        span = (f"{days} day{'s' if days != 1 else ''} and " if days else "") \
            + f"{hours} hour{'s' if hours != 1 else ''}"
        return (f"It is early: the vote is scheduled to close at {self.closes_at:%Y-%m-%d %H:%M} UTC, "
                f"{span} from now, and those who have not voted lose the rest of that time.")

    def closing_lines(self, now: dt.datetime) -> list[str]:
        """The consequences of a close, in words (the console's confirmation and `ballot vote close`)."""
        lines = [self.early_words(now)] if self.early else []
        lines.append(f"{self.voted} of {self.electorate} voting rights have voted; casting stops at once.")
        if self.trustees_needed:
            lines.append(f"The ballots are counted once {self.trustees_needed} of the vote's trustees have answered; "
                         "until then nobody sees a result.")
        if self.not_voted:
            lines.append(f"{self.not_voted} voting right{'s have' if self.not_voted != 1 else ' has'} not voted: "
                         f"each will get a missed vote ({self.missed_limit} missed votes end voting rights until "
                         f"{self.until}).")
        if self.would_forfeit:
            lines.append(f"{self.would_forfeit} of them would lose their voting rights until {self.until}, and be "
                         "told so by email.")
        elif self.not_voted:
            lines.append("Nobody would lose their voting rights by this close.")
        return lines

    def cancelling_lines(self) -> list[str]:
        """The consequences of a cancellation, in words."""
        if self.status == DRAFT:
            return ["The draft is set aside for good: it was never opened, nothing was sent, and it cannot be "
                    "opened later."]
        return [
            f"{self.voted} ballot{'s' if self.voted != 1 else ''} already cast "
            f"{'are' if self.voted != 1 else 'is'} destroyed unopened; nobody will ever know what they said.",
            f"The {self.electorate} voting rights in its electorate can no longer vote in it, and nobody gets a "
            "missed vote: a cancelled vote counts for nobody.",
            "It cannot be undone: to put the question again, create a new vote.",
        ]


def consequences(vote: Vote, now: dt.datetime | None = None) -> Consequences:
    """What closing or cancelling ``vote`` now would do (a close dates itself at the closing time if that
    has passed, as ``lifecycle.close_vote`` does)."""
    now = now or utcnow()
    period = period_of(vote)
    policy = eligibility.policy_of(period)
    voted = participation_count(vote) if vote.status == OPEN else 0
    electorate = vote.electorate_size if vote.status != DRAFT else electorate_preview(vote, now)
    would_forfeit = 0
    if vote.status == OPEN:
        waiting = (select(ElectorateEntry.right_id)
                   .where(ElectorateEntry.vote_id == vote.id,
                          ElectorateEntry.right_id.not_in(
                              select(ParticipationRecord.right_id).where(ParticipationRecord.vote_id == vote.id))))
        would_forfeit = eligibility.would_forfeit(period, waiting, min(now, vote.closes_at))
    return Consequences(
        vote_id=vote.id, status=vote.status, closes_at=vote.closes_at, early=now < vote.closes_at,
        electorate=electorate, voted=voted, not_voted=electorate - voted if vote.status == OPEN else 0,
        would_forfeit=would_forfeit, missed_limit=policy.missed_votes,
        until=eligibility_rules.forfeiture_until(policy), trustees_needed=vote.trustee_threshold,
    )
