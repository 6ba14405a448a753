"""What each kind of vote is: its electorate, its ballot and what passes.

This is DOMAIN.md's table as data. ``build_rules`` turns an administrator's
choices into a vote's rules, checked against the kind and the period's
policy; the rules are stored on the vote and frozen when it opens.
``describe`` says them in words, the same words on the ballot and the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

from ballot.counting.methods import APPROVAL, METHODS
from ballot.errors import InvalidInput, PolicyInvalid
from ballot.policy import Policy, parse_fraction

YES_NO = ("yes", "no", "abstain")
AGREE = ("agree", "disagree", "abstain")
BOARD = "board"  # a Board election's ballot; its rules say "approval" or "ranked"


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    ballot: str  # "yes-no", "agree", "board"
    fellows_only: bool = False
    threshold_settable: bool = False  # "yes > no, unless the vote sets another threshold"


KINDS = {
    k.name: k
    for k in (
        Kind("board", "Board of Directors election", BOARD),
        Kind("charter", "Working-group charter", "yes-no"),
        Kind("sponsor-admission", "Sponsor Member admission", "yes-no"),
        Kind("fellow", "Fellow nomination", "agree", fellows_only=True),
        Kind("policy", "Policy ratification", "yes-no", threshold_settable=True),
        Kind("governance", "Governance matter", "yes-no", threshold_settable=True),
        Kind("sponsor-benefits", "Sponsor Member benefits", "yes-no", threshold_settable=True),
        Kind("recertification", "Working-group recertification", "yes-no", threshold_settable=True),
        Kind("other", "Matter put to the members", "yes-no", threshold_settable=True),
    )
}

MAJORITY = Fraction(1, 2)  # "yes > no": more than half of yes and no


def kind_label(name: str) -> str:
    """A kind of vote in words, wherever it is shown (pages, console, mail)."""
    kind = KINDS.get(name)
    return kind.label if kind else name


def parse_assignments(entries: Iterable[str], what: str, convert: Callable[[str], object] = str) -> dict:
    """``NAME=VALUE`` entries (command options, or lines of a console field) as a dict.

    A bad entry is the administrator's input error, named with ``what``.
    """
    found = {}
    for entry in entries:
        if not entry.strip():
            continue
        name, sep, value = entry.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidInput(f"{what}: {entry.strip()!r} should be NAME = VALUE")
        try:
            found[name.strip()] = convert(value.strip())
        except ValueError:
            raise InvalidInput(f"{what}: {value.strip()!r} is not a number") from None
    return found


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(f"unknown kind of vote {name!r}; one of: {', '.join(KINDS)}") from None


def build_questions(kind: Kind, titles: list[str], candidates: list[str]) -> list[dict]:
    """The ballot's questions: one per nominee or matter, or one Board question over the candidates."""
    if kind.ballot == BOARD:
        names = [c.strip() for c in candidates if c.strip()]
        if len(names) < 1:
            raise InvalidInput("a Board election needs at least one candidate")
        if len(set(names)) != len(names):
            raise InvalidInput("a candidate is named twice")
        return [{"id": "board", "title": "Board of Directors", "choices": names}]
    titles = [t.strip() for t in titles if t.strip()]
    if not titles:
        what = "nominee" if kind.ballot == "agree" else "question"
        raise InvalidInput(f"a {kind.label.lower()} needs at least one {what}")
    if candidates:
        raise InvalidInput("candidates are only for Board elections")
    choices = list(AGREE if kind.ballot == "agree" else YES_NO)
    return [{"id": f"q{i}", "title": title, "choices": choices} for i, title in enumerate(titles, 1)]


def build_rules(
    kind: Kind, policy: Policy, *, seats: int | None = None, threshold: str | None = None,
    denominator: str | None = None, quorum: str | None = None, managing_years: int | None = None,
    max_approvals: int | None = None, affiliations: dict[str, str] | None = None,
    sitting: dict[str, int] | None = None, method: str | None = None,
) -> dict:
    """A vote's complete rules, every default taken from the policy and written out."""
    rules: dict = {
        "kind": kind.name,
        "ballot": kind.ballot,
        "electorate": "fellows" if kind.fellows_only else "all",
        "quorum": str(_share(quorum, "quorum") if quorum is not None else policy.quorum),
    }
    if kind.fellows_only:
        if managing_years is not None and managing_years < 1:
            raise InvalidInput("--managing-years must be at least 1")
        rules["managing_years"] = managing_years
    elif managing_years is not None:
        raise InvalidInput("only Fellow votes can include longtime Managing Members")
    if kind.ballot == BOARD:
        return _board_rules(
            rules, policy, seats, method, max_approvals, affiliations, sitting, threshold or denominator
        )
    if seats or method:
        raise InvalidInput("only Board elections have seats and an election method")
    if kind.ballot == "agree":
        value = _share(threshold, "threshold") if threshold else policy.fellow_threshold
        if value not in policy.fellow_allowed_thresholds:
            allowed = " or ".join(str(t) for t in policy.fellow_allowed_thresholds)
            raise InvalidInput(f"a Fellow nomination passes at {allowed} of those participating, not {value}")
        rules.update(threshold=str(value), strict=False, denominator=denominator or policy.denominator)
    else:
        if threshold and not kind.threshold_settable:
            raise InvalidInput(f"a {kind.label.lower()} passes when yes > no; its threshold cannot be set")
        if denominator == "participating" and not kind.threshold_settable:
            raise InvalidInput(f"a {kind.label.lower()} passes when yes > no; abstentions cannot count against it")
        value = _share(threshold, "threshold") if threshold else MAJORITY
        if value == 0:
            raise InvalidInput("a threshold of 0 would pass anything")
        # "yes > no" is "more than half of yes and no"; a set threshold is "at least".
        rules.update(
            threshold=str(value), strict=value == MAJORITY and not threshold,
            denominator=denominator or ("yes-no" if not threshold else policy.denominator),
        )
    if rules["denominator"] not in ("participating", "yes-no"):
        raise InvalidInput("denominator must be 'participating' or 'yes-no'")
    return rules


def _share(text: str, what: str) -> Fraction:
    """An administrator's share for this vote: a bad one is their input's fault, not the policy's."""
    try:
        return parse_fraction(text, what)
    except PolicyInvalid as exc:
        raise InvalidInput(str(exc)) from None


def _board_rules(rules: dict, policy: Policy, seats, method, max_approvals, affiliations, sitting, threshold) -> dict:
    method = method or policy.board_method
    if method not in METHODS:
        raise InvalidInput(f"unknown election method {method!r}; one of: {', '.join(METHODS)}")
    if not seats or seats < 1:
        raise InvalidInput("a Board election needs the number of seats (at least 1)")
    if threshold:
        raise InvalidInput("a Board election has seats, not a threshold")
    if method == "irv" and seats != 1:
        raise InvalidInput("instant runoff fills one seat; use meek-stv or scottish-stv for several")
    if method == APPROVAL:
        if max_approvals is not None and max_approvals < 1:
            raise InvalidInput("--max-approvals must be at least 1")
        rules.update(
            ballot=APPROVAL, method=method, seats=seats, max_approvals=max_approvals,
            affiliation_cap=str(policy.affiliation_cap) if policy.affiliation_cap else None,
            affiliations=affiliations or {}, sitting=sitting or {},
        )
        return rules
    if max_approvals or affiliations or sitting:
        raise InvalidInput("approvals, affiliations and sitting directors apply to approval voting only")
    rules.update(ballot="ranked", method=method, seats=seats)
    return rules


def describe(rules: dict, electorate_size: int | None = None) -> list[str]:
    """The rules in plain words, as shown to voters on the ballot and with the result."""
    lines = []
    if rules["electorate"] == "fellows":
        who = "Fellows enrolled to vote as individuals"
        if rules.get("managing_years"):
            who += f", and Managing Members of at least {rules['managing_years']} years"
        lines.append(f"Who votes: {who}.")
    else:
        lines.append("Who votes: every enrolled voting right (individuals and Sponsor Delegates).")
    if electorate_size is not None:
        lines.append(f"Electorate: {electorate_size} voting rights.")
    if rules["ballot"] == "ranked":
        lines.append(
            f"Seats: {rules['seats']}, filled by {METHODS[rules['method']]}. Rank the candidates you "
            "want, 1 for your first choice, 2 for your next, and so on; you need not rank them all, "
            "and each rank is used once."
        )
        lines.append("Ties are broken by a public draw with Python's random module, which anyone can repeat.")
    elif rules["ballot"] == APPROVAL:
        most = rules.get("max_approvals")
        lines.append(
            f"Seats: {rules['seats']}. Approve {'up to ' + str(most) if most else 'as many'} candidates"
            f"{'' if most else ' as you like'}; the {rules['seats']} with the most approvals are elected."
        )
        if rules.get("affiliation_cap"):
            lines.append(f"At most {rules['affiliation_cap']} of the seats may go to one affiliation.")
        lines.append(
            "A tie for the last seat is broken by Python's random module seeded with the tied "
            "candidates' names, so anyone can repeat the draw."
        )
    else:
        word = "agree" if rules["ballot"] == "agree" else "yes"
        share = Fraction(rules["threshold"])
        of = "of all who cast a ballot (abstentions count)" if rules["denominator"] == "participating" else (
            f"of {word} and {'disagree' if word == 'agree' else 'no'} answers (abstentions do not count)"
        )
        if rules["strict"]:
            lines.append(f"Passes when {word} answers are more than {share} {of}.")
        else:
            lines.append(f"Passes when {word} answers are at least {share} {of}.")
    quorum = Fraction(rules["quorum"])
    if quorum:
        lines.append(f"Quorum: at least {quorum} of the electorate must vote, or the vote is void.")
    else:
        lines.append("No quorum.")
    lines.append("Your ballot is secret: it is stored without any link to you, and sealed until the vote closes.")
    return lines
