"""Preparing ranked ballots for counting: validation, withdrawn candidates, merging, the stored form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ballots import RankedBallot, StoredRankings, prepare_ranked, prepare_strict

B = RankedBallot.of


def test_identical_rankings_merge_and_weights_add_up() -> None:
    prepared = prepare_strict(list("ABC"), [B("A", "B"), B("C"), B("A", "B", weight=3), B("C", "A")])
    assert dict(prepared.rankings) == {(0, 1): 4, (2,): 1, (2, 0): 1}
    assert (prepared.total, prepared.empty) == (6, 0)


def test_rankings_that_differ_only_by_a_withdrawn_candidate_merge() -> None:
    prepared = prepare_strict(list("ABC"), [B("A", "B"), B("A", "C", "B"), B("C"), B()], withdrawn=["C"])
    assert dict(prepared.rankings) == {(0, 1): 2}
    assert (prepared.total, prepared.empty) == (2, 2), "ranking only withdrawn candidates, or nobody, is empty"


def test_an_empty_ballot_is_counted_as_empty() -> None:
    prepared = prepare_ranked(list("AB"), [B(), B("B"), B()])
    assert dict(prepared.rankings) == {((1,),): 1}
    assert (prepared.total, prepared.empty) == (1, 2)


def test_equal_rankings_are_tiers_for_ranked_methods_and_refused_by_transfer_methods() -> None:
    assert dict(prepare_ranked(list("ABC"), [B(("B", "A"), "C")]).rankings) == {((0, 1), (2,)): 1}
    with pytest.raises(ValueError, match=r"ballot 2: equal rankings \(A=B\) cannot be counted"):
        prepare_strict(list("ABC"), [B("C"), B(("A", "B"))])
    # Once one of them withdraws, the tier holds one candidate standing.
    assert dict(prepare_strict(list("ABC"), [B(("A", "B"))], withdrawn=["B"]).rankings) == {(0,): 1}


BOTH = (prepare_ranked, prepare_strict)


@pytest.mark.parametrize("ballots, problem, methods", [
    ([B("A"), B("A", "Zed"), B("Yan")], "ballot 2: unknown candidate 'Zed'", BOTH),
    ([B("A"), B("B", "A", "B")], "ballot 2: candidate 'B' ranked twice", BOTH),
    ([B("A"), B(("A", "B"), "A")], "ballot 2: candidate 'A' ranked twice", (prepare_ranked,)),
    ([B("A", weight=0)], "ballot 1: weight 0 is not a positive integer", BOTH),
])
def test_a_bad_ballot_is_refused_naming_the_first_that_is(ballots, problem, methods) -> None:
    for prepare in methods:
        with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            prepare(list("AB"), ballots)


# The stored form: one list of names per ballot, as the service keeps a ranked Board ballot's answer.
NAMES = list("ABCD")
stored_ballots = st.lists(st.lists(st.sampled_from(NAMES), max_size=4, unique=True), max_size=30)


@settings(max_examples=60, deadline=None)
@given(stored_ballots, st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
def test_the_stored_form_prepares_exactly_as_one_ranked_ballot_per_list(stored, withdrawn) -> None:
    for prepare in BOTH:
        ranked = prepare(NAMES, [B(*names) for names in stored], withdrawn)
        assert prepare(NAMES, StoredRankings(stored), withdrawn) == ranked


def test_a_collection_of_names_in_the_stored_form_is_a_tier_as_in_a_ranked_ballot() -> None:
    stored = [["A", ["B", "C"]], ["C", ("A",)], ["A", ["B", "C"]]]
    ranked = [B(*names) for names in stored]
    assert prepare_ranked(list("ABC"), StoredRankings(stored)) == prepare_ranked(list("ABC"), ranked)
    assert dict(prepare_ranked(list("ABC"), StoredRankings(stored)).rankings) == {
        ((0,), (1, 2)): 2, ((2,), (0,)): 1,
    }
    with pytest.raises(ValueError, match=r"ballot 1: equal rankings \(B=C\) cannot be counted"):
        prepare_strict(list("ABC"), StoredRankings(stored))


@pytest.mark.parametrize("stored, problem, methods", [
    ([["A"], ["A", "Zed"], ["Yan"]], "ballot 2: unknown candidate 'Zed'", BOTH),
    ([["A"], ["B", "A", "B"]], "ballot 2: candidate 'B' ranked twice", BOTH),
    ([["A"], [["A", "B"], "A"]], "ballot 2: candidate 'A' ranked twice", (prepare_ranked,)),
    # Merged rankings are still named by the ballot's own place: the fourth ballot, the third ranking.
    ([["A"], ["A", "B"], ["A"], ["B", "B"]], "ballot 4: candidate 'B' ranked twice", BOTH),
    ([["B"], ["B"], ["A"], [["A", "B"]]], "ballot 4: equal rankings (A=B) cannot be counted", (prepare_strict,)),
])
def test_a_bad_stored_ballot_is_refused_naming_its_place(stored, problem, methods) -> None:
    for prepare in methods:
        with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            prepare(list("AB"), StoredRankings(stored))
