"""Schulze: Wikipedia's worked example, ties reported as ties, and properties."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ballots import RankedBallot
from ballot.counting.schulze import count_schulze

# Wikipedia, "Schulze method", the example with 45 voters and 5 candidates.
WIKIPEDIA = [
    (5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"),
    (7, "CAEBD"), (2, "CBADE"), (7, "DCEBA"), (8, "EBADC"),
]
# The article's matrix of pairwise preferences d[X][Y] ...
D = {
    "A": {"B": 20, "C": 26, "D": 30, "E": 22},
    "B": {"A": 25, "C": 16, "D": 33, "E": 18},
    "C": {"A": 19, "B": 29, "D": 17, "E": 24},
    "D": {"A": 15, "B": 12, "C": 28, "E": 14},
    "E": {"A": 23, "B": 27, "C": 21, "D": 31},
}
# ... and of strongest paths p[X][Y].
P = {
    "A": {"B": 28, "C": 28, "D": 30, "E": 24},
    "B": {"A": 25, "C": 28, "D": 33, "E": 24},
    "C": {"A": 25, "B": 29, "D": 29, "E": 24},
    "D": {"A": 25, "B": 28, "C": 28, "E": 24},
    "E": {"A": 25, "B": 28, "C": 28, "D": 31},
}


def test_wikipedia_example() -> None:
    ballots = [RankedBallot.of(*order, weight=n) for n, order in WIKIPEDIA]
    result = count_schulze(list("ABCDE"), ballots)
    assert result.pairwise == D
    assert result.strongest_paths == P
    assert result.ranking == [["E"], ["A"], ["C"], ["B"], ["D"]]
    assert result.winners == ["E"]
    assert json.loads(json.dumps(result.as_dict()))["strongest_paths"]["E"]["D"] == 31


def test_ties_are_reported_as_ties() -> None:
    ballots = [RankedBallot.of("A", "B", "C"), RankedBallot.of("B", "A", "C")]
    assert count_schulze(["A", "B", "C"], ballots).ranking == [["A", "B"], ["C"]]
    cycle = [RankedBallot.of("A", "B", "C"), RankedBallot.of("B", "C", "A"), RankedBallot.of("C", "A", "B")]
    assert count_schulze(["A", "B", "C"], cycle).ranking == [["A", "B", "C"]]


def test_equal_rankings_and_unranked_candidates() -> None:
    # A = B above C; D unranked, so below everyone ranked.
    result = count_schulze(["A", "B", "C", "D"], [RankedBallot.of(("A", "B"), "C", weight=3)])
    assert result.pairwise["A"] == {"B": 0, "C": 3, "D": 3}
    assert result.pairwise["C"] == {"A": 0, "B": 0, "D": 3}
    assert result.ranking == [["A", "B"], ["C"], ["D"]]


def test_withdrawn_candidates_leave_the_matrices() -> None:
    ballots = [RankedBallot.of(*order, weight=n) for n, order in WIKIPEDIA]
    result = count_schulze(list("ABCDE"), ballots, withdrawn=["E"])
    assert set(result.pairwise) == {"A", "B", "C", "D"}
    assert result.pairwise["A"]["B"] == D["A"]["B"]
    assert "E" not in result.strongest_paths["A"]


CANDIDATES = ["Ada", "Brett", "Chen", "Dara", "Ezra"]
ranked = st.lists(
    st.builds(
        lambda tiers, weight: RankedBallot.of(*tiers, weight=weight),
        st.lists(st.sampled_from(CANDIDATES), min_size=1, max_size=5, unique=True).flatmap(
            lambda names: st.lists(st.integers(0, 2), min_size=len(names), max_size=len(names)).map(
                lambda cuts: _tiers(names, cuts)
            )
        ),
        st.integers(1, 3),
    ),
    min_size=1,
    max_size=25,
)


def _tiers(names: list[str], cuts: list[int]) -> list[tuple[str, ...]]:
    """Group consecutive names into tiers: a cut of 0 joins a name to the tier before it."""
    tiers: list[list[str]] = []
    for name, cut in zip(names, cuts):
        if tiers and cut == 0:
            tiers[-1].append(name)
        else:
            tiers.append([name])
    return [tuple(tier) for tier in tiers]


@settings(max_examples=80)
@given(ranked, st.integers(1, 10))
def test_adding_ballots_that_match_the_winners_ranking_keeps_the_winner(
    ballots: list[RankedBallot], copies: int
) -> None:
    result = count_schulze(CANDIDATES, ballots)
    if len(result.winners) != 1:
        return
    agreeing = RankedBallot.of(*[tuple(tier) for tier in result.ranking], weight=copies)
    assert count_schulze(CANDIDATES, [*ballots, agreeing]).winners == result.winners


@settings(max_examples=60)
@given(ranked, st.data())
def test_result_does_not_depend_on_ballot_or_candidate_order(
    ballots: list[RankedBallot], data: st.DataObject
) -> None:
    first = count_schulze(CANDIDATES, ballots)
    other = count_schulze(data.draw(st.permutations(CANDIDATES)), data.draw(st.permutations(ballots)))
    assert other.ranking == first.ranking
    assert other.pairwise == first.pairwise
    assert other.strongest_paths == first.strongest_paths
