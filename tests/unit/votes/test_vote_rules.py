"""Every kind of vote in DOMAIN.md's table: its electorate, ballot, default threshold and refusals."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ballot.errors import InvalidInput
from ballot.policy import POLICY_DIR, load_policy
from ballot.votes.rules import build_questions, build_rules, describe, get_kind

SEED = load_policy("seed")
BYLAWS = load_policy("psf-bylaws")
YES_NO_KINDS = ["charter", "sponsor-admission", "policy", "governance", "sponsor-benefits", "recertification", "other"]
SETTABLE = ["policy", "governance", "sponsor-benefits", "recertification", "other"]


def rules_for(kind: str, policy=SEED, **options) -> dict:
    return build_rules(get_kind(kind), policy, **options)


@pytest.mark.parametrize("kind", YES_NO_KINDS)
def test_yes_no_matters_are_for_every_enrolled_right_and_pass_when_yes_beats_no(kind):
    rules = rules_for(kind)
    assert rules["electorate"] == "all"
    assert rules["ballot"] == "yes-no"
    # "yes > no": strictly more than half of the yes and no answers.
    assert (Fraction(rules["threshold"]), rules["strict"], rules["denominator"]) == (Fraction(1, 2), True, "yes-no")
    assert rules["quorum"] == "0"
    assert "managing_years" not in rules
    questions = build_questions(get_kind(kind), ["Adopt it?"], [])
    assert questions == [{"id": "q1", "title": "Adopt it?", "choices": ["yes", "no", "abstain"]}]


def test_a_fellow_nomination_is_for_fellows_at_two_thirds_of_those_participating():
    rules = rules_for("fellow")
    assert rules["electorate"] == "fellows"
    assert rules["ballot"] == "agree"
    assert (Fraction(rules["threshold"]), rules["strict"], rules["denominator"]) == (
        Fraction(2, 3), False, "participating"
    )
    assert rules["managing_years"] is None
    questions = build_questions(get_kind("fellow"), ["Katherine Johnson", " ", "Dennis Ritchie"], [])
    assert [q["title"] for q in questions] == ["Katherine Johnson", "Dennis Ritchie"]
    assert {tuple(q["choices"]) for q in questions} == {("agree", "disagree", "abstain")}
    assert [q["id"] for q in questions] == ["q1", "q2"]


def test_the_board_may_set_three_quarters_for_a_fellow_vote():
    assert rules_for("fellow", threshold="3/4")["threshold"] == "3/4"
    assert rules_for("fellow", threshold="0.75")["threshold"] == "3/4"


def test_a_fellow_vote_may_include_longtime_managing_members_and_count_yes_and_no_only():
    rules = rules_for("fellow", managing_years=5, denominator="yes-no")
    assert (rules["managing_years"], rules["denominator"]) == (5, "yes-no")


def test_a_board_election_is_approval_for_n_seats():
    rules = rules_for("board", seats=3, max_approvals=4)
    assert rules["electorate"] == "all"
    assert rules["ballot"] == "approval"
    assert (rules["method"], rules["seats"], rules["max_approvals"]) == ("approval", 3, 4)
    assert rules["affiliation_cap"] is None
    assert "threshold" not in rules
    questions = build_questions(get_kind("board"), [], ["Ada", " Grace ", ""])
    assert questions == [{"id": "board", "title": "Board of Directors", "choices": ["Ada", "Grace"]}]


def test_the_policys_numbers_are_the_defaults():
    assert rules_for("charter", BYLAWS)["quorum"] == "1/3"
    assert rules_for("board", BYLAWS, seats=3, board_size=3)["affiliation_cap"] == "1/4"
    assert rules_for("charter", quorum="1/4")["quorum"] == "1/4"


@pytest.mark.parametrize("kind", SETTABLE)
def test_other_matters_may_set_another_threshold_counted_at_least(kind):
    rules = rules_for(kind, threshold="2/3")
    assert (rules["threshold"], rules["strict"], rules["denominator"]) == ("2/3", False, "participating")
    assert rules_for(kind, threshold="2/3", denominator="yes-no")["denominator"] == "yes-no"


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("charter", {"threshold": "2/3"}, "working-group charter passes when yes > no; its threshold cannot be set"),
        ("sponsor-admission", {"threshold": "3/4"}, "its threshold cannot be set"),
        ("charter", {"denominator": "participating"}, "yes > no"),
        ("fellow", {"threshold": "1/2"}, "a Fellow nomination passes at 2/3 or 3/4 of those participating, not 1/2"),
        ("fellow", {"threshold": "1"}, "not 1"),
        ("fellow", {"seats": 2}, "only Board elections have seats"),
        ("charter", {"seats": 2}, "only Board elections have seats"),
        ("policy", {"seats": 1}, "only Board elections have seats"),
        ("board", {}, "a Board election needs the number of seats"),
        ("board", {"seats": 0}, "a Board election needs the number of seats"),
        ("board", {"seats": 2, "threshold": "2/3"}, "a Board election has seats, not a threshold"),
        ("board", {"seats": 2, "denominator": "yes-no"}, "a Board election has seats, not a threshold"),
        ("board", {"seats": 2, "max_approvals": 0}, "--max-approvals must be at least 1"),
        ("charter", {"managing_years": 3}, "only Fellow votes can include longtime Managing Members"),
        ("board", {"seats": 1, "managing_years": 3}, "only Fellow votes"),
        ("fellow", {"managing_years": 0}, "--managing-years must be at least 1"),
        ("policy", {"threshold": "0"}, "a threshold of 0 would pass anything"),
        ("policy", {"threshold": "5/4"}, "threshold: 5/4 is not between 0 and 1"),
        ("policy", {"threshold": "most"}, "threshold: 'most' is not a fraction"),
        ("policy", {"threshold": "2/3", "denominator": "everyone"},
         "denominator must be one of yes-no, participating, electorate"),
        ("charter", {"quorum": "3/2"}, "quorum: 3/2 is not between 0 and 1"),
    ],
)
def test_rules_that_do_not_fit_the_kind_are_refused(kind, options, message):
    with pytest.raises(InvalidInput) as refused:
        rules_for(kind, **options)
    assert message in str(refused.value)


def test_a_fellow_threshold_outside_the_policy_is_refused_even_if_the_seed_allows_it(tmp_path):
    path = tmp_path / "strict.toml"
    seed_text = (POLICY_DIR / "seed.toml").read_text()
    path.write_text(seed_text.replace('allowed_thresholds = ["2/3", "3/4"]', 'allowed_thresholds = ["2/3"]'))
    with pytest.raises(InvalidInput, match="passes at 2/3 of those participating, not 3/4"):
        rules_for("fellow", load_policy(str(path)), threshold="3/4")


def test_an_unknown_kind_is_refused_naming_the_kinds():
    with pytest.raises(InvalidInput, match="unknown kind of vote 'referendum'; one of: board, charter"):
        get_kind("referendum")


@pytest.mark.parametrize(
    ("kind", "titles", "candidates", "message"),
    [
        ("charter", [], [], "a working-group charter needs at least one question"),
        ("fellow", ["  "], [], "a fellow nomination needs at least one nominee"),
        ("charter", ["Adopt?"], ["Ada"], "candidates are only for Board elections"),
        ("board", [], [" "], "a Board election needs at least one candidate"),
        ("board", [], ["Ada", "Ada "], "a candidate is named twice"),
    ],
)
def test_a_ballot_without_proper_questions_is_refused(kind, titles, candidates, message):
    with pytest.raises(InvalidInput, match=message):
        build_questions(get_kind(kind), titles, candidates)


# --- The rules in words, as voters see them ---------------------------------

def test_a_charter_is_described_as_yes_beating_no():
    text = "\n".join(describe(rules_for("charter"), electorate_size=12))
    assert "every enrolled voting right (individuals and Sponsor Delegates)" in text
    assert "Electorate: 12 voting rights." in text
    assert "Passes when yes answers are more than 1/2 of the yes and no answers (abstentions do not count)." in text
    assert "No quorum." in text


def test_a_fellow_vote_is_described_with_its_threshold_and_denominator():
    text = "\n".join(describe(rules_for("fellow", threshold="3/4", managing_years=5, quorum="1/3")))
    assert "Fellows enrolled to vote as individuals, and Managing Members of at least 5 years" in text
    assert "Passes when agree answers are at least 3/4 of all who cast a ballot (abstentions count)." in text
    assert "Quorum: at least 1/3 of the electorate must vote" in text
    yes_no = "\n".join(describe(rules_for("fellow", denominator="yes-no")))
    assert "at least 2/3 of the agree and disagree answers (abstentions do not count)" in yes_no


def test_a_board_election_is_described_with_its_seats():
    text = "\n".join(describe(rules_for("board", BYLAWS, seats=3, max_approvals=3, board_size=11,
                                        continuing=[[]] * 8)))
    assert "Seats: 3. Approve up to 3 candidates; the 3 with the most approvals are elected." in text
    assert "At most 1/4 of the whole Board of 11 directors" in text
    assert "Quorum: at least 1/3" in text
