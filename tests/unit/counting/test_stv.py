"""Meek STV and Scottish STV: published examples, reports and properties."""

import json
import random
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ballots import CountableBallots, RankedBallot, StoredRankings, prepare_strict
from ballot.counting.board import board_for
from ballot.counting.stv import (
    _CONTINUING,
    _ELECTED,
    MEEK_SCALE,
    SCOTTISH_SCALE,
    StvResult,
    _MeekCount,
    _ScottishCount,
    count_meek,
    count_scottish,
)

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
    for votes, expected in zip([stage[0], stage[1], stage[2], stage[2]], FOOD_TALLIES, strict=True):
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


# The affiliation cap in STV. PSF bylaws 5.15: "No more than one quarter (1/4) of the members of
# the Board of Directors may share a common affiliation as defined in Section 5.14. [...] A person
# who would bring the Board of Directors above the limit on co-affiliation is ineligible to be
# seated or appointed." Under STV such a candidate is excluded, and their votes move on.
COUNTS = (count_meek, count_scottish)
FOUR = ["Ada", "Brett", "Chen", "Dara"]
REASON_2_OF_2 = "Acme would hold 2 of 2 seats, more than the cap of 1/2 allows (1)"


@pytest.mark.parametrize("count", COUNTS)
def test_a_candidate_the_continuing_directors_cap_is_excluded_at_the_start(count) -> None:
    """5.15 counts the whole Board: with an Acme director staying on a Board of 4, a quarter
    is one director, so Ada (Acme) cannot be elected however many votes she has."""
    ballots = [
        RankedBallot.of("Ada", "Brett", weight=5), RankedBallot.of("Chen", weight=3),
        RankedBallot.of("Dara", "Chen", weight=2), RankedBallot.of("Brett", weight=1),
    ]
    result = count(FOUR, ballots, 2, affiliations={"Ada": "Acme"}, cap=Fraction(1, 4), continuing=[["Acme"], []])
    assert result.elected == ["Brett", "Chen"]
    excluded = result.rounds[1]
    assert (excluded.action, excluded.excluded) == ("cap_exclusion", ["Ada"])
    assert excluded.excluded_for_cap == {"Ada": "Acme would hold 2 of 4 seats, more than the cap of 1/4 allows (1)"}
    # Her five papers went on to Brett, their next preference.
    after = result.rounds[2] if count is count_meek else excluded
    assert after.votes["Brett"] == 6 and after.elected == ["Brett"]
    assert result.as_dict()["board_size"] == 4
    # Without the cap she would have been elected first.
    assert count(FOUR, ballots, 2).elected[0] == "Ada"


@pytest.mark.parametrize("count", COUNTS)
def test_after_an_election_every_hopeful_the_cap_now_forbids_is_excluded_at_once(count) -> None:
    ballots = [
        RankedBallot.of("Ada", "Brett", "Dara", weight=8), RankedBallot.of("Brett", "Chen", weight=3),
        RankedBallot.of("Chen", weight=4), RankedBallot.of("Dara", weight=2),
    ]
    acme = {"Ada": "Acme", "Brett": "Acme"}
    result = count(FOUR, ballots, 2, affiliations=acme, cap=Fraction(1, 2))
    actions = [r.action for r in result.rounds]
    # Brett goes as soon as Ada is elected, before her surplus could reach him.
    assert "surplus" not in actions
    brett = result.rounds[actions.index("cap_exclusion")]
    assert brett.excluded == ["Brett"] and brett.excluded_for_cap == {"Brett": REASON_2_OF_2}
    assert result.rounds[actions.index("cap_exclusion") - 1].elected == ["Ada"]
    # His three papers moved on to Chen, who is elected with them.
    assert result.rounds[-1].votes["Chen"] == 7
    assert result.elected == ["Ada", "Chen"]
    assert count(FOUR, ballots, 2).elected == ["Ada", "Brett"]


@pytest.mark.parametrize("count", COUNTS)
def test_equal_votes_at_the_quota_that_the_cap_will_not_let_in_together_are_settled_by_lot(count) -> None:
    ballots = [
        RankedBallot.of("Ada", weight=6), RankedBallot.of("Brett", "Chen", weight=6),
        RankedBallot.of("Chen", weight=3), RankedBallot.of("Dara", weight=2),
    ]
    result = count(FOUR, ballots, 2, affiliations={"Ada": "Acme", "Brett": "Acme"}, cap=Fraction(1, 2))
    first = random.Random("AdaBrett").sample(["Ada", "Brett"], 1)[0]  # break-ties.py -c Ada -c Brett
    assert first == "Ada"
    elected = next(r for r in result.rounds if r.elected)
    assert elected.elected == ["Ada"]
    assert [(t["tied"], t["resolved_by"], t["chosen"]) for t in elected.election_ties] == [
        (["Ada", "Brett"], "lot", "Ada")
    ]
    assert elected.note == f"Brett is not elected: {REASON_2_OF_2}"
    assert result.elected == ["Ada", "Chen"]
    assert any(r.excluded_for_cap == {"Brett": REASON_2_OF_2} for r in result.rounds)


def test_scottish_fills_the_last_vacancies_in_vote_order_and_leaves_a_seat_the_cap_forbids_empty() -> None:
    # Rule 52 with the cap: the continuing candidates, Ada and Brett (both Acme), are as many
    # as the seats left, but only one may sit. The weaker candidates excluded on the way could
    # have taken the other seat; Scottish STV's fixed quota does not bring them back.
    five = ["Ada", "Brett", "Chen", "Dara", "Ezra"]
    ballots = [
        RankedBallot.of("Ada", weight=2), RankedBallot.of("Brett", weight=2),
        RankedBallot.of("Chen"), RankedBallot.of("Dara"), RankedBallot.of("Ezra"),
    ]
    result = count_scottish(five, ballots, 2, affiliations={"Ada": "Acme", "Brett": "Acme"}, cap=Fraction(1, 2))
    last = result.rounds[-1]
    assert result.elected == ["Ada"] and result.as_dict()["unfilled"] == 1
    assert last.excluded_for_cap == {"Brett": REASON_2_OF_2}
    assert last.election_ties[0]["resolved_by"] == "lot"
    assert "rule 52" in last.note
    # Meek's quota falls as papers exhaust, so Ada and Brett both reach it, Brett is excluded
    # for the cap, and Dara takes the second seat.
    assert count_meek(five, ballots, 2, affiliations={"Ada": "Acme", "Brett": "Acme"}, cap=Fraction(1, 2)).elected == [
        "Ada", "Dara"
    ]


@pytest.mark.parametrize("count", COUNTS)
def test_the_cap_reports_are_json_safe(count) -> None:
    result = count(FOOD, FOOD_BALLOTS, 3, affiliations={"chocolate": ["Cadbury", "Mars"]}, cap=Fraction(1, 3),
                   continuing=[["Mars"]])
    data = json.loads(json.dumps(result.as_dict()))
    assert data["affiliations"] == {"chocolate": ["Cadbury", "Mars"]}
    assert data["board_size"] == 4 and data["sitting"] == {"Mars": 1}
    assert "chocolate" not in data["elected"]
    assert {"excluded_for_cap", "election_ties"} <= set(data["rounds"][0])


AFFILIATIONS = ["Acme", "Initech"]
affiliation_sets = st.dictionaries(st.sampled_from(CANDIDATES), st.frozensets(st.sampled_from(AFFILIATIONS)))
continuing_directors = st.lists(st.frozensets(st.sampled_from(AFFILIATIONS), max_size=2), max_size=4)


@settings(max_examples=40, deadline=None)
@given(ranked, st.integers(1, 4), affiliation_sets, continuing_directors, st.sampled_from([1, 2]))
def test_with_a_cap_no_affiliation_exceeds_its_share_of_the_whole_board(
    ballots: list[RankedBallot], seats: int, affiliations: dict, continuing: list, quarters: int
) -> None:
    cap = Fraction(quarters, 4)
    for count in COUNTS:
        result = count(CANDIDATES, ballots, seats, affiliations=affiliations, cap=cap, continuing=continuing)
        size = seats + len(continuing)
        held = Counter(a for director in continuing for a in director)
        held.update(a for name in result.elected for a in affiliations.get(name, ()))
        for affiliation in AFFILIATIONS:
            newly = sum(affiliation in affiliations.get(name, ()) for name in result.elected)
            if newly:
                assert Fraction(held[affiliation], size) <= cap
        total = sum(b.weight for b in ballots)
        for stage in result.rounds:
            assert sum(stage.votes.values()) + stage.non_transferable + stage.lost_to_rounding == total
            assert set(stage.excluded_for_cap) <= set(stage.excluded)
        # Every candidate the cap excluded is told why; nobody else is left out but by the count.
        capped = {name for stage in result.rounds for name in stage.excluded_for_cap}
        assert not capped & set(result.elected)
        if len(result.elected) < seats:
            assert capped


@settings(max_examples=40, deadline=None)
@given(ranked, st.integers(1, 4), affiliation_sets, continuing_directors)
def test_without_a_cap_the_count_is_unchanged(
    ballots: list[RankedBallot], seats: int, affiliations: dict, continuing: list
) -> None:
    for count in COUNTS:
        plain = count(CANDIDATES, ballots, seats)
        labelled = count(CANDIDATES, ballots, seats, affiliations=affiliations, continuing=continuing)
        assert labelled.elected == plain.elected
        assert _figures(labelled) == _figures(plain)
        assert all(not r.excluded_for_cap and not r.election_ties for r in labelled.rounds)


@settings(max_examples=30, deadline=None)
@given(ranked, st.integers(1, 4), affiliation_sets, st.data())
def test_with_a_cap_results_do_not_depend_on_ballot_or_candidate_order(
    ballots: list[RankedBallot], seats: int, affiliations: dict, data: st.DataObject
) -> None:
    for count in COUNTS:
        first = count(CANDIDATES, ballots, seats, affiliations=affiliations, cap=Fraction(1, 2))
        other = count(
            data.draw(st.permutations(CANDIDATES)), data.draw(st.permutations(ballots)), seats,
            affiliations=affiliations, cap=Fraction(1, 2),
        )
        assert other.elected == first.elected
        assert _figures(other) == _figures(first)


# Identical rankings are counted once, with their number of ballots, and each count moves on only the
# rankings a change concerns. Neither may change a figure: every round, transfer, tie and exhausted
# value must be what counting each ballot on its own gives.
def _one_by_one(ballots: list[RankedBallot]) -> list[list[str]]:
    """The ballots in the stored form, one list of names per ballot (each of ``weight`` copies)."""
    return [[name for tier in b.ranking for name in tier] for b in ballots for _ in range(b.weight)]


@settings(max_examples=40, deadline=None)
@given(ranked, st.integers(1, 4))
def test_merged_rankings_count_exactly_as_one_ballot_each(ballots: list[RankedBallot], seats: int) -> None:
    stored = _one_by_one(ballots)
    for count in COUNTS:
        merged = count(CANDIDATES, ballots, seats).as_dict()
        assert count(CANDIDATES, StoredRankings(stored), seats).as_dict() == merged
        assert count(CANDIDATES, [RankedBallot.of(*names) for names in stored], seats).as_dict() == merged


def _meek_by_ballot(prepared: CountableBallots[int], state: list[str], keep: list[int]) -> tuple[list[int], int]:
    """Rule B.2.a ballot by ballot: each elected candidate keeps its keep factor of what reaches it (rounded
    up), excluded ones pass everything on, the first hopeful takes the rest; with none, the rest is exhausted."""
    votes, exhausted = [0] * len(state), 0
    for order, papers in prepared.rankings:
        weight = MEEK_SCALE
        for c in order:
            if state[c] == _CONTINUING:
                votes[c] += weight * papers
                weight = 0
                break
            if state[c] == _ELECTED:
                kept = -(-weight * keep[c] // MEEK_SCALE)
                votes[c] += kept * papers
                weight -= kept
        exhausted += weight * papers
    return votes, exhausted


@settings(max_examples=60, deadline=None)
@given(ranked, st.permutations(range(len(CANDIDATES))), st.data())
def test_meek_distributes_by_path_as_ballot_by_ballot(ballots: list[RankedBallot], order: list[int],
                                                       data: st.DataObject) -> None:
    """Meek counts ballots by path and moves on only the rankings waiting at a candidate elected or
    excluded: after any such changes, alone or together, and any keep factors, its distribution is
    the one ballot by ballot."""
    prepared = prepare_strict(CANDIDATES, ballots)
    count = _MeekCount(prepared, board_for(CANDIDATES, 1), ())
    leaving = data.draw(st.integers(0, len(order)))
    step = 0
    while step < leaving:
        together = order[step:step + data.draw(st.integers(1, 2))]
        step += len(together)
        if data.draw(st.booleans()):
            for c in together:
                count.state[c] = _ELECTED
                count.elected.append(c)
            for c in together:
                count._advance(c)
        else:
            count._exclude(*together)
        for c in count.elected:
            count.keep[c] = data.draw(st.integers(0, MEEK_SCALE))
        assert count._distribute() == _meek_by_ballot(prepared, count.state, count.keep)


@settings(max_examples=60, deadline=None)
@given(ranked, st.permutations(range(len(CANDIDATES))), st.data())
def test_scottish_exclusions_pass_each_paper_to_its_next_continuing_preference(
    ballots: list[RankedBallot], order: list[int], data: st.DataObject
) -> None:
    """Rule 50, ballot by ballot: once any candidates are excluded, alone or together, each paper is
    with its first continuing preference at full value, or non-transferable when there is none."""
    prepared = prepare_strict(CANDIDATES, ballots)
    count = _ScottishCount(prepared, board_for(CANDIDATES, 1), ())
    count._pass_on((r, -1, SCOTTISH_SCALE, weight) for r, weight in enumerate(count.weights))
    leaving = data.draw(st.integers(0, len(order)))
    step = 0
    while step < leaving:
        together = order[step:step + data.draw(st.integers(1, 2))]
        step += len(together)
        count._exclude(*together)
        expected, exhausted = [0] * len(CANDIDATES), 0
        for ranking, papers in prepared.rankings:
            first = next((c for c in ranking if count.state[c] == _CONTINUING), None)
            if first is None:
                exhausted += papers * SCOTTISH_SCALE
            else:
                expected[first] += papers * SCOTTISH_SCALE
        assert (count.votes, count.non_transferable) == (expected, exhausted)
        assert all(sum(v * p for _, _, v, p in count.parcels[c]) == expected[c] for c in range(len(CANDIDATES)))
