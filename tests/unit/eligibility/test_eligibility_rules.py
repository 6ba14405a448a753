"""Who holds which voting right, who votes on Fellows, and who forfeits: the pure rules."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ballot.eligibility.rules import (
    DELEGATE,
    INDIVIDUAL,
    active_classes,
    always_votes,
    counts_for_quorum_only_if_voting,
    forfeits,
    in_fellow_electorate,
    managing_since,
    on_the_roll,
    qualifies,
    rights_held,
)
from ballot.policy import load_policy
from ballot.roster.records import MemberClass

SEED = load_policy("seed")
BYLAWS = load_policy("psf-bylaws")
TODAY = dt.date(2026, 6, 15)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def c(name: str, start: str | None = None, end: str | None = None) -> MemberClass:
    return MemberClass(name, d(start) if start else None, d(end) if end else None)


# --- Individual rights ------------------------------------------------------

@pytest.mark.parametrize("name", ["supporting", "managing", "contributing", "fellow"])
def test_each_qualifying_class_alone_gives_one_individual_right(name):
    assert rights_held([c(name, "2026-01-01")], [], SEED, TODAY) == [(INDIVIDUAL, "")]


def test_one_individual_right_however_many_classes_qualify():
    classes = [c("basic"), c("supporting", "2026-01-01", "2026-12-31"), c("managing", "2025-01-01"),
               c("contributing"), c("fellow", "2015-07-01")]
    assert rights_held(classes, [], SEED, TODAY) == [(INDIVIDUAL, "")]


def test_basic_members_have_no_right():
    assert rights_held([c("basic", "2020-01-01")], [], SEED, TODAY) == []
    assert rights_held([], [], SEED, TODAY) == []


def test_a_lapsed_supporting_membership_gives_no_right():
    lapsed = [c("basic"), c("supporting", "2025-03-01", "2026-02-28")]
    assert rights_held(lapsed, [], SEED, TODAY) == []


def test_a_supporting_membership_runs_to_its_last_day_inclusive():
    membership = [c("supporting", "2025-06-15", "2026-06-15")]
    assert rights_held(membership, [], SEED, TODAY) == [(INDIVIDUAL, "")]
    assert rights_held(membership, [], SEED, TODAY + dt.timedelta(days=1)) == []


def test_a_membership_that_has_not_started_gives_no_right_yet():
    assert rights_held([c("supporting", "2026-07-01", "2027-06-30")], [], SEED, TODAY) == []


def test_a_lifetime_supporting_membership_has_no_end():
    lifetime = [c("supporting", "2001-01-01")]
    assert rights_held(lifetime, [], SEED, TODAY) == [(INDIVIDUAL, "")]
    assert rights_held(lifetime, [], SEED, d("2099-12-31")) == [(INDIVIDUAL, "")]


def test_a_class_the_policy_does_not_count_gives_no_individual_right():
    # Under the PSF bylaws there are no Managing Members.
    assert rights_held([c("managing", "2020-01-01")], [], BYLAWS, TODAY) == []
    assert rights_held([c("fellow", "2020-01-01")], [], BYLAWS, TODAY) == [(INDIVIDUAL, "")]


# --- Delegate rights --------------------------------------------------------

def test_a_sponsor_delegate_holds_a_separate_delegate_right():
    classes = [c("supporting", "2026-01-15", "2027-01-14"), c("fellow", "2019-05-01"),
               c("sponsor", "2026-03-01", "2027-02-28")]
    rights = rights_held(classes, ["Analytical Engines Ltd"], SEED, TODAY)
    assert rights == [(INDIVIDUAL, ""), (DELEGATE, "Analytical Engines Ltd")]


def test_a_delegate_without_an_individual_class_holds_only_the_delegate_right():
    rights = rights_held([c("sponsor", "2026-01-01", "2026-12-31")], ["Acme"], SEED, TODAY)
    assert rights == [(DELEGATE, "Acme")]


def test_a_delegate_of_two_sponsors_holds_two_delegate_rights_once_each():
    rights = rights_held([c("sponsor", "2026-01-01")], ["Zeta Corp", "Acme", "Acme"], SEED, TODAY)
    assert rights == [(DELEGATE, "Acme"), (DELEGATE, "Zeta Corp")]


def test_delegates_hold_no_right_where_the_policy_gives_them_none():
    assert rights_held([c("fellow"), c("sponsor")], ["Acme"], BYLAWS, TODAY) == [(INDIVIDUAL, "")]


def test_a_delegate_of_a_sponsorship_that_ended_holds_no_delegate_right():
    ended = [c("sponsor", "2025-01-01", "2025-12-31")]
    assert rights_held(ended, ["Acme"], SEED, TODAY) == []
    assert not qualifies(DELEGATE, "Acme", ended, ["Acme"], SEED, TODAY)


def test_qualifies_names_the_capacity_and_sponsor():
    classes = [c("fellow"), c("sponsor")]
    assert qualifies(INDIVIDUAL, "", classes, ["Acme"], SEED, TODAY)
    assert qualifies(DELEGATE, "Acme", classes, ["Acme"], SEED, TODAY)
    assert not qualifies(DELEGATE, "Other Corp", classes, ["Acme"], SEED, TODAY)
    assert not qualifies(INDIVIDUAL, "", [c("basic"), c("sponsor")], ["Acme"], SEED, TODAY)


def test_active_classes_on_a_day():
    classes = [c("supporting", "2025-01-01", "2025-12-31"), c("fellow", "2019-05-01"), c("basic")]
    assert active_classes(classes, TODAY) == {"fellow", "basic"}


# --- The Fellow electorate --------------------------------------------------

def test_fellows_vote_on_fellows_as_individuals():
    fellow = [c("fellow", "2015-07-01")]
    assert in_fellow_electorate(INDIVIDUAL, fellow, TODAY, None)
    assert not in_fellow_electorate(DELEGATE, fellow, TODAY, None)


def test_a_fellow_from_a_future_date_does_not_vote_yet():
    assert not in_fellow_electorate(INDIVIDUAL, [c("fellow", "2026-09-01")], TODAY, None)


def test_other_members_do_not_vote_on_fellows():
    for name in ("supporting", "contributing", "managing", "basic"):
        assert not in_fellow_electorate(INDIVIDUAL, [c(name, "2001-01-01")], TODAY, None)


def test_a_vote_may_add_managing_members_of_long_standing():
    long = [c("managing", "2021-06-15")]  # five years on the day the vote opens
    short = [c("managing", "2021-06-16")]
    assert in_fellow_electorate(INDIVIDUAL, long, TODAY, 5)
    assert not in_fellow_electorate(INDIVIDUAL, short, TODAY, 5)
    assert in_fellow_electorate(INDIVIDUAL, short, TODAY, 4)
    assert not in_fellow_electorate(INDIVIDUAL, long, TODAY, None)
    assert not in_fellow_electorate(DELEGATE, long, TODAY, 1)


def test_managing_years_need_a_known_start_and_a_current_membership():
    assert not in_fellow_electorate(INDIVIDUAL, [c("managing")], TODAY, 1)
    assert not in_fellow_electorate(INDIVIDUAL, [c("managing", "2010-01-01", "2026-01-31")], TODAY, 1)


def test_managing_years_from_the_29th_of_february():
    leap = d("2028-02-29")
    assert in_fellow_electorate(INDIVIDUAL, [c("managing", "2027-02-28")], leap, 1)
    assert not in_fellow_electorate(INDIVIDUAL, [c("managing", "2027-03-01")], leap, 1)


# --- Forfeiture -------------------------------------------------------------

def test_the_seed_forfeits_at_two_missed_votes():
    member = [c("supporting", "2026-01-01", "2026-12-31")]
    assert not forfeits(0, member, SEED, TODAY)
    assert not forfeits(1, member, SEED, TODAY)
    assert forfeits(2, member, SEED, TODAY)
    assert forfeits(3, member, SEED, TODAY)


def test_the_seed_exempts_nobody_not_even_fellows():
    assert forfeits(2, [c("fellow", "2010-01-01")], SEED, TODAY)


def test_the_bylaws_forfeit_at_four_and_exempt_fellows():
    supporting = [c("supporting", "2026-01-01", "2026-12-31")]
    fellow_too = supporting + [c("fellow", "2010-01-01")]
    assert not forfeits(3, supporting, BYLAWS, TODAY)
    assert forfeits(4, supporting, BYLAWS, TODAY)
    assert not forfeits(4, fellow_too, BYLAWS, TODAY)
    assert not forfeits(40, fellow_too, BYLAWS, TODAY)


def test_an_exemption_holds_only_while_its_class_does():
    former_fellow = [c("supporting"), c("fellow", "2010-01-01", "2026-01-01")]
    future_fellow = [c("supporting"), c("fellow", "2026-12-01")]
    assert forfeits(4, former_fellow, BYLAWS, TODAY)
    assert forfeits(4, future_fellow, BYLAWS, TODAY)


# --- The voting roll asks every rule of a right at once -------------------------------

@pytest.mark.parametrize("policy", [SEED, BYLAWS], ids=["seed", "psf-bylaws"])
def test_on_the_roll_says_what_each_rule_says_on_its_own(policy):
    rng = random.Random(12)
    names = ["basic", "supporting", "sponsor", "managing", "contributing", "fellow"]
    for _ in range(400):
        classes = []
        for name in rng.sample(names, rng.randrange(0, 4)):
            start = TODAY + dt.timedelta(days=rng.randrange(-800, 200)) if rng.random() < 0.8 else None
            end = (start or TODAY) + dt.timedelta(days=rng.randrange(0, 700)) if rng.random() < 0.6 else None
            classes.append(MemberClass(name, start, end))
        delegate_for = rng.sample(["ACME", "Initech"], rng.randrange(0, 3))
        for capacity, sponsor in [(INDIVIDUAL, ""), (DELEGATE, "ACME"), (DELEGATE, "Initech")]:
            on = TODAY + dt.timedelta(days=rng.randrange(-300, 300))
            standing = on_the_roll(capacity, sponsor, classes, delegate_for, policy, on)
            assert (standing is not None) == qualifies(capacity, sponsor, classes, delegate_for, policy, on)
            if standing is not None:
                assert standing.always_votes == always_votes(capacity, classes, policy, on)
                assert standing.quorum_only_if_voting == counts_for_quorum_only_if_voting(capacity, classes, policy, on)
                assert standing.fellow == in_fellow_electorate(capacity, classes, on, None)
                assert standing.managing_since == managing_since(classes, on)
