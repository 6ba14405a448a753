"""Instant runoff: rounds, the exclusion tie rule, and the majority property."""

import json
import random

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
