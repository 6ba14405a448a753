"""Meek STV and Scottish STV: published examples, reports and properties."""

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ballots import RankedBallot
from ballot.counting.stv import StvResult, count_meek, count_scottish

# The STV example of Wikipedia's "Single transferable vote" article, as used by
# bradbeattie/python-vote-core (test_functionality/test_stv.py, test_stv_wiki_example):
# three seats, twenty voters.
FOOD = ["orange", "pear", "chocolate", "strawberry", "sweets"]
FOOD_BALLOTS = [
    RankedBallot.of("orange", weight=4),
    RankedBallot.of("pear", "orange", weight=2),
    RankedBallot.of("chocolate", "strawberry", weight=8),
    RankedBallot.of("chocolate", "sweets", weight=4),
    RankedBallot.of("strawberry", weight=1),
    RankedBallot.of("sweets", weight=1),
]
# python-vote-core's expected quota, tallies per round and winners.
FOOD_QUOTA = 6
FOOD_TALLIES = [
    {"orange": 4, "pear": 2, "chocolate": 12, "strawberry": 1, "sweets": 1},
    {"orange": 4, "pear": 2, "strawberry": 5, "sweets": 3},
    {"orange": 6, "strawberry": 5, "sweets": 3},
    {"strawberry": 5, "sweets": 3},
]
FOOD_WINNERS = {"chocolate", "orange", "strawberry"}


def test_scottish_matches_the_worked_example_round_by_round() -> None:
    result = count_scottish(FOOD, FOOD_BALLOTS, 3)
    assert result.quota == FOOD_QUOTA
    assert set(result.elected) == FOOD_WINNERS
    # python-vote-core lists the continuing candidates' tallies as each round starts; our
    # stages show every figure after each transfer, so round 4 starts from stage 3.
    stage = [r.votes for r in result.rounds]
    for votes, expected in zip([stage[0], stage[1], stage[2], stage[2]], FOOD_TALLIES):
        assert {name: votes[name] for name in expected} == expected
    assert [r.action for r in result.rounds] == ["first_preferences", "surplus", "exclusion", "exclusion"]
    assert result.rounds[1].surplus == 6
    assert result.rounds[2].excluded == ["pear"] and result.rounds[2].elected == ["orange"]
    assert result.rounds[3].excluded == ["sweets"] and result.rounds[3].elected == ["strawberry"]


def test_meek_elects_the_same_in_the_worked_example() -> None:
    assert set(count_meek(FOOD, FOOD_BALLOTS, 3).elected) == FOOD_WINNERS


def test_meek_matches_droops_reference_count() -> None:
    # jklundell/droop test/blt/42.blt and its reference count under the PR Foundation's
    # Meek rule, test/ref/dump/42-meek-prf-o6-fixed-p9-d9.txt.
    ballots = [RankedBallot.of("Castor", "Pollux", weight=4), RankedBallot.of("Helen", weight=2)]
    result = count_meek(["Castor", "Pollux", "Helen"], ballots, 2)
    assert result.elected == ["Castor", "Helen"]
    first, elect, defeat = result.rounds
    assert first.quota == Fraction("2.000000001")
    assert first.votes == {"Castor": 4, "Pollux": 0, "Helen": 2}
    assert elect.elected == ["Castor"]
    assert defeat.excluded == ["Pollux"]
    assert defeat.votes == {
        "Castor": Fraction("2.000000004"),
        "Pollux": Fraction("1.999999996"),
        "Helen": 2,
    }
    assert defeat.keep_factors is not None
    assert defeat.keep_factors["Castor"] == Fraction("0.500000001")
    assert defeat.surplus == Fraction("0.000000003")
    assert defeat.elected == ["Helen"]


def test_scottish_transfer_values_are_truncated_to_five_places() -> None:
    ballots = [RankedBallot.of("A", "B", weight=7), RankedBallot.of("C", weight=3), RankedBallot.of("B", weight=2)]
    result = count_scottish(["A", "B", "C"], ballots, 2)
    assert result.quota == 5
    surplus_stage = result.rounds[1]
    assert surplus_stage.action == "surplus" and surplus_stage.subject == "A"
    # Transfer value 2 * 1 / 7 = 0.285714... -> 0.28571; seven papers carry 1.99997.
    assert surplus_stage.transfers["B"] == Fraction("1.99997")
    assert surplus_stage.lost_to_rounding == Fraction("0.00003")


def test_withdrawn_candidates_are_skipped() -> None:
    ballots = [RankedBallot.of("A", "B", weight=3), RankedBallot.of("B", weight=2), RankedBallot.of("C", "A", weight=2)]
    for count in (count_meek, count_scottish):
        result = count(["A", "B", "C"], ballots, 1, withdrawn=["A"])
        assert result.elected == ["B"]
        assert "A" not in result.rounds[0].votes
        assert result.withdrawn == ("A",)


def test_equal_rankings_and_unknown_candidates_are_refused() -> None:
    with pytest.raises(ValueError, match="equal rankings"):
        count_meek(["A", "B"], [RankedBallot.of(("A", "B"))], 1)
    with pytest.raises(ValueError, match="unknown candidate 'Z'"):
        count_scottish(["A", "B"], [RankedBallot.of("Z")], 1)
    with pytest.raises(ValueError, match="ranked twice"):
        count_scottish(["A", "B"], [RankedBallot.of("A", "A")], 1)


def test_reports_are_json_safe() -> None:
    for result in (count_meek(FOOD, FOOD_BALLOTS, 3), count_scottish(FOOD, FOOD_BALLOTS, 3)):
        data = json.loads(json.dumps(result.as_dict()))
        assert data["quota"]["fraction"] == str(result.quota)
        assert data["rounds"][0]["votes"]["chocolate"]["decimal"].startswith("12.0000")


CANDIDATES = ["Ada", "Brett", "Chen", "Dara", "Ezra", "Fern"]
ranked = st.lists(
    st.builds(
        lambda names, weight: RankedBallot.of(*names, weight=weight),
        st.lists(st.sampled_from(CANDIDATES), min_size=1, max_size=6, unique=True),
        st.integers(1, 3),
    ),
    min_size=1,
    max_size=25,
)


def _figures(result: StvResult) -> list[tuple[str, dict[str, Fraction], list[str], list[str]]]:
    return [(r.action, r.votes, r.elected, r.excluded) for r in result.rounds]


@settings(max_examples=40, deadline=None)
@given(ranked, st.integers(1, 4), st.data())
def test_results_do_not_depend_on_ballot_or_candidate_order(
    ballots: list[RankedBallot], seats: int, data: st.DataObject
) -> None:
    for count in (count_meek, count_scottish):
        first = count(CANDIDATES, ballots, seats)
        other = count(data.draw(st.permutations(CANDIDATES)), data.draw(st.permutations(ballots)), seats)
        assert other.elected == first.elected
        assert _figures(other) == _figures(first)
        assert len(first.elected) == seats


@settings(max_examples=40, deadline=None)
@given(ranked, st.integers(1, 4))
def test_every_vote_is_accounted_for(ballots: list[RankedBallot], seats: int) -> None:
    for count in (count_meek, count_scottish):
        result = count(CANDIDATES, ballots, seats)
        total = sum(b.weight for b in ballots)
        for stage in result.rounds:
            assert sum(stage.votes.values()) + stage.non_transferable + stage.lost_to_rounding == total
            assert stage.lost_to_rounding >= 0
