"""The affirmation waiver (PSF bylaws 4.2): enrolling those who voted in the last regular Board election.

"The corporation may choose to waive the affirmation requirement for any
member who has voted in the most recent preceding regular Board of Directors
election." The election is the most recently closed Board vote marked
*regular* in an earlier period that decided something: a cancelled vote never
closed, and a void one (quorum not met) is not an election that took place.
Its participation ledger says who voted, never how. A member of the new
period is the same person as a member who voted if their roster key or their
email address is the same (the roster's source may have changed format between
years: python.org keys members by username, CiviCRM by email).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ballot.audit import audit
from ballot.bulk import read_rows
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod, VotingRight
from ballot.errors import Conflict
from ballot.extensions import db
from ballot.roster.models import Member
from ballot.votes.models import CLOSED, PUBLISHED, ParticipationRecord, Vote


@dataclass(frozen=True)
class WaiverPlan:
    """What the waiver would do for a period: the election it rests on and the rights it would enrol."""

    election: Vote | None
    voters: int  # members who voted in that election
    found: int  # of them, members on this period's roster
    right_ids: list[int]  # their qualifying rights not yet enrolled (always-voting rights need nothing)


def last_regular_board_election(period: EligibilityPeriod) -> Vote | None:
    """The most recently closed regular Board election of an earlier period that was not void."""
    candidates = db.session.scalars(
        select(Vote).join(EligibilityPeriod, EligibilityPeriod.id == Vote.period_id)
        .where(EligibilityPeriod.year < period.year, Vote.kind == "board", Vote.status.in_((CLOSED, PUBLISHED)))
        .order_by(Vote.closed_at.desc(), Vote.id.desc())
    )
    for vote in candidates:
        if vote.rules.get("election", "regular") == "regular" and vote.result and not vote.result.get("void"):
            return vote
    return None


def plan(period: EligibilityPeriod) -> WaiverPlan:
    """The waiver's preview: nothing is changed."""
    eligibility.require_waiver(period)
    election = last_regular_board_election(period)
    if election is None:
        return WaiverPlan(None, 0, 0, [])
    voters = db.session.execute(
        select(Member.key, Member.email)
        .join(VotingRight, VotingRight.member_id == Member.id)
        .join(ParticipationRecord, ParticipationRecord.right_id == VotingRight.id)
        .where(ParticipationRecord.vote_id == election.id)
        .distinct()
    ).all()
    keys = {key for key, _ in voters}
    emails = {email for _, email in voters}
    # The period's members matched here: lists of the voters' keys and addresses in the statement would
    # grow with them, past what a database takes in one (65,535 parameters for PostgreSQL).
    member_ids = {
        member_id for member_id, key, email in read_rows(
            select(Member.id, Member.key, Member.email).where(Member.period_id == period.id,
                                                              Member.removed_at.is_(None)))
        if key in keys or email in emails
    } if voters else set()
    right_ids = eligibility.waivable_rights(period, member_ids)
    return WaiverPlan(election, len(voters), len(member_ids), right_ids)


def apply(period: EligibilityPeriod) -> WaiverPlan:
    """Enrol the rights the plan names, with the enrolment source "waiver"; audited."""
    planned = plan(period)
    if planned.election is None:
        raise Conflict(f"no regular Board election before {period.year} was decided: the waiver has no one to enrol")
    enrolled = eligibility.enrol_by_waiver(period, planned.right_ids)
    audit("period.affirmation-waiver", str(period.year), election=planned.election.id, enrolled=len(enrolled))
    return WaiverPlan(planned.election, planned.voters, planned.found, enrolled)
