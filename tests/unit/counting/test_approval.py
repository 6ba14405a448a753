"""Approval voting for N seats: counts, the affiliation cap, sitting directors and ties."""

import json
import random
from collections import Counter
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
    # then random.sample(sorted(tied), n) with n the one seat at stake, as break-ties.py -n 1 does.
    generator = random.Random("".join(tied))
    expected = generator.sample(tied, 1)
    assert result.tie_break == {
        "tied": tied,
        "seed": "BrettChenDara",
        "drawn": expected,
        "number": 1,
        "recipe": "random.seed(''.join(sorted(tied))); random.sample(sorted(tied), number)",
        "command": "python3 break-ties.py --candidate=Brett --candidate=Chen --candidate=Dara --number=1",
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
    assert {"candidate", "votes", "decision", "reason", "affiliations"} <= set(data["steps"][0])


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


QUARTER = Fraction(1, 4)


def _votes(counts: dict[str, int]) -> list[set[str]]:
    """Ballots giving each candidate exactly ``counts[name]`` approvals."""
    ballots: list[set[str]] = []
    for name, n in counts.items():
        ballots.extend({name} for _ in range(n))
    return ballots


def test_passed_over_for_the_next_highest() -> None:
    """PSF bylaws 5.5: "Persons elected as at-large directors are considered to be seated in order
    from most votes received to the least. If a person who would otherwise be elected withdraws or
    becomes ineligible before that person is seated as a director, then the person receiving the
    next highest number of votes is selected." 5.15: "A person who would bring the Board of
    Directors above the limit on co-affiliation is ineligible to be seated or appointed."
    """
    ballots = _votes({"Ada": 9, "Brett": 8, "Chen": 7, "Dara": 6, "Ezra": 5})
    result = count_approval(
        CANDIDATES, ballots, 4, affiliations={"Ada": "Acme", "Brett": "Acme"}, cap=QUARTER, continuing=[[]] * 4
    )
    # A Board of 8: a quarter is 2 directors, so Ada and Brett may both sit.
    assert result.elected == ["Ada", "Brett", "Chen", "Dara"]
    tight = count_approval(
        CANDIDATES, ballots, 4, affiliations={"Ada": "Acme", "Brett": "Acme"}, cap=QUARTER,
        continuing=[["Acme"], [], [], []],
    )
    assert tight.elected == ["Ada", "Chen", "Dara", "Ezra"]
    assert [(s.candidate, s.decision) for s in tight.steps] == [
        ("Ada", "elected"), ("Brett", "skipped_for_cap"), ("Chen", "elected"), ("Dara", "elected"), ("Ezra", "elected")
    ]
    assert tight.steps[1].reason == "Acme would hold 3 of 8 seats, more than the cap of 1/4 allows (2)"


def test_the_cap_is_a_share_of_the_whole_board() -> None:
    """PSF bylaws 5.15: "No more than one quarter (1/4) of the members of the Board of Directors
    may share a common affiliation as defined in Section 5.14."

    The members of the Board are the continuing directors and the seats being filled.
    """
    ballots = _votes({"Ada": 5, "Brett": 4, "Chen": 3, "Dara": 2})
    acme = {"Ada": "Acme", "Brett": "Acme"}
    # Electing 2 seats alone, a quarter of 2 is half a director: no Acme director at all.
    alone = count_approval(CANDIDATES, ballots, 2, affiliations=acme, cap=QUARTER)
    assert alone.board_size == 2 and alone.elected == ["Chen", "Dara"]
    # With 6 continuing directors the Board has 8 members, and a quarter is 2.
    whole = count_approval(CANDIDATES, ballots, 2, affiliations=acme, cap=QUARTER, continuing=[[]] * 6)
    assert whole.board_size == 8 and whole.elected == ["Ada", "Brett"]
    assert whole.as_dict()["continuing_directors"] == 6


def test_each_affiliation_of_a_candidate_counts_towards_its_own_cap() -> None:
    """PSF bylaws 5.14: "a Board Member or prospective Board Member has an affiliation if that
    person is an employee, officer, or member of the Board of Directors of an entity; if that person
    has a significant consulting relationship with an entity; or that person owns at least 1% of the
    equity or debt, or derivatives thereof, of an entity."

    So a candidate may hold several, and seating them must keep every one within the cap.
    """
    ballots = _votes({"Ada": 9, "Brett": 8, "Chen": 7, "Dara": 6, "Ezra": 5})
    affiliations = {"Ada": ["Acme", "PyCorp"], "Brett": ["PyCorp"], "Chen": "Acme", "Dara": ["Initech"]}
    result = count_approval(CANDIDATES, ballots, 4, affiliations=affiliations, cap=QUARTER)
    # A Board of 4: one director per affiliation. Ada takes Acme's and PyCorp's.
    assert result.elected == ["Ada", "Dara", "Ezra"]
    assert result.skipped_for_cap == ["Brett", "Chen"]
    assert result.unfilled == 1
    reasons = {s.candidate: s.reason for s in result.steps}
    assert reasons["Brett"].startswith("PyCorp would hold 2 of 4 seats")
    assert reasons["Chen"].startswith("Acme would hold 2 of 4 seats")
    assert result.steps[0].affiliations == ("Acme", "PyCorp")
    # A candidate breaking two caps at once is told both.
    both = count_approval(
        CANDIDATES, ballots, 4, affiliations={"Ada": ["Acme", "PyCorp"], "Brett": ["PyCorp", "Acme"]}, cap=QUARTER
    )
    skipped = next(s for s in both.steps if s.candidate == "Brett")
    assert skipped.reason == (
        "Acme would hold 2 of 4 seats and PyCorp would hold 2 of 4 seats, more than the cap of 1/4 allows (1)"
    )


def test_continuing_directors_with_several_affiliations() -> None:
    # One continuing director works for Acme and consults for Initech: a Board of 4 seats
    # plus that director has 5 members, and each of their affiliations already holds 1 seat.
    ballots = _votes({"Ada": 4, "Brett": 3, "Chen": 2, "Dara": 1})
    result = count_approval(
        CANDIDATES, ballots, 4, affiliations={"Ada": "Acme", "Brett": "Initech"}, cap=QUARTER,
        continuing=[["Acme", "Initech"]],
    )
    assert result.board_size == 5 and result.sitting == {"Acme": 1, "Initech": 1}
    assert result.skipped_for_cap == ["Ada", "Brett"]
    # The older form counts that director twice, so it cannot describe them: it is refused alongside.
    with pytest.raises(ValueError, match="not both"):
        count_approval(CANDIDATES, ballots, 4, sitting={"Acme": 1}, continuing=[["Acme"]])


def test_sitting_and_continuing_agree_when_every_director_has_one_affiliation() -> None:
    ballots = [{"Ada", "Brett", "Chen"}] * 3 + [{"Dara"}] * 2 + [{"Ezra"}]
    affiliations = {"Ada": "Acme", "Brett": "Acme", "Chen": "Acme"}
    old = count_approval(
        CANDIDATES, ballots, 3, affiliations=affiliations, cap=QUARTER, sitting={"Acme": 1, "unaffiliated": 4}
    )
    new = count_approval(
        CANDIDATES, ballots, 3, affiliations=affiliations, cap=QUARTER, continuing=[["Acme"], [], [], [], []]
    )
    assert (old.elected, old.board_size, old.lots) == (new.elected, new.board_size, new.lots)


def test_a_tie_under_the_cap_draws_for_the_seats_at_stake_then_again() -> None:
    """PSF bylaws 5.5 and 5.15 with a tie ("seated in order from most votes received to the least";
    one who "would bring the Board of Directors above the limit on co-affiliation is ineligible"):
    lots decide the order among equal votes, a name drawn whom the cap then makes ineligible is
    passed over, and the seat left is drawn among the rest.
    """
    # A Board of 8 (6 continuing, one of them Acme's): Acme may have one more director.
    ballots = [{"Ada", "Brett", "Chen", "Dara"}] * 3 + [{"Ezra"}]
    result = count_approval(
        CANDIDATES, ballots, 2, affiliations={"Brett": "Acme", "Chen": "Acme"}, cap=QUARTER,
        continuing=[["Acme"], [], [], [], [], []],
    )
    # break-ties.py -c Ada -c Brett -c Chen -c Dara -n 2 prints ['Chen', 'Brett']: Chen is
    # seated, Brett passed over, and the second seat is drawn between Ada and Dara (-n 1).
    first = random.Random("AdaBrettChenDara").sample(["Ada", "Brett", "Chen", "Dara"], 2)
    second = random.Random("AdaDara").sample(["Ada", "Dara"], 1)
    assert (first, second) == (["Chen", "Brett"], ["Ada"])
    assert [lot.drawn for lot in result.lots] == [("Chen", "Brett"), ("Ada",)]
    assert result.elected == ["Chen", "Ada"]
    assert result.skipped_for_cap == ["Brett"]
    assert [(s.candidate, s.decision, s.reason) for s in result.steps][:4] == [
        ("Chen", "elected", "won the drawing of lots"),
        ("Brett", "skipped_for_cap", "Acme would hold 3 of 8 seats, more than the cap of 1/4 allows (2)"),
        ("Ada", "elected", "won the drawing of lots"),
        ("Dara", "not_elected", "lost the drawing of lots"),
    ]
    assert result.tie_break is not None
    assert result.tie_break["command"] == "python3 break-ties.py --candidate=Ada --candidate=Dara --number=1"


def test_many_tied_candidates_get_the_scripts_draw_for_the_seats() -> None:
    # 32 candidates tied for 3 seats: the seats go to what break-ties.py prints for -n 3, which
    # is not the first 3 of a full order of 32 (Member 08, 05 and 06).
    names = [f"Member {i:02d}" for i in range(1, 33)]
    result = count_approval(names, [set(names)], 3)
    assert result.elected == ["Member 08", "Member 10", "Member 12"]
    assert result.elected == random.Random("".join(names)).sample(names, 3)
    assert result.tie_break is not None and result.tie_break["number"] == 3


def test_affiliations_without_a_cap_change_nothing() -> None:
    ballots = [{"Ada", "Brett"}, {"Ada", "Brett"}, {"Chen"}]
    plain = count_approval(CANDIDATES, ballots, 2)
    labelled = count_approval(CANDIDATES, ballots, 2, affiliations={"Ada": "Acme", "Brett": ["Acme"]})
    assert labelled.elected == plain.elected == ["Ada", "Brett"]
    assert labelled.skipped_for_cap == []


affiliation_sets = st.dictionaries(
    st.sampled_from(CANDIDATES), st.frozensets(st.sampled_from(["Acme", "Initech", "PyCorp"]), max_size=2)
)
continuing_directors = st.lists(st.frozensets(st.sampled_from(["Acme", "Initech", "PyCorp"]), max_size=2), max_size=6)


@settings(max_examples=150)
@given(approvals, st.integers(1, 5), affiliation_sets, continuing_directors, st.sampled_from([1, 2, 3]))
def test_with_a_cap_no_affiliation_exceeds_its_share_of_the_whole_board(
    ballots: list[set[str]], seats: int, affiliations: dict, continuing: list, quarters: int
) -> None:
    cap = Fraction(quarters, 4)
    result = count_approval(CANDIDATES, ballots, seats, affiliations=affiliations, cap=cap, continuing=continuing)
    assert result.board_size == seats + len(continuing)
    on_board = Counter(a for held in continuing for a in held)
    newly = Counter(a for name in result.elected for a in affiliations.get(name, ()))
    for affiliation, n in newly.items():
        assert Fraction(on_board[affiliation] + n, result.board_size) <= cap
    # Passed over only for the cap: nobody left out could have joined the Board as elected.
    final = on_board + newly
    for name in CANDIDATES:
        if name in result.elected:
            continue
        fits = all(Fraction(final[a] + 1, result.board_size) <= cap for a in affiliations.get(name, ()))
        if name in result.skipped_for_cap:
            assert not fits
        elif fits:
            assert result.unfilled == 0
    # Seated in order of votes, but for those passed over.
    least = min((result.counts[name] for name in result.elected), default=None)
    for name in CANDIDATES:
        if least is not None and result.counts[name] > least and name not in result.elected:
            assert name in result.skipped_for_cap


@settings(max_examples=150)
@given(approvals, st.integers(1, 5), affiliation_sets, continuing_directors)
def test_without_a_cap_seats_go_by_votes_and_one_draw_for_the_last_seats(
    ballots: list[set[str]], seats: int, affiliations: dict, continuing: list
) -> None:
    result = count_approval(CANDIDATES, ballots, seats, affiliations=affiliations, continuing=continuing)
    # The rule as it stood before caps with several affiliations: every candidate above the
    # boundary count is seated; the boundary's tied candidates share the seats left by one
    # draw of exactly those seats (what break-ties.py -n prints).
    counts = Counter({name: 0 for name in CANDIDATES})
    counts.update(name for ballot in ballots for name in ballot)
    ranked = sorted(CANDIDATES, key=lambda name: -counts[name])
    boundary = counts[ranked[seats - 1]] if seats <= len(ranked) else -1
    above = [name for name in ranked if counts[name] > boundary]
    tied = sorted(name for name in CANDIDATES if counts[name] == boundary)
    room = min(seats, len(CANDIDATES)) - len(above)
    expected = set(above)
    if tied and room < len(tied):
        ordered = sorted(tied)
        expected |= set(random.Random("".join(ordered)).sample(ordered, room))
    elif tied:
        expected |= set(tied)
    assert set(result.elected) == expected
    assert result.skipped_for_cap == []
    assert result.as_dict()["elected"] == count_approval(CANDIDATES, ballots, seats).elected
