"""Eligibility periods, opt-in, enrolment, electorates, missed votes and forfeiture."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from sqlalchemy import Select, Text, cast, func, insert, literal, select, update

from ballot.audit import audit
from ballot.bulk import NAME_HOLE, RIGHT_HOLE, JSONTemplate, collector_paused, insert_rows, read_rows
from ballot.eligibility import rules
from ballot.eligibility.models import (
    EligibilityPeriod,
    Enrollment,
    Forfeiture,
    MissedVote,
    VotingRight,
    capacity_label,
)
from ballot.errors import Conflict, InvalidInput, NotFound, TokenInvalid
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import OutboxMessage
from ballot.policy import Policy
from ballot.roster import services as roster
from ballot.roster.models import Member, classes_of
from ballot.roster.records import display_name
from ballot.timestamps import UTCDateTime, utcnow
from ballot.tokens import OPT_IN, STANDING

# The voter's standing page; it lists votes, so it is served with them (ballot.votes.views).
STANDING_PAGE = "votes.standing"

T = TypeVar("T")


def open_period(year: int, policy: Policy, now: dt.datetime | None = None) -> EligibilityPeriod:
    if not 2000 <= year <= 2200:
        raise Conflict(f"{year} is not a plausible year")
    if db.session.scalar(select(EligibilityPeriod).where(EligibilityPeriod.year == year)):
        raise Conflict(f"the {year} eligibility period is already open")
    audit("period.open", str(year), policy=policy.name)
    period = EligibilityPeriod(year=year, opened_at=now or utcnow(), policy=policy.as_dict())
    db.session.add(period)
    db.session.flush()
    return period


def get_period(year: int) -> EligibilityPeriod:
    # A year from the command line may be any size; the column is 32-bit.
    period = (
        db.session.scalar(select(EligibilityPeriod).where(EligibilityPeriod.year == year)) if 0 < year < 2**31 else None
    )
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
    """``rules.qualifies`` over a member's stored row (plain values, for many rights at once)."""
    return rules.qualifies(capacity, sponsor, classes_of(details), details["delegate_for"], policy, on,
                           removed=removed_at is not None)


def _by_stored_details(rule: Callable[[str, str, dict], T]) -> Callable[[str, str, str], T]:
    """``rule`` over a right's capacity and sponsor and its holder's details, asked with the details as
    stored text: the rules are pure, and holders whose stored details are the same (the same classes from
    the same days, as many members' are) get the same answer, worked out once."""
    answers: dict[tuple[str, str, str], T] = {}

    def answer(capacity: str, sponsor: str, stored: str) -> T:
        key = (capacity, sponsor, stored)
        if key not in answers:
            answers[key] = rule(capacity, sponsor, json.loads(stored))
        return answers[key]
    return answer


def _qualifying(policy: Policy, on: dt.date) -> Callable[[str, str, str], bool]:
    """``_qualifies`` for a holder on the roster, asked with the details as stored text (``_by_stored_details``)."""
    return _by_stored_details(lambda capacity, sponsor, details: _qualifies(capacity, sponsor, details, None,
                                                                            policy, on))


def _exempt(policy: Policy, on: dt.date) -> Callable[[str, str, str], bool]:
    """``rules.is_exempt`` for a holder, asked with the details as stored text (``_by_stored_details``)."""
    return _by_stored_details(lambda capacity, sponsor, details: rules.is_exempt(classes_of(details), policy, on))


# The roster --------------------------------------------------------------------

def import_roster(period: EligibilityPeriod, data: bytes, filename: str, *, dry_run: bool = False,
                  now: dt.datetime | None = None) -> roster.ImportReport:
    """Import a roster file into ``period``: its members, then the rights they hold (audited).

    With ``dry_run``, only say what it would do.
    """
    now = now or utcnow()
    policy = policy_of(period)
    with collector_paused():  # a roster of 100,000 is as many members, rows and changes at once
        report = roster.import_members(period.id, policy, data, filename, dry_run=dry_run, now=now)
        held = {m.key: rules.rights_held(m.classes, m.delegate_for, policy, now.date()) for m in report.present}
        _rights_changes(report, held, policy, now.date())
        if not dry_run:
            audit("roster.import", str(period.year), filename=filename[:255], sha256=hashlib.sha256(data).hexdigest())
            report.rights_added, report.enrolled_from_roster = _derive_rights(period, now, report, held)
    return report


def _rights_changes(report: roster.ImportReport, held: dict[str, list[tuple[str, str]]], policy: Policy,
                    on: dt.date) -> None:
    """The voting rights the import gains and loses, in all and per member changed (for the preview).

    ``held``: the rights each member of the file holds. Before the import, a member held the rights of
    their stored details, if the roster had them (``report.before``: only members the import changes or
    removes can hold other rights after it than before).
    """
    gained = lost = 0
    for change in report.member_changes:
        details = report.before.get(report.previous_keys.get(change.key, change.key))
        new = held.get(change.key, [])
        if details is None:  # nothing before: every right is gained (a member holds each right once)
            if new:
                change.rights_gained = [_right_words(*right) for right in sorted(new)] if len(new) > 1 else [
                    _right_words(*new[0])]
                gained += len(new)
            continue
        old = set(rules.rights_held(classes_of(details), details["delegate_for"], policy, on))
        change.rights_gained = [_right_words(*right) for right in sorted(set(new) - old)]
        change.rights_lost = [_right_words(*right) for right in sorted(old - set(new))]
        gained += len(change.rights_gained)
        lost += len(change.rights_lost)
    report.rights_gained, report.rights_lost = gained, lost


def _right_words(capacity: str, sponsor: str) -> str:
    return f"delegate of {sponsor}" if capacity == rules.DELEGATE else "individual"


def _derive_rights(
    period: EligibilityPeriod, now: dt.datetime, report: roster.ImportReport, held: dict[str, list[tuple[str, str]]]
) -> tuple[int, int]:
    """Create the rights that present members now hold (``held``); enrol those whose export carries an opt-in.

    ``report.present`` is the roster just imported, which is exactly the period's
    members not removed: their classes come from it rather than from reading
    every member's stored details back. Rights are never deleted: a right
    whose holder no longer qualifies keeps its history and simply drops out
    of later electorates.
    """
    present = report.present
    member_ids = report.stored_ids
    if len(member_ids) < len(present):  # members new to the period: the database has just given them ids
        member_ids = dict(
            read_rows(
                select(Member.key, Member.id).where(Member.period_id == period.id, Member.removed_at.is_(None))
            ).all()
        )
    have = {
        tuple(right) for right in read_rows(
            select(VotingRight.member_id, VotingRight.capacity, VotingRight.sponsor)
            .where(VotingRight.period_id == period.id)
        )
    }
    new_rights, affirmed_members = [], set()
    for member in present:
        member_id = member_ids[member.key]
        for capacity, sponsor in held[member.key]:
            if (member_id, capacity, sponsor) not in have:
                new_rights.append(
                    {"period_id": period.id, "member_id": member_id, "capacity": capacity, "sponsor": sponsor}
                )
        if member.vote_affirmed_on and member.vote_affirmed_on.year >= period.year:
            affirmed_members.add(member_id)
    if new_rights:
        insert_rows(VotingRight.__table__, new_rights)
    enrolled = 0
    if affirmed_members and period.enrolment_closed_at is None:
        already = set(
            db.session.scalars(
                select(Enrollment.right_id).join(VotingRight, VotingRight.id == Enrollment.right_id)
                .where(VotingRight.period_id == period.id)
            )
        )
        to_enrol = [
            {"right_id": right_id, "confirmed_at": now, "source": "roster"}
            for right_id, member_id in db.session.execute(
                select(VotingRight.id, VotingRight.member_id).where(VotingRight.period_id == period.id)
            )
            if member_id in affirmed_members and right_id not in already
        ]
        if to_enrol:
            insert_rows(Enrollment.__table__, to_enrol)
        enrolled = len(to_enrol)
    return len(new_rights), enrolled



# Opt-in -------------------------------------------------------------------

def opt_in_expiry(year: int) -> dt.datetime:
    """Opt-in and standing links last until the end of the period's year."""
    return dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)


def send_opt_in(period: EligibilityPeriod, *, resend: bool = False, now: dt.datetime | None = None) -> int:
    """Queue the opt-in message to every qualifying right not yet enrolled; returns how many.

    In bulk, as a campaign asks every member at once: the rights are read as plain rows, and the
    messages of one capacity share all of their context but the name and the right (``JSONTemplate``).
    """
    now = now or utcnow()
    if period.enrolment_closed_at is not None:
        raise Conflict(f"enrolment for {period.year} is closed")
    audit("period.send-opt-in", str(period.year), resend=resend)
    policy, on = policy_of(period), now.date()
    enrolled = _enrolled_ids(period)
    qualifies = _qualifying(policy, on)
    asked = [
        (right_id, capacity, sponsor, email, given, family)
        for right_id, capacity, sponsor, sent_at, email, given, family, stored in read_rows(
            select(VotingRight.id, VotingRight.capacity, VotingRight.sponsor, VotingRight.opt_in_sent_at,
                   Member.email, Member.given_name, Member.family_name, cast(Member.details, Text))
            .join(Member, Member.id == VotingRight.member_id)
            .where(VotingRight.period_id == period.id, Member.removed_at.is_(None))
            .order_by(VotingRight.id)
        )
        if right_id not in enrolled and (resend or not sent_at) and qualifies(capacity, sponsor, stored)
    ]
    shapes: dict[tuple[str, str], tuple[str, JSONTemplate]] = {}

    def messages() -> Iterator[dict]:
        for right_id, capacity, sponsor, email, given, family in asked:
            if (capacity, sponsor) not in shapes:
                subject, context = _opt_in_message(period, capacity, sponsor, NAME_HOLE, RIGHT_HOLE)
                shapes[capacity, sponsor] = (subject, JSONTemplate(context, NAME_HOLE, RIGHT_HOLE))
            subject, context_json = shapes[capacity, sponsor]
            yield outbox.outbox_row("opt_in", email, subject,
                                    context_json.fill(display_name(given, family, email), right_id), now)

    insert_rows(OutboxMessage.__table__, messages())
    ids = [right_id for right_id, *_ in asked]
    for start in range(0, len(ids), 10_000):
        db.session.execute(
            update(VotingRight).where(VotingRight.id.in_(ids[start:start + 10_000])).values(opt_in_sent_at=now),
            execution_options={"synchronize_session": False},
        )
    return len(asked)


def send_opt_in_again(address: str, now: dt.datetime | None = None) -> int:
    """Queue the opt-in message again to each right of ``address`` that may still enrol; returns how many.

    Only in the latest period, while its enrolment is open, and only rights that
    qualify and are not enrolled.
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


def send_standing_links(address: str, now: dt.datetime | None = None) -> int:
    """Queue the link to its standing page to each right of ``address`` in the latest period; returns how many.

    Every right of a member on the roster, enrolled or not, forfeited or not: the page says where it stands.
    """
    now = now or utcnow()
    period = db.session.scalar(select(EligibilityPeriod).order_by(EligibilityPeriod.year.desc()).limit(1))
    if period is None:
        return 0
    rights = db.session.scalars(
        select(VotingRight).join(Member, Member.id == VotingRight.member_id)
        .where(VotingRight.period_id == period.id, Member.email == address, Member.removed_at.is_(None))
        .order_by(VotingRight.id)
    ).all()
    for right in rights:
        outbox.queue(
            "standing", right.member.email, f"Your PSF voting standing {right.label}, {period.year}",
            {"name": right.member.display_name, "year": period.year, "capacity": right.label,
             "link": standing_link_for_mail(right.id, period.year)},
            now=now,
        )
    return len(rights)


def _queue_opt_in(right: VotingRight, period: EligibilityPeriod, now: dt.datetime) -> None:
    subject, context = _opt_in_message(period, right.capacity, right.sponsor, right.member.display_name, right.id)
    outbox.queue("opt_in", right.member.email, subject, context, now=now)
    right.opt_in_sent_at = now


def _opt_in_message(period: EligibilityPeriod, capacity: str, sponsor: str, name: str, right_id: int | str
                    ) -> tuple[str, dict]:
    """The opt-in message to a right: subject and context."""
    label = capacity_label(capacity, sponsor)
    return (
        f"Do you want to vote in the PSF in {period.year}, {label}?",
        {"name": name, "year": period.year, "capacity": label,
         "forfeiture_rule": rules.forfeiture_rule(policy_of(period)),
         "link": outbox.signed_link("eligibility.opt_in", OPT_IN, {"r": right_id}, opt_in_expiry(period.year))},
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
    period = db.session.get_one(EligibilityPeriod, right.period_id)
    if db.session.get(Enrollment, right.id) is not None:
        return False
    if period.enrolment_closed_at is not None:
        raise Conflict(f"enrolment for {period.year} closed on {period.enrolment_closed_at:%d %B %Y}.")
    if not right_qualifies(right, policy_of(period), now.date()):
        raise Conflict("The membership roster no longer gives you this voting right.")
    db.session.add(Enrollment(right_id=right.id, confirmed_at=now, source="link"))
    db.session.flush()
    return True


def waivable_rights(period: EligibilityPeriod, member_ids: set[int], on: dt.date | None = None) -> list[int]:
    """The rights of the given members that the affirmation waiver (bylaws 4.2) would enrol: those that
    qualify, are not enrolled yet and do not vote without opting in anyway."""
    on = on or utcnow().date()
    policy = policy_of(period)
    already = _enrolled_ids(period)
    return [
        right_id for right_id, member_id, capacity, sponsor, details in db.session.execute(
            select(VotingRight.id, VotingRight.member_id, VotingRight.capacity, VotingRight.sponsor, Member.details)
            .join(Member, Member.id == VotingRight.member_id)
            .where(VotingRight.period_id == period.id, Member.removed_at.is_(None))
            .order_by(VotingRight.id)
        )
        if member_id in member_ids and right_id not in already
        and rules.qualifies(capacity, sponsor, classes_of(details), details["delegate_for"], policy, on)
        and not rules.always_votes(capacity, classes_of(details), policy, on)
    ]


def require_waiver(period: EligibilityPeriod) -> None:
    """Refuse the affirmation waiver (bylaws 4.2) under a policy without it."""
    policy = policy_of(period)
    if not policy.affirmation_waiver:
        raise Conflict(f"{policy.title} has no affirmation waiver: every voting right opts in")


def enrol_by_waiver(period: EligibilityPeriod, right_ids: list[int], now: dt.datetime | None = None) -> list[int]:
    """Enrol the rights without their affirmation, recorded as enrolled by the waiver; returns them.

    Refused for a policy without the waiver and once enrolment has closed.
    """
    require_waiver(period)
    if period.enrolment_closed_at is not None:
        raise Conflict(f"enrolment for {period.year} closed on {period.enrolment_closed_at:%d %B %Y}")
    if right_ids:
        insert_rows(Enrollment.__table__, [{"right_id": right_id, "confirmed_at": now or utcnow(), "source": "waiver"}
                                           for right_id in right_ids])
    return right_ids


def close_enrolment(period: EligibilityPeriod, now: dt.datetime | None = None) -> None:
    if period.enrolment_closed_at is not None:
        raise Conflict(f"enrolment for {period.year} is already closed")
    audit("period.close-enrolment", str(period.year))
    period.enrolment_closed_at = now or utcnow()
    db.session.flush()


# Who can vote: the voting roll ----------------------------------------------------

ALWAYS = "always"  # votes without opting in (psf-bylaws 4.09: Fellows)
HOW_WORDS = {"link": "opted in", "roster": "opted in with the membership system",
             "waiver": "enrolled by the affirmation waiver", ALWAYS: "votes without opting in"}


class RollEntry(NamedTuple):  # not a frozen dataclass: one is made per right, and a tuple is made far faster
    """A right that can take part in votes now: on the roster, qualifying, enrolled or always voting."""

    right_id: int
    capacity: str
    sponsor: str
    how: str  # an enrolment source ("link", "roster", "waiver") or ALWAYS
    forfeited: bool  # its privileges are forfeited now: left out of electorates of votes opened now
    quorum_only_if_voting: bool
    fellow: bool  # in a Fellow vote's electorate of Fellows (as individuals)
    managing_since: dt.date | None  # the start of an active Managing class, for --managing-years


def voting_roll(period: EligibilityPeriod, on: dt.date, *, member_id: int | None = None,
                enrolled_only: bool = True) -> list[RollEntry]:
    """Every right of the period that can vote on ``on``, forfeited ones marked: the one answer to
    "who can vote" that `period show`, `period enrolled`, the console and every electorate use.

    A right is on it while its holder is on the roster (not removed by a
    re-import) and qualifies, and it is enrolled or votes without opting in.
    ``member_id`` keeps one member's rights; ``enrolled_only=False`` keeps the
    rights that qualify whether or not they enrolled (their ``how`` is "").
    """
    policy = policy_of(period)
    enrolled = dict(read_rows(
        select(Enrollment.right_id, Enrollment.source).join(VotingRight, VotingRight.id == Enrollment.right_id)
        .where(VotingRight.period_id == period.id)
    ).all())
    forfeited = {
        right_id for right_id, at in read_rows(
            select(Forfeiture.right_id, Forfeiture.forfeited_at)
            .join(VotingRight, VotingRight.id == Forfeiture.right_id)
            .where(VotingRight.period_id == period.id)
        ) if rules.forfeiture_in_force(policy, at, on)
    }
    standing_of = _by_stored_details(lambda capacity, sponsor, details: rules.on_the_roll(
        capacity, sponsor, classes_of(details), details["delegate_for"], policy, on))
    query = (
        select(VotingRight.id, VotingRight.capacity, VotingRight.sponsor, cast(Member.details, Text))
        .join(Member, Member.id == VotingRight.member_id)
        .where(VotingRight.period_id == period.id, Member.removed_at.is_(None))
        .order_by(VotingRight.id)
    )
    if member_id is not None:
        query = query.where(Member.id == member_id)
    roll = []
    for right_id, capacity, sponsor, stored in read_rows(query):
        standing = standing_of(capacity, sponsor, stored)
        if standing is None:
            continue
        how = enrolled.get(right_id) or (ALWAYS if standing.always_votes else None)
        if how is None and enrolled_only:
            continue
        roll.append(RollEntry(right_id, capacity, sponsor, how or "", right_id in forfeited,
                              standing.quorum_only_if_voting, standing.fellow, standing.managing_since))
    return roll


class Entitled(NamedTuple):
    """A right in a vote's electorate, as frozen when the vote opens."""

    right_id: int
    quorum_only_if_voting: bool


def electorate(
    period: EligibilityPeriod, on: dt.date, *, scope: str = "all", managing_years: int | None = None,
    group_keys: list[str] | None = None,
) -> list[Entitled]:
    """The rights taking part in a vote opening on ``on``.

    ``scope``: "all" and "voting-members" (every voting right not forfeited),
    "fellows" (individual rights of Fellows, and of Managing Members of
    ``managing_years`` if given), or "group": the individual rights of the
    members named by ``group_keys`` (a chartered Working Group, the Board),
    who vote as the group's members whether or not they opted in.
    """
    if scope == "group":
        return [Entitled(right_id, False) for right_id in group_rights(period, group_keys or [], on)]
    chosen = []
    for entry in voting_roll(period, on):
        if entry.forfeited:
            continue
        if scope == "fellows" and not (entry.fellow or _managing_enough(entry, on, managing_years)):
            continue
        chosen.append(Entitled(entry.right_id, entry.quorum_only_if_voting))
    return chosen


def entitled_if_added(
    period: EligibilityPeriod, member: Member, on: dt.date, *, scope: str = "all", managing_years: int | None = None,
) -> list[Entitled]:
    """A member's rights that a vote of ``scope`` could take in once open, the member having been missed
    (left off the roster, or not enrolled in time): those that qualify now, whether or not they enrolled.

    A right whose privileges are forfeited is refused, naming why.
    """
    if scope == "group":
        return [Entitled(right_id, False) for right_id in group_rights(period, [member.key], on)]
    entries = [
        entry for entry in voting_roll(period, on, member_id=member.id, enrolled_only=False)
        if scope != "fellows" or entry.fellow or _managing_enough(entry, on, managing_years)
    ]
    if any(entry.forfeited for entry in entries):
        raise Conflict(f"{member.email} forfeited their voting privileges by missing votes; "
                       "they cannot be added to a vote")
    return [Entitled(entry.right_id, entry.quorum_only_if_voting) for entry in entries]


def _managing_enough(entry: RollEntry, on: dt.date, managing_years: int | None) -> bool:
    return (managing_years is not None and entry.capacity == rules.INDIVIDUAL and entry.managing_since is not None
            and entry.managing_since <= rules.years_before(on, managing_years))


def group_rights(period: EligibilityPeriod, keys: list[str], on: dt.date) -> list[int]:
    """The individual rights of the members named (by member id or email); each must be on the roster
    and hold an individual right, or the whole group is refused naming who is not."""
    policy = policy_of(period)
    found, missing = [], []
    for key in keys:
        member = find_member(period, key)
        right = db.session.scalar(
            select(VotingRight).where(VotingRight.member_id == member.id, VotingRight.capacity == rules.INDIVIDUAL)
        ) if member is not None else None
        if right is None or not right_qualifies(right, policy, on):
            missing.append(key)
        elif right.id not in found:
            found.append(right.id)
    if missing:
        raise InvalidInput(f"not members holding a voting right on the {period.year} roster: {', '.join(missing)}")
    return found


def find_member(period: EligibilityPeriod, key_or_email: str) -> Member | None:
    """A member on the period's roster (not removed), by member id or by email address."""
    text = key_or_email.strip()
    return db.session.scalar(
        select(Member).where(Member.period_id == period.id, Member.removed_at.is_(None),
                             (Member.key == text) | (Member.email == text.lower()))
        .order_by(Member.id).limit(1)
    )


@dataclass(frozen=True)
class VotingMember:
    """A line of the voting roll as administrators read it."""

    right_id: int
    member_key: str
    name: str
    email: str
    capacity: str
    sponsor: str
    how: str
    forfeited: bool

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def voting_members(period: EligibilityPeriod, on: dt.date | None = None) -> list[VotingMember]:
    """The voting roll with names: who can vote now (forfeited rights marked)."""
    roll = {entry.right_id: entry for entry in voting_roll(period, on or utcnow().date())}
    rows = read_rows(
        select(VotingRight.id, Member.key, Member.given_name, Member.family_name, Member.email)
        .join(Member, Member.id == VotingRight.member_id)
        .where(VotingRight.period_id == period.id, Member.removed_at.is_(None))
        .order_by(VotingRight.id)
    )
    return [
        VotingMember(right_id, key, display_name(given, family, email), email, roll[right_id].capacity,
                     roll[right_id].sponsor, roll[right_id].how, roll[right_id].forfeited)
        for right_id, key, given, family, email in rows if right_id in roll
    ]


def export_voting_members(period: EligibilityPeriod) -> list[VotingMember]:
    """The voting roll, for an administrator to take away: who took it is audited."""
    rows = voting_members(period)
    audit("period.export-enrolled", str(period.year), rights=len(rows))
    return rows


@dataclass(frozen=True)
class AtRisk:
    """A right that has missed votes this period (or window): how many, and where that leaves it.

    Participation only (which votes a right took part in is the ledger's), never anything about a ballot.
    """

    right_id: int
    member_key: str
    name: str
    email: str
    capacity: str
    sponsor: str
    missed: int  # missed votes that count towards the limit now
    limit: int
    standing: str  # FORFEITED, NEAR (one more missed vote forfeits), MISSED, or EXEMPT

    def as_dict(self) -> dict:
        return dict(self.__dict__)


FORFEITED, NEAR, MISSED, EXEMPT = "forfeited", "near the limit", "missed", "exempt"
STANDING_WORDS = {FORFEITED: "forfeited: cannot vote until {until}",
                  NEAR: "one more missed vote ends their voting rights",
                  MISSED: "missed some votes", EXEMPT: "never forfeits under the policy"}


def at_risk(period: EligibilityPeriod, now: dt.datetime | None = None) -> list[AtRisk]:
    """Every right on the voting roll that has missed a vote that still counts, or has forfeited:
    forfeited first, then those one missed vote from the limit, then by how many they missed.
    For the administrators' eyes; who took the list is audited."""
    now = now or utcnow()
    policy = policy_of(period)
    roll = {entry.right_id: entry for entry in voting_roll(period, now.date())}
    missed = _missed_counts(policy, select(VotingRight.id).where(VotingRight.period_id == period.id), now)
    exempt = _exempt(policy, now.date())
    found = []
    # Every right of the period read, and those at risk kept here: a list of their ids in the statement
    # would grow with them, past what a database takes in one (65,535 parameters for PostgreSQL).
    for right_id, key, given, family, email, stored in read_rows(
        select(VotingRight.id, Member.key, Member.given_name, Member.family_name, Member.email,
               cast(Member.details, Text))
        .join(Member, Member.id == VotingRight.member_id)
        .where(VotingRight.period_id == period.id)
    ):
        entry, count = roll.get(right_id), missed.get(right_id, 0)
        if entry is None or not (entry.forfeited or count):
            continue
        if entry.forfeited:
            standing = FORFEITED
        elif exempt(entry.capacity, entry.sponsor, stored):
            standing = EXEMPT
        elif count + 1 >= policy.missed_votes:
            standing = NEAR
        else:
            standing = MISSED
        found.append(AtRisk(right_id, key, display_name(given, family, email), email, entry.capacity, entry.sponsor,
                            count, policy.missed_votes, standing))
    order = [FORFEITED, NEAR, MISSED, EXEMPT]
    found.sort(key=lambda r: (order.index(r.standing), -r.missed, r.name.lower(), r.right_id))
    audit("period.at-risk", str(period.year), rights=len(found))
    return found


def _enrolled_ids(period: EligibilityPeriod) -> set[int]:
    return set(
        db.session.scalars(
            select(Enrollment.right_id).join(VotingRight, VotingRight.id == Enrollment.right_id)
            .where(VotingRight.period_id == period.id)
        )
    )


def record_missed(
    vote_id: int, period: EligibilityPeriod, missed_right_ids: Select, closed_at: dt.datetime
) -> tuple[int, list[int]]:
    """Record who missed a vote (the rights ``missed_right_ids`` selects) and forfeit the rights that
    reached the limit, in a few statements however many they are.

    Returns how many missed it, and the ids of the rights forfeited by this close; each is told by email.
    """
    # Two closes at once (two workers, or a worker and an administrator) would each count without the
    # other's missed votes and forfeitures, not yet committed, and could both forfeit a right (two
    # notices) or neither. Every right of a vote's electorate belongs to its period, so the closes of the
    # period take turns at its row from here to their commit, and the statements below, each of its own,
    # see what the one before committed. FOR NO KEY UPDATE: what only refers to the period (a new vote, a
    # member) holds a key-share lock on it, and goes on.
    db.session.execute(
        select(EligibilityPeriod.id).where(EligibilityPeriod.id == period.id).with_for_update(key_share=True))
    missed = db.session.connection().execute(insert(MissedVote.__table__).from_select(
        ["right_id", "vote_id", "closed_at"],
        missed_right_ids.add_columns(literal(vote_id), literal(closed_at, UTCDateTime())),
    ).execution_options(preserve_rowcount=True)).rowcount  # (SQLAlchemy keeps it for UPDATE and DELETE alone)
    if not missed:
        return 0, []
    policy = policy_of(period)
    rights = _reaching_limit(policy, select(MissedVote.right_id).where(MissedVote.vote_id == vote_id), closed_at,
                             this_one=0)
    if not rights:
        return missed, []
    year = rules.forfeiture_year(policy, period.year, closed_at)
    # A right forfeits once a year. The closes of the period take turns (above), so the rights that an
    # earlier close forfeited this year are seen here and left out; the key (right, year) guards the rest.
    already = set(db.session.scalars(select(Forfeiture.right_id).where(Forfeiture.year == year)))
    forfeited = [right for right in rights if right.id not in already]
    insert_rows(Forfeiture.__table__, ({"right_id": right.id, "year": year, "vote_id": vote_id,
                                        "forfeited_at": closed_at} for right in forfeited))
    until = rules.forfeiture_until(policy)
    insert_rows(OutboxMessage.__table__, (
        outbox.outbox_row(
            "forfeited", right.email,
            f"Your PSF voting privileges ({right.label}) have lapsed until {until}",
            {"name": right.name, "year": period.year, "capacity": right.label,
             "limit": policy.missed_votes, "until": until, "window": policy.window,
             "standing": standing_link_for_mail(right.id, period.year)},
            closed_at,
        ) for right in forfeited))
    return missed, [right.id for right in forfeited]


def would_forfeit(period: EligibilityPeriod, right_ids: Select, closed_at: dt.datetime) -> int:
    """How many of ``right_ids`` would forfeit their privileges by missing one more vote, closing at
    ``closed_at`` (what a close would do, for the administrator to confirm it): those not forfeited already."""
    policy = policy_of(period)
    rights = _reaching_limit(policy, right_ids, closed_at, this_one=1)
    if not rights:
        return 0
    year = rules.forfeiture_year(policy, period.year, closed_at)
    already = set(db.session.scalars(select(Forfeiture.right_id).where(
        Forfeiture.year == year, Forfeiture.right_id.in_(right_ids))))
    return sum(1 for right in rights if right.id not in already)


class AtLimit(NamedTuple):  # a plain row: a close may forfeit a hundred thousand rights at once
    """A right whose missed votes reach the limit, with what its notice needs."""

    id: int
    label: str  # how the right votes, in words
    email: str
    name: str


def _reaching_limit(policy: Policy, right_ids: Select, closed_at: dt.datetime, *, this_one: int) -> list[AtLimit]:
    """The rights among ``right_ids`` whose missed votes (plus ``this_one`` not yet recorded) reach the
    policy's limit at a close at ``closed_at``, those exempt from forfeiture left out."""
    if this_one and policy.missed_votes <= this_one:  # a right that never missed one reaches it too
        at_limit = right_ids
    else:
        at_limit = (
            select(MissedVote.right_id)
            .where(MissedVote.right_id.in_(right_ids), MissedVote.closed_at >= rules.window_start(policy, closed_at))
            .group_by(MissedVote.right_id)
            .having(func.count() >= policy.missed_votes - this_one)
        )
    exempt = _exempt(policy, closed_at.date())
    return [
        AtLimit(right_id, capacity_label(capacity, sponsor), email, display_name(given, family, email))
        for right_id, capacity, sponsor, email, given, family, stored in read_rows(
            select(VotingRight.id, VotingRight.capacity, VotingRight.sponsor, Member.email, Member.given_name,
                   Member.family_name, cast(Member.details, Text))
            .join(Member, Member.id == VotingRight.member_id)
            .where(VotingRight.id.in_(at_limit)).order_by(VotingRight.id))
        if not exempt(capacity, sponsor, stored)
    ]


def _missed_counts(policy: Policy, right_ids: Select, closed_at: dt.datetime) -> dict[int, int]:
    """Missed votes per right that count towards the limit at a close at ``closed_at``."""
    query = (
        select(MissedVote.right_id, func.count())
        .where(MissedVote.right_id.in_(right_ids), MissedVote.closed_at >= rules.window_start(policy, closed_at))
        .group_by(MissedVote.right_id)
    )
    return dict(db.session.execute(query).all())


def standing_link(right_id: int, year: int) -> str:
    """The link to a right's own standing page; it lasts as long as the period's year."""
    token = outbox.link_token(STANDING, {"r": right_id}, opt_in_expiry(year))
    return outbox.external_url(STANDING_PAGE, token=token)


def standing_link_for_mail(right_id: int, year: int) -> dict:
    """The same link in a queued message: signed when the message is sent."""
    return outbox.signed_link(STANDING_PAGE, STANDING, {"r": right_id}, opt_in_expiry(year))


@dataclass(frozen=True)
class Standing:
    """Where a right stands in its period: the eligibility side (the votes side adds which votes)."""

    year: int
    capacity: str
    qualifies: bool
    enrolled: bool
    enrolment_open: bool
    missed: int  # missed votes that count towards the limit now
    missed_limit: int
    window: str  # "period" or "calendar-year": over what the missed votes are counted
    forfeited: bool
    exempt: bool
    forfeiture_rule: str  # what missing votes costs, in words


def standing(right: VotingRight, now: dt.datetime | None = None) -> Standing:
    now = now or utcnow()
    period = db.session.get_one(EligibilityPeriod, right.period_id)
    policy = policy_of(period)
    missed = _missed_counts(policy, select(VotingRight.id).where(VotingRight.id == right.id), now)
    return Standing(
        year=period.year,
        capacity=right.label,
        qualifies=right_qualifies(right, policy, now.date()),
        enrolled=db.session.get(Enrollment, right.id) is not None,
        enrolment_open=period.enrolment_closed_at is None,
        missed=missed.get(right.id, 0),
        missed_limit=policy.missed_votes,
        window=policy.window,
        forfeited=any(rules.forfeiture_in_force(policy, at, now.date()) for at in db.session.scalars(
            select(Forfeiture.forfeited_at).where(Forfeiture.right_id == right.id))),
        exempt=rules.is_exempt(right.member.classes, policy, now.date()),
        forfeiture_rule=rules.forfeiture_rule(policy),
    )


@dataclass(frozen=True)
class EnrolmentCounts:
    """How an opt-in campaign is going, and who can vote: the console's view of a period.

    ``can_vote`` is the electorate of a vote for every voting right opened
    now: the voting roll (``voting_roll``) less the forfeited.
    """

    rights: int
    qualifying: int
    asked: int
    can_vote: int
    enrolled_by_link: int
    enrolled_from_roster: int
    enrolled_by_waiver: int
    always_voting: int
    forfeited: int
    confirmations_by_day: list[tuple[dt.date, int]]


def enrolment_counts(period: EligibilityPeriod, now: dt.datetime | None = None) -> EnrolmentCounts:
    now = now or utcnow()
    policy, on = policy_of(period), now.date()
    roll = voting_roll(period, on)
    qualifies = _qualifying(policy, on)
    # Plain rows, not objects: a period may hold a hundred thousand rights.
    rights = qualifying = asked = 0
    for capacity, sponsor, was_asked, stored, on_roster in read_rows(
        select(VotingRight.capacity, VotingRight.sponsor, VotingRight.opt_in_sent_at.is_not(None),
               cast(Member.details, Text), Member.removed_at.is_(None))
        .join(Member, Member.id == VotingRight.member_id).where(VotingRight.period_id == period.id)
    ):
        rights += 1
        asked += bool(was_asked)
        qualifying += bool(on_roster) and qualifies(capacity, sponsor, stored)
    confirmations = read_rows(
        select(Enrollment.confirmed_at).join(VotingRight, VotingRight.id == Enrollment.right_id)
        .where(VotingRight.period_id == period.id, Enrollment.source == "link")
    ).scalars().all()
    by_day: dict[dt.date, int] = {}
    for confirmed_at in confirmations:
        by_day[confirmed_at.date()] = by_day.get(confirmed_at.date(), 0) + 1
    voting = [entry for entry in roll if not entry.forfeited]
    return EnrolmentCounts(
        rights=rights,
        qualifying=qualifying,
        asked=asked,
        can_vote=len(voting),
        enrolled_by_link=sum(1 for e in voting if e.how == "link"),
        enrolled_from_roster=sum(1 for e in voting if e.how == "roster"),
        enrolled_by_waiver=sum(1 for e in voting if e.how == "waiver"),
        always_voting=sum(1 for e in voting if e.how == ALWAYS),
        forfeited=len(roll) - len(voting),
        confirmations_by_day=sorted(by_day.items()),
    )


def list_periods() -> list[EligibilityPeriod]:
    return list(db.session.scalars(select(EligibilityPeriod).order_by(EligibilityPeriod.year.desc())))
