"""Eligibility periods, opt-in, enrolment, electorates, missed votes and forfeiture."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update

from ballot.bulk import insert_rows
from ballot.eligibility import rules
from ballot.eligibility.models import (
    EligibilityPeriod,
    Enrollment,
    Forfeiture,
    MissedVote,
    VotingRight,
)
from ballot.errors import Conflict, NotFound, TokenInvalid
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import OutboxMessage
from ballot.policy import Policy
from ballot.roster.models import Member, classes_of
from ballot.roster.records import MemberClass
from ballot.timestamps import utcnow
from ballot.tokens import OPT_IN, STANDING


def open_period(year: int, policy: Policy, now: dt.datetime | None = None) -> EligibilityPeriod:
    if not 2000 <= year <= 2200:
        raise Conflict(f"{year} is not a plausible year")
    if db.session.scalar(select(EligibilityPeriod).where(EligibilityPeriod.year == year)):
        raise Conflict(f"the {year} eligibility period is already open")
    period = EligibilityPeriod(year=year, opened_at=now or utcnow(), policy=policy.as_dict())
    db.session.add(period)
    db.session.commit()
    return period


def get_period(year: int) -> EligibilityPeriod:
    # A year from the command line may be any size; the column is 32-bit.
    period = db.session.scalar(select(EligibilityPeriod).where(EligibilityPeriod.year == year)) if 0 < year < 2**31 else None
    if period is None:
        raise NotFound(f"there is no {year} eligibility period; open it with `ballot period open {year}`")
    return period


def policy_of(period: EligibilityPeriod) -> Policy:
    return Policy.from_dict(period.policy)


def rights_of(period: EligibilityPeriod) -> list[VotingRight]:
    return list(
        db.session.scalars(
            select(VotingRight).where(VotingRight.period_id == period.id).order_by(VotingRight.id)
        )
    )


def right_qualifies(right: VotingRight, policy: Policy, on: dt.date) -> bool:
    """The right's holder is on the roster and still holds it on ``on``."""
    member = right.member
    return _qualifies(right.capacity, right.sponsor, member.details, member.removed_at, policy, on)


def _qualifies(capacity: str, sponsor: str, details: dict, removed_at: dt.datetime | None,
               policy: Policy, on: dt.date) -> bool:
    return removed_at is None and rules.holds_right(
        capacity, sponsor, classes_of(details), details["delegate_for"], policy, on
    )


# Opt-in -------------------------------------------------------------------

def opt_in_expiry(year: int) -> dt.datetime:
    """Opt-in and standing links last until the end of the period's year."""
    return dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)


def send_opt_in(period: EligibilityPeriod, *, resend: bool = False, now: dt.datetime | None = None) -> int:
    """Queue the opt-in message to every qualifying right not yet enrolled; returns how many."""
    now = now or utcnow()
    if period.enrolment_closed_at is not None:
        raise Conflict(f"enrolment for {period.year} is closed")
    policy = policy_of(period)
    enrolled = _enrolled_ids(period)
    asked = [
        right for right in rights_of(period)
        if right.id not in enrolled and (resend or not right.opt_in_sent_at)
        and right_qualifies(right, policy, now.date())
    ]
    # In bulk: a campaign asks every member at once.
    insert_rows(OutboxMessage.__table__, [outbox.outbox_row(*_opt_in_message(right, period), now) for right in asked])
    ids = [right.id for right in asked]
    for start in range(0, len(ids), 10_000):
        db.session.execute(
            update(VotingRight).where(VotingRight.id.in_(ids[start:start + 10_000])).values(opt_in_sent_at=now),
            execution_options={"synchronize_session": False},
        )
    db.session.commit()
    return len(asked)


def send_opt_in_again(address: str, now: dt.datetime | None = None) -> int:
    """Queue the opt-in message again to each right of ``address`` that may still enrol; returns how many.

    Only in the latest period, while its enrolment is open, and only rights that
    qualify and are not enrolled. Part of the caller's transaction: the caller commits.
    """
    now = now or utcnow()
    period = db.session.scalar(select(EligibilityPeriod).order_by(EligibilityPeriod.year.desc()).limit(1))
    if period is None or period.enrolment_closed_at is not None:
        return 0
    policy = policy_of(period)
    rights = db.session.scalars(
        select(VotingRight).join(Member, Member.id == VotingRight.member_id)
        .where(VotingRight.period_id == period.id, Member.email == address, Member.removed_at.is_(None),
               VotingRight.id.not_in(select(Enrollment.right_id)))
        .order_by(VotingRight.id)
    ).all()
    count = 0
    for right in rights:
        if right_qualifies(right, policy, now.date()):
            _queue_opt_in(right, period, now)
            count += 1
    return count


def _queue_opt_in(right: VotingRight, period: EligibilityPeriod, now: dt.datetime) -> None:
    outbox.queue(*_opt_in_message(right, period), now=now)
    right.opt_in_sent_at = now


def _opt_in_message(right: VotingRight, period: EligibilityPeriod) -> tuple[str, str, str, dict]:
    """The opt-in message to a right: template, address, subject, context."""
    return (
        "opt_in", right.member.email, f"Do you want to vote in the PSF in {period.year}?",
        {"name": right.member.display_name, "year": period.year, "capacity": right.label,
         "link": outbox.signed_link("eligibility.opt_in", OPT_IN, {"r": right.id}, opt_in_expiry(period.year))},
    )


def right_from_token(kind: str, token: str) -> VotingRight:
    data = outbox.read_link_token(kind, token)
    right = db.session.get(VotingRight, data.get("r")) if isinstance(data.get("r"), int) else None
    if right is None:
        raise TokenInvalid("This link does not belong to any voting right.")
    return right


def confirm_opt_in(right: VotingRight, now: dt.datetime | None = None) -> bool:
    """Enrol the right; True if newly enrolled, False if it already was."""
    now = now or utcnow()
    period = db.session.get(EligibilityPeriod, right.period_id)
    if db.session.get(Enrollment, right.id) is not None:
        return False
    if period.enrolment_closed_at is not None:
        raise Conflict(f"enrolment for {period.year} closed on {period.enrolment_closed_at:%d %B %Y}.")
    if not right_qualifies(right, policy_of(period), now.date()):
        raise Conflict("The membership roster no longer gives you this voting right.")
    db.session.add(Enrollment(right_id=right.id, confirmed_at=now, source="link"))
    db.session.commit()
    return True


def close_enrolment(period: EligibilityPeriod, now: dt.datetime | None = None) -> None:
    if period.enrolment_closed_at is not None:
        raise Conflict(f"enrolment for {period.year} is already closed")
    period.enrolment_closed_at = now or utcnow()
    db.session.commit()


@dataclass(frozen=True)
class EnrolledRight:
    right_id: int
    member_key: str
    name: str
    email: str
    capacity: str
    sponsor: str
    confirmed_at: dt.datetime
    source: str
    forfeited: bool

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["confirmed_at"] = self.confirmed_at.isoformat()
        return d


def enrolled(period: EligibilityPeriod) -> list[EnrolledRight]:
    forfeited = set(
        db.session.scalars(
            select(Forfeiture.right_id).join(VotingRight, VotingRight.id == Forfeiture.right_id)
            .where(VotingRight.period_id == period.id)
        )
    )
    rows = db.session.execute(
        select(VotingRight, Enrollment)
        .join(Enrollment, Enrollment.right_id == VotingRight.id)
        .where(VotingRight.period_id == period.id)
        .order_by(VotingRight.id)
    ).all()
    return [
        EnrolledRight(
            right.id, right.member.key, right.member.display_name, right.member.email,
            right.capacity, right.sponsor, enrolment.confirmed_at, enrolment.source,
            right.id in forfeited,
        )
        for right, enrolment in rows
    ]


def _enrolled_ids(period: EligibilityPeriod) -> set[int]:
    return set(
        db.session.scalars(
            select(Enrollment.right_id).join(VotingRight, VotingRight.id == Enrollment.right_id)
            .where(VotingRight.period_id == period.id)
        )
    )


# Electorates, missed votes, forfeiture ----------------------------------------

def electorate(
    period: EligibilityPeriod, on: dt.date, *, fellows_only: bool = False,
    managing_years: int | None = None,
) -> list[int]:
    """The right ids taking part in a vote opening on ``on``: enrolled, not forfeited, still qualifying."""
    policy = policy_of(period)
    forfeited = select(Forfeiture.right_id)
    rows = db.session.execute(
        select(VotingRight.id, VotingRight.capacity, VotingRight.sponsor, Member.details)
        .join(Enrollment, Enrollment.right_id == VotingRight.id)
        .join(Member, Member.id == VotingRight.member_id)
        .where(
            VotingRight.period_id == period.id,
            Member.removed_at.is_(None),
            VotingRight.id.not_in(forfeited),
        )
        .order_by(VotingRight.id)
    ).all()
    chosen = []
    for right_id, capacity, sponsor, details in rows:
        classes = [MemberClass.from_dict(c) for c in details["classes"]]
        if not rules.holds_right(capacity, sponsor, classes, details["delegate_for"], policy, on):
            continue
        if fellows_only and not rules.in_fellow_electorate(capacity, classes, on, managing_years):
            continue
        chosen.append(right_id)
    return chosen


def record_missed(vote_id: int, period: EligibilityPeriod, missed_right_ids: list[int], closed_at: dt.datetime) -> list[int]:
    """Record who missed a vote and forfeit the rights that reached the limit.

    Returns the ids of the rights forfeited by this close; each is told by email.
    Part of the vote's close transaction: the caller commits.
    """
    if not missed_right_ids:
        return []
    insert_rows(MissedVote.__table__, [{"right_id": r, "vote_id": vote_id} for r in missed_right_ids])
    db.session.flush()
    policy = policy_of(period)
    # Who missed this vote, as a subquery: the ids themselves as SQL parameters would
    # exceed PostgreSQL's 65,535 in a large electorate, and a query per right is slow.
    missed_here = select(MissedVote.right_id).where(MissedVote.vote_id == vote_id)
    counts = _missed_counts(policy, missed_here, closed_at)
    already = set(db.session.scalars(select(Forfeiture.right_id).where(Forfeiture.right_id.in_(missed_here))))
    forfeited = []
    for right in db.session.scalars(select(VotingRight).where(VotingRight.id.in_(missed_here))):
        if right.id in already:
            continue
        if rules.forfeits(counts.get(right.id, 0), right.member.classes, policy, closed_at.date()):
            db.session.add(Forfeiture(right_id=right.id, vote_id=vote_id, forfeited_at=closed_at))
            outbox.queue(
                "forfeited", right.member.email,
                f"Your PSF voting privileges ({right.label}) have lapsed until the next period",
                {"name": right.member.display_name, "year": period.year, "capacity": right.label,
                 "missed": counts[right.id], "limit": policy.missed_votes,
                 "standing": outbox.signed_link("eligibility.standing", STANDING, {"r": right.id},
                                                opt_in_expiry(period.year))},
                now=closed_at,
            )
            forfeited.append(right.id)
    return forfeited


def _missed_counts(policy: Policy, right_ids: Select, closed_at: dt.datetime) -> dict[int, int]:
    from ballot.votes.models import Vote  # the vote model depends on eligibility, not the reverse

    query = (
        select(MissedVote.right_id, func.count())
        .join(Vote, Vote.id == MissedVote.vote_id)
        .where(MissedVote.right_id.in_(right_ids))
        .group_by(MissedVote.right_id)
    )
    if policy.window == "calendar-year":
        start = dt.datetime(closed_at.year, 1, 1, tzinfo=dt.UTC)
        query = query.where(Vote.closed_at >= start)
    return dict(db.session.execute(query).all())


def standing_link(right_id: int, year: int) -> str:
    """The link to a right's own standing page; it lasts as long as the period's year."""
    token = outbox.link_token(STANDING, {"r": right_id}, opt_in_expiry(year))
    return outbox.external_url("eligibility.standing", token=token)


@dataclass(frozen=True)
class Standing:
    year: int
    capacity: str
    qualifies: bool
    enrolled: bool
    enrolment_open: bool
    missed: list[str]
    missed_limit: int
    forfeited: bool
    exempt: bool


def standing(right: VotingRight, now: dt.datetime | None = None) -> Standing:
    from ballot.votes.models import Vote

    now = now or utcnow()
    period = db.session.get(EligibilityPeriod, right.period_id)
    policy = policy_of(period)
    missed = db.session.scalars(
        select(Vote.title).join(MissedVote, MissedVote.vote_id == Vote.id)
        .where(MissedVote.right_id == right.id).order_by(Vote.closed_at)
    ).all()
    return Standing(
        year=period.year,
        capacity=right.label,
        qualifies=right_qualifies(right, policy, now.date()),
        enrolled=db.session.get(Enrollment, right.id) is not None,
        enrolment_open=period.enrolment_closed_at is None,
        missed=list(missed),
        missed_limit=policy.missed_votes,
        forfeited=db.session.get(Forfeiture, right.id) is not None,
        exempt=bool(rules.active_classes(right.member.classes, now.date()) & set(policy.exempt_classes)),
    )


@dataclass(frozen=True)
class EnrolmentCounts:
    """How an opt-in campaign is going: the console's view of a period."""

    rights: int
    qualifying: int
    asked: int
    enrolled: int
    enrolled_by_link: int
    enrolled_from_roster: int
    forfeited: int
    confirmations_by_day: list[tuple[dt.date, int]]


def enrolment_counts(period: EligibilityPeriod, now: dt.datetime | None = None) -> EnrolmentCounts:
    now = now or utcnow()
    policy = policy_of(period)
    # Plain rows, not objects: a period may hold a hundred thousand rights.
    rights = db.session.execute(
        select(VotingRight.capacity, VotingRight.sponsor, VotingRight.opt_in_sent_at, Member.details, Member.removed_at)
        .join(Member, Member.id == VotingRight.member_id).where(VotingRight.period_id == period.id)
    ).all()
    confirmations = db.session.execute(
        select(Enrollment.confirmed_at, Enrollment.source).join(VotingRight, VotingRight.id == Enrollment.right_id)
        .where(VotingRight.period_id == period.id)
    ).all()
    by_day: dict[dt.date, int] = {}
    for confirmed_at, source in confirmations:
        if source == "link":
            by_day[confirmed_at.date()] = by_day.get(confirmed_at.date(), 0) + 1
    forfeited = db.session.scalar(
        select(func.count()).select_from(Forfeiture).join(VotingRight, VotingRight.id == Forfeiture.right_id)
        .where(VotingRight.period_id == period.id)
    )
    return EnrolmentCounts(
        rights=len(rights),
        qualifying=sum(
            _qualifies(r.capacity, r.sponsor, r.details, r.removed_at, policy, now.date()) for r in rights
        ),
        asked=sum(1 for r in rights if r.opt_in_sent_at is not None),
        enrolled=len(confirmations),
        enrolled_by_link=sum(1 for _, source in confirmations if source == "link"),
        enrolled_from_roster=sum(1 for _, source in confirmations if source == "roster"),
        forfeited=forfeited,
        confirmations_by_day=sorted(by_day.items()),
    )


def list_periods() -> list[EligibilityPeriod]:
    return list(db.session.scalars(select(EligibilityPeriod).order_by(EligibilityPeriod.year.desc())))
