"""Who holds which voting right, and when a right forfeits: pure rules.

Plain values in, plain values out; the services apply them to stored rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from ballot.policy import Policy
from ballot.roster.records import FELLOW, MANAGING, SPONSOR, MemberClass

INDIVIDUAL = "individual"
DELEGATE = "delegate"


def is_active(member_class: MemberClass, on: dt.date) -> bool:
    """A class runs from its start to its end, both days included; missing dates are open."""
    return (member_class.start is None or member_class.start <= on) and (
        member_class.end is None or on <= member_class.end
    )


def active_classes(classes: Iterable[MemberClass], on: dt.date) -> set[str]:
    return {c.name for c in classes if is_active(c, on)}


def rights_held(
    classes: Iterable[MemberClass], delegate_for: Iterable[str], policy: Policy, on: dt.date
) -> list[tuple[str, str]]:
    """The rights a person holds on a day, as (capacity, sponsor) pairs.

    One individual right however many classes qualify ("still only one vote"),
    and a separate delegate right for each Sponsor Member the person is a
    designated delegate of, while the sponsorship (the sponsor class) runs.
    """
    return _rights_held(active_classes(classes, on), delegate_for, policy)


def _rights_held(active: set[str], delegate_for: Iterable[str], policy: Policy) -> list[tuple[str, str]]:
    rights: list[tuple[str, str]] = []
    if not active.isdisjoint(policy.individual_classes):
        rights.append((INDIVIDUAL, ""))
    if policy.delegates_vote and SPONSOR in active:
        rights.extend((DELEGATE, sponsor) for sponsor in sorted(set(delegate_for)))
    return rights


def qualifies(
    capacity: str, sponsor: str, classes: Iterable[MemberClass], delegate_for: Iterable[str],
    policy: Policy, on: dt.date, *, removed: bool = False,
) -> bool:
    """A right qualifies on a day: its holder is on the roster (not ``removed``) and holds it then.

    The one rule for it: opt-in, enrolment counts and electorates all ask this.
    """
    return not removed and (capacity, sponsor) in rights_held(classes, delegate_for, policy, on)


def in_fellow_electorate(
    capacity: str, classes: Iterable[MemberClass], on: dt.date, managing_years: int | None
) -> bool:
    """Fellows vote on Fellows as individuals; a vote may add Managing Members of long standing.

    ``managing_years``: include individual rights of people who have been
    Managing Members for at least this many years on the day the vote opens.
    """
    if capacity != INDIVIDUAL:
        return False
    classes = tuple(classes)
    if _fellow(capacity, active_classes(classes, on)):
        return True
    if managing_years is None:
        return False
    since = years_before(on, managing_years)
    return any(
        c.name == MANAGING and is_active(c, on) and c.start is not None and c.start <= since
        for c in classes
    )


def _fellow(capacity: str, active: set[str]) -> bool:
    return capacity == INDIVIDUAL and FELLOW in active


def is_exempt(classes: Iterable[MemberClass], policy: Policy, on: dt.date) -> bool:
    """The holder has a class the policy exempts from forfeiture (psf-bylaws: Fellows)."""
    return bool(active_classes(classes, on) & set(policy.exempt_classes))


def forfeits(missed: int, classes: Iterable[MemberClass], policy: Policy, on: dt.date) -> bool:
    """Use it or lose it: the configured number of missed votes ends the privilege."""
    return not is_exempt(classes, policy, on) and missed >= policy.missed_votes


def always_votes(capacity: str, classes: Iterable[MemberClass], policy: Policy, on: dt.date) -> bool:
    """A right that votes without opting in: an individual right of a class the policy says is always
    voting (psf-bylaws 4.09: "Fellows are always considered voting members")."""
    return _always_votes(capacity, active_classes(classes, on), policy)


def _always_votes(capacity: str, active: set[str], policy: Policy) -> bool:
    return capacity == INDIVIDUAL and bool(active & set(policy.always_voting))


def counts_for_quorum_only_if_voting(capacity: str, classes: Iterable[MemberClass], policy: Policy,
                                     on: dt.date) -> bool:
    """psf-bylaws 4.8: Fellows, "if they vote, shall be counted for purposes of a quorum"."""
    return _quorum_only_if_voting(capacity, active_classes(classes, on), policy)


def _quorum_only_if_voting(capacity: str, active: set[str], policy: Policy) -> bool:
    return capacity == INDIVIDUAL and bool(active & set(policy.quorum_only_if_voting))


class OnTheRoll(NamedTuple):
    """What the rules above say of a right that qualifies on a day (``on_the_roll``)."""

    always_votes: bool
    quorum_only_if_voting: bool
    fellow: bool  # in a Fellow vote's electorate of Fellows
    managing_since: dt.date | None


def on_the_roll(
    capacity: str, sponsor: str, classes: Iterable[MemberClass], delegate_for: Iterable[str], policy: Policy,
    on: dt.date,
) -> OnTheRoll | None:
    """Whether a right qualifies on a day (``qualifies``: None if not) and, if it does, the rest the
    voting roll asks of it, from one look at which classes are active: the same rules, for many rights."""
    classes = tuple(classes)
    active = active_classes(classes, on)
    if (capacity, sponsor) not in _rights_held(active, delegate_for, policy):
        return None
    return OnTheRoll(_always_votes(capacity, active, policy), _quorum_only_if_voting(capacity, active, policy),
                     _fellow(capacity, active), managing_since(classes, on))


def forfeiture_rule(policy: Policy) -> str:
    """Use it or lose it, in the words every page and message tells voters (one rule, one wording)."""
    votes = f"{policy.missed_votes} vote{'s' if policy.missed_votes != 1 else ''}"
    if policy.window == "calendar-year":
        rule = f"Missing {votes} in a calendar year ends your voting rights for the rest of that year."
    else:
        rule = f"Missing {votes} in the eligibility period ends your voting rights until the next period."
    if policy.exempt_classes:
        exempt = " and ".join(f"{name.title()}s" for name in policy.exempt_classes)
        rule += f" {exempt} never lose their voting rights this way."
    return rule


def forfeiture_in_force(policy: Policy, forfeited_at: dt.datetime, on: dt.date) -> bool:
    """Whether a right that forfeited at ``forfeited_at`` is still without its privileges on ``on``.

    Over the period (the model): until the next period. Over a calendar year
    (psf-bylaws 4.11: "revoked for the remainder of such year"): until the
    year ends; from 1 January the right is back.
    """
    return policy.window != "calendar-year" or forfeited_at.year == on.year


def forfeiture_until(policy: Policy) -> str:
    """How long a forfeiture lasts, in the words of mail and pages."""
    return "the end of the year" if policy.window == "calendar-year" else "the next period"


def forfeiture_year(policy: Policy, period_year: int, at: dt.datetime) -> int:
    """The year a forfeiture at ``at`` runs in: the calendar year (psf-bylaws 4.11), or the period's."""
    return at.year if policy.window == "calendar-year" else period_year


def window_start(policy: Policy, at: dt.datetime) -> dt.datetime:
    """From when missed votes count towards the limit at ``at``: the whole period, or the
    calendar year of ``at`` (a vote missed in an earlier year no longer counts)."""
    if policy.window == "calendar-year":
        return dt.datetime(at.year, 1, 1, tzinfo=dt.UTC)
    return dt.datetime.min.replace(tzinfo=dt.UTC)


def managing_since(classes: Iterable[MemberClass], on: dt.date) -> dt.date | None:
    """When the person's active Managing class began, if they hold one on ``on`` (and its start is known)."""
    starts = [c.start for c in classes if c.name == MANAGING and is_active(c, on) and c.start is not None]
    return min(starts) if starts else None


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
