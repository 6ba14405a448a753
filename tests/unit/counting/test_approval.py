"""Approval voting for N seats: counts, the affiliation cap, sitting directors and ties."""

import json
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.approval import count_approval

CANDIDATES = ["Ada", "Brett", "Chen", "Dara", "Ezra"]


def test_seats_go_in_vote_order() -> None:
    ballots = [{"Ada", "Brett"}, {"Ada", "Chen"}, {"Ada"}, {"Brett", "Chen"}, {"Chen"}, {"Dara"}]
    result = count_approval(CANDIDATES, ballots, 2)
    assert result.counts == {"Ada": 3, "Brett": 2, "Chen": 3, "Dara": 1, "Ezra": 0}
    assert result.elected == ["Ada", "Chen"]
    assert result.tie_break is None
    assert result.skipped_for_cap == []
    assert [step.decision for step in result.steps][:3] == ["elected", "elected", "not_elected"]


def test_unknown_or_repeated_candidate_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown candidate 'Zed'"):
        count_approval(CANDIDATES, [{"Ada"}, {"Zed"}], 1)
    with pytest.raises(ValueError, match="approved twice"):
        count_approval(CANDIDATES, [["Ada", "Ada"]], 1)
    with pytest.raises(TypeError, match="not one string"):
        count_approval(CANDIDATES, ["Ada"], 1)


def test_cap_skips_a_candidate_and_seats_the_next() -> None:
    # Board of 4 seats being filled, cap one quarter: at most one director per affiliation.
    ballots = [{"Ada", "Brett", "Chen"}] * 5 + [{"Ada", "Brett", "Dara"}] * 3 + [{"Ezra"}]
    result = count_approval(
        CANDIDATES, ballots, 4,
        affiliations={"Ada": "Acme", "Brett": "Acme", "Dara": "Initech"},
        cap=Fraction(1, 4),
    )
    assert result.elected == ["Ada", "Chen", "Dara", "Ezra"]
    assert result.skipped_for_cap == ["Brett"]
    skipped = next(step for step in result.steps if step.candidate == "Brett")
    assert skipped.decision == "skipped_for_cap"
    assert "Acme would hold 2 of 4 seats" in skipped.reason


def test_sitting_directors_count_towards_the_cap() -> None:
    # Three seats elected, five continuing directors: a Board of 8, cap 1/4 allows 2 per affiliation.
    ballots = [{"Ada", "Brett", "Chen"}] * 3 + [{"Dara"}] * 2 + [{"Ezra"}]
    sitting = {"Acme": 1, "unaffiliated": 4}
    affiliations = {"Ada": "Acme", "Brett": "Acme", "Chen": "Acme"}
    result = count_approval(
        CANDIDATES, ballots, 3, affiliations=affiliations, cap=Fraction(1, 4), sitting=sitting
    )
    assert result.board_size == 8
    # Ada and Brett tie with Chen; only one more Acme director fits, so lots decide which.
    lot = random.Random("AdaBrettChen").sample(["Ada", "Brett", "Chen"], 3)
    assert result.elected == [lot[0], "Dara", "Ezra"]
    assert sorted(result.skipped_for_cap) == sorted(lot[1:])
    assert result.tie_break is not None and result.tie_break["drawn"] == lot

    without_sitting = count_approval(CANDIDATES, ballots, 3, affiliations=affiliations, cap=Fraction(1, 2))
    assert len([c for c in without_sitting.elected if c in affiliations]) == 1


def test_tie_for_the_last_seat_is_drawn_by_the_published_recipe() -> None:
    ballots = [{"Ada", "Brett", "Chen", "Dara"}] * 4 + [{"Ada"}]
    result = count_approval(CANDIDATES, ballots, 2)
    assert result.elected[0] == "Ada"
    tied = sorted(["Brett", "Chen", "Dara"])
    # Recomputed by hand from the documented recipe: random.seed("".join(sorted(tied))),
    # then random.sample(sorted(tied), n).
    generator = random.Random("".join(tied))
    expected = generator.sample(tied, len(tied))
    assert result.tie_break == {
        "tied": tied,
        "seed": "BrettChenDara",
        "drawn": expected,
        "recipe": "random.seed(''.join(sorted(tied))); random.sample(sorted(tied), len(drawn))",
    }
    assert result.elected[1] == expected[0]
    assert result.elected[1] == random.Random("BrettChenDara").sample(tied, 1)[0]
    # Counting again can never give another draw.
    assert count_approval(CANDIDATES, list(reversed(ballots)), 2).elected == result.elected


def test_cap_can_leave_seats_unfilled() -> None:
    result = count_approval(
        ["Ada", "Brett"], [{"Ada", "Brett"}], 2,
        affiliations={"Ada": "Acme", "Brett": "Acme"}, cap=Fraction(1, 2),
    )
    assert result.elected == ["Ada"] or result.elected == ["Brett"]
    assert result.unfilled == 1


def test_result_is_json_safe() -> None:
    result = count_approval(
        CANDIDATES, [{"Ada", "Brett"}, {"Chen"}], 2, affiliations={"Ada": "Acme"}, cap=Fraction(1, 3)
    )
    data = json.loads(json.dumps(result.as_dict()))
    assert data["method"] == "approval"
    assert data["cap"] == {"fraction": "1/3", "decimal": "0.333333"}
    assert data["counts"]["Ada"] == 1
    assert {"candidate", "votes", "decision", "reason", "affiliation"} <= set(data["steps"][0])


approvals = st.lists(st.sets(st.sampled_from(CANDIDATES)), max_size=30)


@settings(max_examples=60)
@given(approvals, st.integers(1, 5), st.data())
def test_ballot_and_candidate_order_do_not_matter(ballots: list[set[str]], seats: int, data: st.DataObject) -> None:
    affiliations = {"Ada": "Acme", "Brett": "Acme", "Chen": "Initech"}
    cap = Fraction(2, 5)
    first = count_approval(CANDIDATES, ballots, seats, affiliations=affiliations, cap=cap)
    other = count_approval(
        data.draw(st.permutations(CANDIDATES)), data.draw(st.permutations(ballots)), seats,
        affiliations=affiliations, cap=cap,
    )
    assert other.elected == first.elected
    assert other.counts == first.counts
    assert other.tie_break == first.tie_break
    held = [affiliations.get(name) for name in first.elected]
    assert all(held.count(a) <= cap * seats for a in set(held) - {None})
