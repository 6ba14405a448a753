"""count_board: every method by name, with the affiliation cap passed through to each."""

import json
from fractions import Fraction

import pytest

from ballot.counting.methods import METHODS, RANKED, count_board

CANDIDATES = ["Ada", "Brett", "Chen", "Dara"]
# Ada leads every method: most approvals, most first preferences, the Condorcet winner.
BALLOTS = [["Ada", "Chen"]] * 5 + [["Brett", "Ada"]] * 3 + [["Chen", "Ada"]] * 2 + [["Dara"]]


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_counts_without_a_cap(method: str) -> None:
    elected, report = count_board(method, CANDIDATES, BALLOTS, 1)
    assert elected == ["Ada"]
    assert json.loads(json.dumps(report))["elected"] == ["Ada"]
    assert report["cap"] is None and report["board_size"] == 1


@pytest.mark.parametrize("method", list(METHODS))
def test_the_stored_form_of_the_rules_still_counts(method: str) -> None:
    """The rules stored on votes so far: affiliations {name: str}, sitting {affiliation: int}.

    PSF bylaws 5.15: "No more than one quarter (1/4) of the members of the Board of Directors may
    share a common affiliation". A Board of 4 (three staying on, one Acme's) has room for no other
    Acme director, so Ada is passed over (approval, Schulze) or excluded (STV, instant runoff).
    """
    elected, report = count_board(
        method, CANDIDATES, BALLOTS, 1,
        affiliations={"Ada": "Acme"}, cap=Fraction(1, 4), sitting={"Acme": 1, "unaffiliated": 2},
    )
    assert "Ada" not in elected and len(elected) == 1
    assert report["board_size"] == 4 and report["affiliations"] == {"Ada": ["Acme"]}
    data = json.dumps(report)
    assert "Acme would hold 2 of 4 seats, more than the cap of 1/4 allows (1)" in data


@pytest.mark.parametrize("method", list(METHODS))
def test_continuing_directors_with_several_affiliations_pass_through(method: str) -> None:
    elected, report = count_board(
        method, CANDIDATES, BALLOTS, 1,
        affiliations={"Ada": ["Initech", "PyCorp"]}, cap=Fraction(1, 4), continuing=[["Acme", "PyCorp"], [], []],
    )
    assert "Ada" not in elected
    assert report["sitting"] == {"Acme": 1, "PyCorp": 1} and report["continuing_directors"] == 3


@pytest.mark.parametrize("method", RANKED)
def test_ranked_reports_say_why_the_cap_excluded_a_candidate(method: str) -> None:
    _, report = count_board(method, CANDIDATES, BALLOTS, 1, affiliations={"Ada": "Acme"}, cap=Fraction(1, 4),
                            continuing=[["Acme"], [], []])
    if method == "schulze":
        assert report["skipped_for_cap"] == ["Ada"]
    else:
        assert any("Ada" in r["excluded_for_cap"] for r in report["rounds"])


def test_unknown_methods_and_runoffs_for_several_seats_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        count_board("borda", CANDIDATES, BALLOTS, 1)
    with pytest.raises(ValueError, match="instant runoff fills one seat"):
        count_board("irv", CANDIDATES, BALLOTS, 2)
