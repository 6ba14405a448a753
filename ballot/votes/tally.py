"""Counting a vote: pure, from its rules, questions and opened ballots to a result.

Thresholds and quorums are exact rationals (``Fraction``): 6 of 9 is exactly
2/3. The same function counts at the close and in ``ballot verify``, so the
published result and anyone's recount cannot diverge.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

from ballot.counting.methods import APPROVAL, count_board

RANKED = "ranked"


def quorum_met(participants: int, electorate_size: int, quorum: Fraction) -> bool:
    return participants >= quorum * electorate_size


def passes(in_favour: int, denominator: int, threshold: Fraction, strict: bool) -> bool:
    """``in_favour / denominator`` reaches the threshold; nothing passes with no votes counted."""
    if denominator == 0:
        return False
    share = Fraction(in_favour, denominator)
    return share > threshold if strict else share >= threshold


def tally(rules: dict, questions: list[dict], ballots: list[dict], electorate_size: int,
          quorum_base: int | None = None, added: int = 0) -> dict:
    """The result of a vote from the contents of its counted ballots.

    ``quorum_base`` is the number of rights the quorum is a share of, when some
    count only if they vote (bylaws 4.8: Fellows "if they vote, shall be counted
    for purposes of a quorum"); by default the whole electorate. It is part of
    the published record, so a recount needs nothing else. ``added`` is how
    many of the electorate an administrator added after opening, having been
    missed: stated beside the electorate, it changes no count.

    A vote below its quorum is void and decides nothing (bylaws 3.9: "the vote
    is declared void"): each question shows its counts and "void", and no one is
    elected and nothing passes or fails.
    """
    participants = len(ballots)
    quorum = Fraction(rules["quorum"])
    base = electorate_size if quorum_base is None else quorum_base
    result: dict[str, Any] = {
        "electorate": electorate_size,
        "added_after_opening": added,
        "participants": participants,
        "turnout": f"{Fraction(participants, electorate_size) if electorate_size else Fraction(0)}",
        "turnout_percent": round(100 * participants / electorate_size, 1) if electorate_size else 0.0,
        "quorum": str(quorum),
        "quorum_base": base,
        "quorum_met": quorum_met(participants, base, quorum),
        "questions": [],
    }
    for question in questions:
        answers = [ballot["answers"][question["id"]] for ballot in ballots]
        if not result["quorum_met"]:
            outcome = _void(rules, question, answers)
        elif rules["ballot"] in (APPROVAL, RANKED):
            outcome = _board(rules, question, answers)
        else:
            outcome = _yes_no(rules, question, answers, electorate_size)
        result["questions"].append(outcome)
    result["void"] = not result["quorum_met"]
    return result


def _void(rules: dict, question: dict, answers: list) -> dict:
    """A question of a void vote: the counts, for the record, and nothing decided."""
    if rules["ballot"] in (APPROVAL, RANKED):
        counts = _board_counts(rules, question, answers)
    else:
        counts = Counter(answers)
    return {"id": question["id"], "title": question["title"],
            "counts": {choice: counts[choice] for choice in question["choices"]}, "outcome": "void"}


def _yes_no(rules: dict, question: dict, answers: list[str], electorate_size: int) -> dict:
    favour, against, abstain = question["choices"]
    counts = Counter(answers)
    denominator = counts[favour] + counts[against]
    if rules["denominator"] == "participating":
        denominator += counts[abstain]
    elif rules["denominator"] == "electorate":
        denominator = electorate_size  # "a majority of the members entitled to vote": everyone in it
    threshold = Fraction(rules["threshold"])
    passed = passes(counts[favour], denominator, threshold, rules["strict"])
    return {
        "id": question["id"],
        "title": question["title"],
        "counts": {choice: counts[choice] for choice in question["choices"]},
        "denominator": denominator,
        "share": str(Fraction(counts[favour], denominator)) if denominator else None,
        "threshold": str(threshold),
        "strict": rules["strict"],
        "outcome": "passed" if passed else "failed",
    }


def _board(rules: dict, question: dict, answers: list[list[str]]) -> dict:
    """A Board question: approvals, or rankings, counted by the vote's method."""
    capped = bool(rules.get("affiliation_cap"))
    elected, report = count_board(
        rules["method"], question["choices"], answers, rules["seats"],
        affiliations=rules.get("affiliations") or None,
        cap=Fraction(rules["affiliation_cap"]) if capped else None,
        continuing=rules.get("continuing") if capped else None,
    )
    counts = _board_counts(rules, question, answers)
    return {
        "id": question["id"],
        "title": question["title"],
        "counts": {name: counts[name] for name in question["choices"]},
        "counts_are": "approvals" if rules["ballot"] == APPROVAL else "first preferences",
        "elected": elected,
        "report": report,
        "outcome": "elected",
    }


def _board_counts(rules: dict, question: dict, answers: list[list[str]]) -> Counter:
    """Approvals per candidate, or first preferences for a ranked ballot."""
    if rules["ballot"] == APPROVAL:
        return Counter(name for names in answers for name in names)
    return Counter([names[0] for names in answers if names])


class Problem(str):
    """A problem with a submitted ballot, in words, naming the question it is about (for the page to link to)."""

    question_id: str

    def __new__(cls, text: str, question_id: str) -> Problem:
        problem = super().__new__(cls, text)
        problem.question_id = question_id
        return problem


def validate_answers(rules: dict, questions: list[dict], form: dict) -> tuple[dict, list[Problem]]:
    """A ballot's answers from submitted form values, and every problem with them.

    A yes/no question must be answered (abstain is an answer); a Board ballot
    approves or ranks one or more candidates, or says explicitly that it
    abstains. An empty or invalid ballot is never recorded silently.
    """
    answers: dict = {}
    problems: list[Problem] = []
    for question in questions:
        qid = question["id"]

        def refuse(text: str, qid: str = qid) -> None:
            problems.append(Problem(text, qid))

        if rules["ballot"] == RANKED:
            ranking, trouble = _ranking(question, form)
            if trouble:
                for t in trouble:
                    refuse(f"{question['title']}: {t}")
            else:
                answers[qid] = ranking
        elif rules["ballot"] == APPROVAL:
            chosen = [c for c in form.get(qid, []) if c]
            unknown = [c for c in chosen if c not in question["choices"]]
            if unknown:
                refuse(f"{question['title']}: {', '.join(unknown)} is not a candidate.")
                continue
            if len(set(chosen)) != len(chosen):
                refuse(f"{question['title']}: a candidate is approved twice.")
                continue
            most = rules.get("max_approvals")
            if most and len(chosen) > most:
                refuse(
                    f"{question['title']}: you may approve at most {most} candidates; you chose {len(chosen)}."
                )
                continue
            abstain = bool(form.get(f"{qid}-abstain"))
            if chosen and abstain:
                refuse(
                    f"{question['title']}: you chose candidates and also to abstain; choose one or the other."
                )
                continue
            if not chosen and not abstain:
                refuse(f"{question['title']}: approve at least one candidate, or tick 'I abstain'.")
                continue
            # Stored in ballot order so the contents do not reveal the order of clicks.
            answers[qid] = [c for c in question["choices"] if c in chosen]
        else:
            values = form.get(qid, [])
            value = values[0] if len(values) == 1 else None
            if value is None:
                refuse(f"{question['title']}: choose one of {', '.join(question['choices'])}.")
            elif value not in question["choices"]:
                refuse(f"{question['title']}: {value!r} is not one of the choices.")
            else:
                answers[qid] = value
    return answers, problems


def ballot_fields(questions: list[dict], form: dict) -> dict:
    """The submitted form values that :func:`validate_answers` reads, and no others: a ballot's choices,
    as the voter's browser keeps them between the review and the cast."""
    fields = {}
    for question in questions:
        qid = question["id"]
        names = [qid, f"{qid}-abstain", *(f"{qid}-rank-{n}" for n in range(len(question["choices"])))]
        fields.update({name: form[name] for name in names if name in form})
    return fields


def _ranking(question: dict, form: dict) -> tuple[list[str], list[str]]:
    """The names in order of the ranks given (form fields ``<qid>-rank-<n>``), and every problem.

    Ranks run 1, 2, 3... without gaps, each used once; unranked candidates are
    left blank. Duplicate and skipped ranks are explained, never guessed at.
    """
    qid, names = question["id"], question["choices"]
    ranks: dict[int, list[str]] = {}
    problems = []
    for number, name in enumerate(names):
        values = form.get(f"{qid}-rank-{number}", [])
        value = values[0].strip() if len(values) == 1 else ""
        if not value:
            continue
        if not value.isdigit() or not 1 <= int(value) <= len(names):
            problems.append(f"the rank of {name} must be a number from 1 to {len(names)}.")
            continue
        ranks.setdefault(int(value), []).append(name)
    abstain = bool(form.get(f"{qid}-abstain"))
    for rank, holders in sorted(ranks.items()):
        if len(holders) > 1:
            problems.append(f"you gave rank {rank} to {' and '.join(holders)}; each rank can be given once.")
    if ranks and max(ranks) != len(ranks):
        missing = [str(r) for r in range(1, max(ranks) + 1) if r not in ranks]
        problems.append(f"you skipped rank {', '.join(missing)}; number your choices 1, 2, 3 without gaps.")
    if ranks and abstain:
        problems.append("you ranked candidates and also chose to abstain; choose one or the other.")
    if not ranks and not abstain and not problems:
        problems.append("rank at least one candidate, or tick 'I abstain'.")
    if problems:
        return [], problems
    return [ranks[r][0] for r in sorted(ranks)], []
