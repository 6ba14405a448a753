"""Instant runoff: rounds, the exclusion tie rule, and the majority property."""

import json
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ballots import RankedBallot
from ballot.counting.irv import count_irv


def test_excludes_the_lowest_and_transfers_until_a_majority() -> None:
    ballots = [
        RankedBallot.of("A", weight=8),
        RankedBallot.of("B", "C", weight=6),
        RankedBallot.of("C", "B", weight=5),
        RankedBallot.of("D", "C", weight=2),
    ]
    result = count_irv(["A", "B", "C", "D"], ballots)
    assert [r.votes for r in result.rounds] == [
        {"A": 8, "B": 6, "C": 5, "D": 2},
        {"A": 8, "B": 6, "C": 7},
        {"A": 8, "C": 13},
    ]
    assert [r.excluded for r in result.rounds] == ["D", "B", None]
    assert result.rounds[0].transfers == {"A": 0, "B": 0, "C": 2}
    assert result.winner == "C"
    assert json.loads(json.dumps(result.as_dict()))["winner"] == "C"


def test_exhausted_ballots_do_not_count_towards_the_majority() -> None:
    ballots = [RankedBallot.of("A", weight=4), RankedBallot.of("B", weight=3), RankedBallot.of("C", weight=2)]
    result = count_irv(["A", "B", "C"], ballots)
    assert result.rounds[1].exhausted == 2
    assert result.winner == "A"  # 4 of the 7 ballots still counting


def test_tie_for_exclusion_looks_back_then_draws_lots() -> None:
    ballots = [
        RankedBallot.of("A", weight=5),
        RankedBallot.of("B", weight=3),
        RankedBallot.of("C", weight=2),
        RankedBallot.of("D", "C", weight=1),
        RankedBallot.of("E", "B", weight=1),
    ]
    result = count_irv(["A", "B", "C", "D", "E"], ballots)
    first = result.rounds[0]
    assert first.votes["D"] == first.votes["E"] == 1
    # D and E were equal in every round so far: the public lot decides.
    drawn = random.Random("DE").sample(["D", "E"], 1)[0]
    assert first.tie_break is not None and first.tie_break["resolved_by"] == "lot"
    assert first.excluded == drawn


def test_tie_for_exclusion_is_broken_by_an_earlier_round() -> None:
    ballots = [
        RankedBallot.of("A", weight=6),
        RankedBallot.of("B", weight=4),
        RankedBallot.of("C", weight=3),
        RankedBallot.of("D", "C", weight=1),
    ]
    result = count_irv(["A", "B", "C", "D"], ballots)
    # After D goes, B and C have 4 each; C had fewer in round 1, so C is excluded.
    assert result.rounds[1].votes == {"A": 6, "B": 4, "C": 4}
    assert result.rounds[1].excluded == "C"
    assert result.rounds[1].tie_break is not None
    assert result.rounds[1].tie_break["resolved_by"] == "votes at round 1"


def test_equal_rankings_are_refused() -> None:
    with pytest.raises(ValueError, match="equal rankings"):
        count_irv(["A", "B"], [RankedBallot.of(("A", "B"))])


CANDIDATES = ["Ada", "Brett", "Chen", "Dara", "Ezra"]
rankings = st.lists(st.sampled_from(CANDIDATES), min_size=1, max_size=5, unique=True)


@settings(max_examples=80)
@given(st.lists(rankings, min_size=1, max_size=30), st.data())
def test_a_majority_of_first_preferences_wins(others: list[list[str]], data: st.DataObject) -> None:
    favourite = data.draw(st.sampled_from(CANDIDATES))
    rest = data.draw(st.lists(st.sampled_from(CANDIDATES), max_size=4, unique=True))
    backing = [favourite] + [c for c in rest if c != favourite]
    ballots = [RankedBallot.of(*r) for r in others]
    ballots.append(RankedBallot.of(*backing, weight=len(others) + 1))
    assert count_irv(CANDIDATES, ballots).winner == favourite


@settings(max_examples=60)
@given(st.lists(rankings, min_size=1, max_size=30), st.data())
def test_result_does_not_depend_on_ballot_or_candidate_order(
    raw: list[list[str]], data: st.DataObject
) -> None:
    ballots = [RankedBallot.of(*r) for r in raw]
    first = count_irv(CANDIDATES, ballots)
    other = count_irv(data.draw(st.permutations(CANDIDATES)), data.draw(st.permutations(ballots)))
    assert other.winner == first.winner
    assert [r.as_dict() for r in other.rounds] == [r.as_dict() for r in first.rounds]


def test_a_candidate_the_cap_forbids_is_excluded_at_once_and_their_ballots_move_on() -> None:
    """PSF bylaws 5.15: "A person who would bring the Board of Directors above the limit on
    co-affiliation is ineligible to be seated or appointed." With one seat and three continuing
    directors, one of them Acme's, the Board has 4 members and a quarter is one director."""
    ballots = [
        RankedBallot.of("Ada", "Chen", weight=6),
        RankedBallot.of("Brett", weight=4),
        RankedBallot.of("Chen", weight=1),
        RankedBallot.of("Dara", "Ada", weight=2),
    ]
    result = count_irv(
        ["Ada", "Brett", "Chen", "Dara"], ballots,
        affiliations={"Ada": ["Acme", "PyCorp"]}, cap=Fraction(1, 4), continuing=[["Acme"], [], []],
    )
    first = result.rounds[0]
    # Ada had a majority of first preferences, but is excluded before any majority is looked for.
    assert first.votes == {"Ada": 6, "Brett": 4, "Chen": 1, "Dara": 2}
    assert first.excluded is None
    assert first.excluded_for_cap == {"Ada": "Acme would hold 2 of 4 seats, more than the cap of 1/4 allows (1)"}
    assert first.transfers == {"Brett": 0, "Chen": 6, "Dara": 0}
    assert result.rounds[1].votes == {"Brett": 4, "Chen": 7, "Dara": 2}
    assert result.winner == "Chen"
    data = json.loads(json.dumps(result.as_dict()))
    assert data["board_size"] == 4 and data["rounds"][0]["excluded_for_cap"] == first.excluded_for_cap
    assert count_irv(["Ada", "Brett", "Chen", "Dara"], ballots).winner == "Ada"


def test_the_seat_stays_empty_when_the_cap_excludes_everyone() -> None:
    result = count_irv(
        ["Ada", "Brett"], [RankedBallot.of("Ada", "Brett")],
        affiliations={"Ada": "Acme", "Brett": "Acme"}, cap=Fraction(1, 2), sitting={"Acme": 1},
    )
    assert result.winner is None and result.elected == []
    assert set(result.rounds[0].excluded_for_cap) == {"Ada", "Brett"}
    assert result.as_dict()["elected"] == []


AFFILIATED = st.dictionaries(st.sampled_from(CANDIDATES), st.frozensets(st.sampled_from(["Acme", "Initech"])))


@settings(max_examples=60)
@given(st.lists(rankings, min_size=1, max_size=30), AFFILIATED, st.lists(st.sampled_from(["Acme", "Initech"])))
def test_the_winner_never_breaks_the_cap_and_without_one_nothing_changes(
    raw: list[list[str]], affiliations: dict, directors: list[str]
) -> None:
    ballots = [RankedBallot.of(*r) for r in raw]
    continuing = [[name] for name in directors] + [[], [], []]
    capped = count_irv(CANDIDATES, ballots, affiliations=affiliations, cap=Fraction(1, 4), continuing=continuing)
    size = 1 + len(continuing)
    if capped.winner is not None:
        for affiliation in affiliations.get(capped.winner, ()):
            assert Fraction(directors.count(affiliation) + 1, size) <= Fraction(1, 4)
    else:
        assert set(capped.rounds[0].excluded_for_cap) == set(CANDIDATES)
    plain = count_irv(CANDIDATES, ballots)
    labelled = count_irv(CANDIDATES, ballots, affiliations=affiliations, continuing=continuing)
    assert [r.as_dict() for r in labelled.rounds] == [r.as_dict() for r in plain.rounds]
