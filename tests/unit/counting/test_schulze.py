"""Schulze: Wikipedia's worked example, ties reported as ties, and properties."""

import json
import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ballots import RankedBallot
from ballot.counting.schulze import count_schulze, elect_schulze

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
    for name, cut in zip(names, cuts, strict=True):
        if tiers and cut == 0:
            tiers[-1].append(name)
        else:
            tiers.append([name])
    return [tuple(tier) for tier in tiers]


@settings(max_examples=80)
@given(ranked, st.integers(1, 10))
def test_adding_ballots_for_the_winner_alone_keeps_the_winner(ballots: list[RankedBallot], copies: int) -> None:
    # A ballot naming only the winner W adds to d[W][X] and nothing else: W's paths can only
    # strengthen and paths into W only weaken. (A ballot agreeing with the whole ranking is
    # another matter: it strengthens the runners-up's paths too; see the next test.)
    result = count_schulze(CANDIDATES, ballots)
    if len(result.winners) != 1:
        return
    for_the_winner = RankedBallot.of(result.winners[0], weight=copies)
    assert count_schulze(CANDIDATES, [*ballots, for_the_winner]).winners == result.winners


def test_a_ballot_agreeing_with_the_whole_ranking_can_bring_a_co_winner() -> None:
    # Found by hypothesis, and checked against an independent Floyd-Warshall count: adding
    # Brett > Chen = Ezra > Dara > Ada strengthens Ezra's paths to Brett as much as Brett's.
    ballots = [
        RankedBallot.of("Chen", weight=2),
        RankedBallot.of(("Ada", "Brett", "Dara"), "Ezra"),
        RankedBallot.of("Dara", ("Ezra", "Ada"), "Brett", "Chen", weight=2),
        RankedBallot.of(("Ezra", "Brett", "Chen"), ("Ada", "Dara"), weight=2),
    ]
    result = count_schulze(CANDIDATES, ballots)
    assert result.ranking == [["Brett"], ["Chen", "Ezra"], ["Dara"], ["Ada"]]
    agreeing = RankedBallot.of(*[tuple(tier) for tier in result.ranking])
    assert count_schulze(CANDIDATES, [*ballots, agreeing]).winners == ["Brett", "Ezra"]


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


def test_seats_are_filled_down_the_ranking() -> None:
    ballots = [RankedBallot.of(*order, weight=n) for n, order in WIKIPEDIA]
    result = elect_schulze(list("ABCDE"), ballots, 3)
    assert result.elected == ["E", "A", "C"]
    report = json.loads(json.dumps(result.as_dict()))
    assert report["ranking"] == [["E"], ["A"], ["C"], ["B"], ["D"]]
    assert report["tie_break"] is None and report["unfilled"] == 0
    assert [s["decision"] for s in report["steps"]] == ["elected"] * 3 + ["not_elected"] * 2


def test_a_tier_cut_by_the_last_seat_is_drawn_for_the_seats_at_stake() -> None:
    cycle = [RankedBallot.of("A", "B", "C"), RankedBallot.of("B", "C", "A"), RankedBallot.of("C", "A", "B")]
    result = elect_schulze(["A", "B", "C"], cycle, 2)
    # The whole ranking is one tier of three for two seats: break-ties.py -c A -c B -c C -n 2.
    assert result.elected == random.Random("ABC").sample(["A", "B", "C"], 2)
    assert result.as_dict()["tie_break"]["number"] == 2


def test_a_candidate_the_cap_forbids_is_passed_over_for_the_next_in_the_ranking() -> None:
    """PSF bylaws 5.5: "If a person who would otherwise be elected withdraws or becomes ineligible
    before that person is seated as a director, then the person receiving the next highest number
    of votes is selected." 5.15: "A person who would bring the Board of Directors above the limit on
    co-affiliation is ineligible to be seated or appointed." Under Schulze, the next is the next in
    the ranking."""
    ballots = [RankedBallot.of(*order, weight=n) for n, order in WIKIPEDIA]
    # A Board of 8 (2 seats, 6 continuing, one of them Acme's): a quarter is 2 directors.
    result = elect_schulze(
        list("ABCDE"), ballots, 2,
        affiliations={"E": "Acme", "A": ["Acme", "Initech"]}, cap=Fraction(1, 4),
        continuing=[["Acme"], [], [], [], [], []],
    )
    assert result.elected == ["E", "C"]
    assert result.skipped_for_cap == ["A"]
    step = result.as_dict()["steps"][1]
    assert step == {
        "candidate": "A", "rank": 2, "affiliations": ["Acme", "Initech"], "decision": "skipped_for_cap",
        "reason": "Acme would hold 3 of 8 seats, more than the cap of 1/4 allows (2)",
    }


@settings(max_examples=60)
@given(ranked, st.integers(1, 5))
def test_without_a_cap_the_seats_are_the_rankings_first(ballots: list[RankedBallot], seats: int) -> None:
    ranking = count_schulze(CANDIDATES, ballots).ranking
    result = elect_schulze(CANDIDATES, ballots, seats, affiliations={"Ada": "Acme", "Brett": "Acme"})
    expected: list[str] = []
    for tier in ranking:
        room = seats - len(expected)
        expected.extend(tier if len(tier) <= room else random.Random("".join(tier)).sample(tier, room))
    assert result.elected == expected
