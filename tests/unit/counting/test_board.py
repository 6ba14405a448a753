"""The Board being elected and its affiliation cap, as the PSF's bylaws (5.14, 5.15) define them."""

import json
import re
from fractions import Fraction

import pytest

from ballot.counting.board import AffiliationShares, board_for, seat_in_order

CANDIDATES = ["Ada", "Brett", "Chen", "Dara"]
QUARTER = Fraction(1, 4)


def test_no_more_than_a_quarter_of_the_members_of_the_board() -> None:
    """5.15: "No more than one quarter (1/4) of the members of the Board of Directors may
    share a common affiliation as defined in Section 5.14."

    "No more than" includes a quarter exactly; the share is of every member of
    the Board, the continuing directors included.
    """
    eleven = board_for(CANDIDATES, 4, cap=QUARTER, continuing=[[]] * 7, affiliations={"Ada": "Acme"})
    assert eleven.size == 11 and eleven.limit == 2  # 2/11 <= 1/4 < 3/11
    twelve = board_for(CANDIDATES, 4, cap=QUARTER, continuing=[[]] * 8, affiliations={"Ada": "Acme"})
    assert twelve.size == 12 and twelve.limit == 3  # 3/12 is exactly a quarter
    shares = AffiliationShares(twelve)
    shares.held["Acme"] = 2
    assert shares.allows("Ada")
    shares.held["Acme"] = 3
    assert not shares.allows("Ada")
    assert shares.breach("Ada") == "Acme would hold 4 of 12 seats, more than the cap of 1/4 allows (3)"


def test_every_affiliation_of_section_5_14_counts_towards_its_own_share() -> None:
    """5.14: "a Board Member or prospective Board Member has an affiliation if that person is
    an employee, officer, or member of the Board of Directors of an entity; if that person has
    a significant consulting relationship with an entity; or that person owns at least 1% of
    the equity or debt, or derivatives thereof, of an entity."

    A candidate employed by one entity, consulting for another and holding
    equity in a third holds three affiliations, and each counts.
    """
    board = board_for(
        CANDIDATES, 4, cap=QUARTER,
        affiliations={
            "Ada": ["Acme (employer)", "Initech (consulting)", "Hooli (1% equity)"],
            "Brett": "Hooli (1% equity)",
        },
    )
    assert board.affiliations_of("Ada") == ["Acme (employer)", "Hooli (1% equity)", "Initech (consulting)"]
    shares = AffiliationShares(board)
    shares.seat("Ada")
    assert shares.held == {"Acme (employer)": 1, "Initech (consulting)": 1, "Hooli (1% equity)": 1}
    # Brett shares only the equity holding with Ada, and that alone bars him from a Board of four.
    assert not shares.allows("Brett")
    assert shares.over_cap("Brett") == {"Hooli (1% equity)": 2}
    assert shares.allows("Chen", "Dara")


def test_a_plain_string_is_one_affiliation() -> None:
    as_string = board_for(CANDIDATES, 2, affiliations={"Ada": "Acme, Inc."})
    as_list = board_for(CANDIDATES, 2, affiliations={"Ada": ["Acme, Inc."]})
    assert as_string == as_list
    assert as_string.affiliations == {"Ada": frozenset({"Acme, Inc."})}


def test_continuing_directors_make_the_whole_board() -> None:
    # One entry per director: the Board's size counts directors, each affiliation its holders.
    board = board_for(CANDIDATES, 3, cap=QUARTER, continuing=[["Acme", "Initech"], "Acme", [], ()])
    assert (board.size, board.continuing_directors) == (7, 4)
    assert board.sitting == {"Acme": 2, "Initech": 1}
    # The older form counts directors by affiliation, so it presumes one each.
    legacy = board_for(CANDIDATES, 3, cap=QUARTER, sitting={"Acme": 2, "Initech": 1, "unaffiliated": 1})
    assert legacy.size == 7 and legacy.sitting["Acme"] == 2
    assert board_for(CANDIDATES, 3).size == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"affiliations": {"Zed": "Acme"}}, "affiliation given for unknown candidate: Zed"),
        ({"affiliations": {"Ada": ["Acme", " "]}}, "candidate 'Ada': affiliation ' ' is not a non-blank string"),
        ({"continuing": [["Acme"], [""]]}, "continuing director 2: affiliation '' is not a non-blank string"),
        ({"cap": Fraction(5, 4)}, "cap must be a Fraction in"),
        ({"cap": 0.25}, "cap must be a Fraction in"),
        ({"sitting": {"Acme": -1}}, "non-negative integers"),
        ({"sitting": {"Acme": 1}, "continuing": [["Acme"]]}, "not both"),
        ({"seats": 0}, "seats must be a positive integer"),
    ],
)
def test_a_bad_description_is_refused(arguments: dict, message: str) -> None:
    given = {"seats": 2, **arguments}
    with pytest.raises(ValueError, match=re.escape(message)):
        board_for(CANDIDATES, **given)


def test_continuing_directors_are_a_list_not_one_string() -> None:
    with pytest.raises(TypeError, match="one entry per director"):
        board_for(CANDIDATES, 2, continuing="Acme")


def test_the_board_is_reported_as_json() -> None:
    board = board_for(CANDIDATES, 3, cap=QUARTER, continuing=[["Acme"]], affiliations={"Ada": ["Initech", "Acme"]})
    assert json.loads(json.dumps(board.as_dict())) == {
        "cap": {"fraction": "1/4", "decimal": "0.250000"},
        "board_size": 4,
        "continuing_directors": 1,
        "sitting": {"Acme": 1},
        "affiliations": {"Ada": ["Acme", "Initech"]},
    }


def test_seating_passes_over_for_the_next_and_draws_only_where_it_matters() -> None:
    """5.5: "If a person who would otherwise be elected withdraws or becomes ineligible before
    that person is seated as a director, then the person receiving the next highest number of
    votes is selected." 5.15: "A person who would bring the Board of Directors above the limit
    on co-affiliation is ineligible to be seated or appointed."
    """
    board = board_for(CANDIDATES, 2, cap=Fraction(1, 2), affiliations={"Ada": "Acme", "Brett": "Acme"})
    seating = seat_in_order([["Ada"], ["Brett"], ["Chen", "Dara"]], board, in_order="seated in order")
    assert seating.skipped_for_cap == ["Brett"]
    assert seating.elected[0] == "Ada"
    # Chen and Dara tie for the one seat left: one draw for exactly that seat.
    assert [lot.as_dict()["number"] for lot in seating.lots] == [1]
    assert seating.elected[1:] == list(seating.lots[0].drawn)
    assert [(d.candidate, d.tier, d.decision) for d in seating.decisions][:2] == [
        ("Ada", 0, "elected"), ("Brett", 1, "skipped_for_cap")
    ]
