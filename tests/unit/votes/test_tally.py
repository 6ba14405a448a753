"""Counting: exact thresholds, abstentions, quorum, and what makes a ballot invalid."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ballot.policy import load_policy
from ballot.votes.rules import build_questions, build_rules, get_kind
from ballot.votes.tally import passes, quorum_met, tally, validate_answers

SEED = load_policy("seed")


def vote(kind: str, titles=("Q",), candidates=(), **options) -> tuple[dict, list[dict]]:
    k = get_kind(kind)
    return build_rules(k, SEED, **options), build_questions(k, list(titles), list(candidates))


def ballots(question: str = "q1", **counts: int) -> list[dict]:
    return [{"answers": {question: answer}} for answer, n in counts.items() for _ in range(n)]


def only(result: dict) -> dict:
    (question,) = result["questions"]
    return question


# --- Fellow nominations: at least 2/3 (or 3/4) of those participating ---------

def test_six_agree_of_nine_participating_is_exactly_two_thirds_and_passes():
    rules, questions = vote("fellow")
    result = tally(rules, questions, ballots(agree=6, disagree=2, abstain=1), electorate_size=20)
    q = only(result)
    assert q["counts"] == {"agree": 6, "disagree": 2, "abstain": 1}
    assert (q["denominator"], q["share"], q["threshold"], q["outcome"]) == (9, "2/3", "2/3", "passed")


def test_the_same_ballots_fail_under_three_quarters():
    rules, questions = vote("fellow", threshold="3/4")
    q = only(tally(rules, questions, ballots(agree=6, disagree=2, abstain=1), electorate_size=20))
    assert (q["share"], q["threshold"], q["outcome"]) == ("2/3", "3/4", "failed")


def test_one_short_of_two_thirds_fails():
    rules, questions = vote("fellow")
    q = only(tally(rules, questions, ballots(agree=5, disagree=2, abstain=1), electorate_size=20))
    assert (q["share"], q["outcome"]) == ("5/8", "failed")


def test_abstentions_count_against_a_nominee_of_those_participating():
    rules, questions = vote("fellow")
    q = only(tally(rules, questions, ballots(agree=6, abstain=4), electorate_size=10))
    assert (q["denominator"], q["share"], q["outcome"]) == (10, "3/5", "failed")


def test_in_yes_no_mode_abstentions_are_left_out():
    rules, questions = vote("fellow", denominator="yes-no")
    q = only(tally(rules, questions, ballots(agree=6, abstain=4), electorate_size=10))
    assert (q["denominator"], q["share"], q["outcome"]) == (6, "1", "passed")


def test_a_batch_of_nominees_is_counted_question_by_question():
    rules, questions = vote("fellow", titles=["Katherine Johnson", "Dennis Ritchie"])
    cast = [{"answers": {"q1": "agree", "q2": a}} for a in ("agree", "disagree", "disagree")]
    result = tally(rules, questions, cast, electorate_size=3)
    assert [(q["title"], q["outcome"]) for q in result["questions"]] == [
        ("Katherine Johnson", "passed"), ("Dennis Ritchie", "failed"),
    ]


# --- Yes > no -------------------------------------------------------------------

def test_yes_beating_no_passes_whatever_the_abstentions():
    rules, questions = vote("charter")
    q = only(tally(rules, questions, ballots(yes=4, no=3, abstain=20), electorate_size=30))
    assert (q["denominator"], q["share"], q["outcome"]) == (7, "4/7", "passed")


def test_a_tie_fails():
    rules, questions = vote("charter")
    q = only(tally(rules, questions, ballots(yes=3, no=3, abstain=1), electorate_size=30))
    assert (q["share"], q["strict"], q["outcome"]) == ("1/2", True, "failed")


def test_nothing_passes_when_only_abstentions_were_cast():
    rules, questions = vote("charter")
    q = only(tally(rules, questions, ballots(abstain=5), electorate_size=5))
    assert (q["denominator"], q["share"], q["outcome"]) == (0, None, "failed")
    q = only(tally(rules, questions, [], electorate_size=5))
    assert (q["counts"], q["outcome"]) == ({"yes": 0, "no": 0, "abstain": 0}, "failed")


def test_a_set_threshold_is_reached_at_least():
    rules, questions = vote("policy", threshold="2/3")
    assert only(tally(rules, questions, ballots(yes=6, no=3), 9))["outcome"] == "passed"
    assert only(tally(rules, questions, ballots(yes=6, no=2, abstain=2), 10))["outcome"] == "failed"


# --- Quorum and turnout ------------------------------------------------------------

def test_a_vote_below_its_quorum_is_void():
    rules, questions = vote("charter", quorum="1/3")
    result = tally(rules, questions, ballots(yes=3), electorate_size=10)  # 3 < 10/3
    assert (result["quorum_met"], result["void"]) == (False, True)
    assert only(result)["outcome"] == "void"
    assert (result["participants"], result["turnout"], result["turnout_percent"]) == (3, "3/10", 30.0)


def test_a_quorum_reached_exactly_is_met():
    rules, questions = vote("charter", quorum="1/3")
    result = tally(rules, questions, ballots(yes=3), electorate_size=9)
    assert (result["quorum_met"], result["void"], only(result)["outcome"]) == (True, False, "passed")


def test_no_quorum_means_any_turnout_counts():
    rules, questions = vote("charter")
    result = tally(rules, questions, [], electorate_size=100)
    assert (result["quorum"], result["quorum_met"], result["void"]) == ("0", True, False)


def test_pure_threshold_and_quorum_comparisons_are_exact():
    assert passes(2, 3, Fraction(2, 3), strict=False)
    assert not passes(2, 3, Fraction(2, 3), strict=True)
    assert not passes(0, 0, Fraction(0), strict=False)
    assert quorum_met(1, 3, Fraction(1, 3))
    assert not quorum_met(333, 1000, Fraction(1, 3))


# --- Board elections ----------------------------------------------------------------

def test_a_board_election_elects_the_n_most_approved():
    rules, questions = vote("board", titles=(), candidates=["Ada", "Grace", "Guido"], seats=2)
    cast = [{"answers": {"board": a}} for a in (["Ada", "Grace"], ["Ada"], ["Guido", "Ada"], ["Grace"], [])]
    q = only(tally(rules, questions, cast, electorate_size=5))
    assert q["counts"] == {"Ada": 3, "Grace": 2, "Guido": 1}
    assert q["elected"] == ["Ada", "Grace"]


# --- Validating a submitted ballot -----------------------------------------------------

def test_a_complete_yes_no_ballot_is_accepted():
    rules, questions = vote("fellow", titles=["Katherine Johnson", "Dennis Ritchie"])
    answers, problems = validate_answers(rules, questions, {"q1": ["agree"], "q2": ["abstain"], "csrf_token": ["x"]})
    assert (answers, problems) == ({"q1": "agree", "q2": "abstain"}, [])


def test_an_empty_ballot_is_refused_naming_every_unanswered_question():
    rules, questions = vote("fellow", titles=["Katherine Johnson", "Dennis Ritchie"])
    answers, problems = validate_answers(rules, questions, {})
    assert answers == {}
    assert problems == [
        "Katherine Johnson: choose one of agree, disagree, abstain.",
        "Dennis Ritchie: choose one of agree, disagree, abstain.",
    ]


def test_each_problem_of_a_yes_no_ballot_is_named():
    rules, questions = vote("charter", titles=["First", "Second", "Third", "Fourth"])
    form = {"q1": ["maybe"], "q2": ["yes", "no"], "q3": [""], "q4": ["no"]}
    answers, problems = validate_answers(rules, questions, form)
    assert answers == {"q4": "no"}
    assert len(problems) == 3
    assert problems[0] == "First: 'maybe' is not one of the choices."
    assert problems[1].startswith("Second: choose one of yes, no, abstain")
    assert problems[2].startswith("Third:")


def board(**options):
    return vote("board", titles=(), candidates=["Ada", "Grace", "Guido"], seats=2, **options)


def test_approvals_are_stored_in_ballot_order():
    rules, questions = board()
    answers, problems = validate_answers(rules, questions, {"board": ["Guido", "Ada"]})
    assert (answers, problems) == ({"board": ["Ada", "Guido"]}, [])


def test_an_explicit_board_abstention_is_an_answer():
    rules, questions = board()
    assert validate_answers(rules, questions, {"board-abstain": ["1"]}) == ({"board": []}, [])


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Board of Directors: approve at least one candidate, or tick 'I abstain'."),
        ({"board": [""]}, "approve at least one candidate, or tick 'I abstain'"),
        ({"board": ["Ada", "Mallory"]}, "Board of Directors: Mallory is not a candidate."),
        ({"board": ["Ada", "Ada"]}, "Board of Directors: a candidate is approved twice."),
        ({"board": ["Ada"], "board-abstain": ["1"]}, "you chose candidates and also to abstain"),
    ],
)
def test_an_empty_or_invalid_board_ballot_is_refused(form, message):
    rules, questions = board()
    answers, problems = validate_answers(rules, questions, form)
    assert answers == {}
    assert len(problems) == 1 and message in problems[0]


def test_too_many_approvals_are_refused():
    rules, questions = board(max_approvals=2)
    _, problems = validate_answers(rules, questions, {"board": ["Ada", "Grace", "Guido"]})
    assert problems == ["Board of Directors: you may approve at most 2 candidates; you chose 3."]


def test_each_problem_names_its_question():
    rules, questions = vote("charter", titles=["First", "Second", "Third"])
    _, problems = validate_answers(rules, questions, {"q1": ["maybe"], "q2": ["yes"], "q3": ["no", "yes"]})
    assert [p.question_id for p in problems] == ["q1", "q3"]
    rules, questions = board()
    _, problems = validate_answers(rules, questions, {})
    assert [p.question_id for p in problems] == ["board"]
