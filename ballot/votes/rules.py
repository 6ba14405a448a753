"""What each kind of vote is: its electorate, its ballot and what passes.

This is DOMAIN.md's table as data. ``build_rules`` turns an administrator's
choices into a vote's rules, checked against the kind and the period's
policy, its floors included; the rules are stored on the vote and frozen
when it opens. ``describe`` says them in words, the same words on the ballot
and the result.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

from ballot.counting.board import board_for
from ballot.counting.methods import APPROVAL, METHODS
from ballot.errors import InvalidInput, PolicyInvalid
from ballot.policy import (
    CANDIDATE_ORDERS,
    DENOMINATOR_WORDS,
    DENOMINATORS,
    Floor,
    Policy,
    Requirement,
    parse_fraction,
)

YES_NO = ("yes", "no", "abstain")
AGREE = ("agree", "disagree", "abstain")
BOARD = "board"  # a Board election's ballot; its rules say "approval" or "ranked"
MAJORITY = Fraction(1, 2)
YES_BEATS_NO = Requirement(MAJORITY, True, "yes-no")  # "yes > no": more than half of yes and no
ELECTIONS = ("regular", "special")  # a Board election; only a regular one counts for the waiver (4.2)
ELECTORATES = ("all", "fellows", "voting-members", "group")


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    ballot: str  # "yes-no", "agree", "board"
    act: str | None = None  # which of the policy's floors applies (policy.FLOOR_ACTS)
    default: Requirement | None = None  # what passes unless the vote sets more
    threshold_settable: bool = False  # "yes > no, unless the vote sets another threshold"
    needs_class: str | None = None  # a class the organisation must have for this kind to exist


KINDS = {
    k.name: k
    for k in (
        Kind("board", "Board of Directors election", BOARD),
        Kind("charter", "Working-group charter", "yes-no", "ordinary", YES_BEATS_NO),
        Kind("sponsor-admission", "Sponsor Member admission", "yes-no", "ordinary", YES_BEATS_NO,
             needs_class="sponsor"),
        Kind("fellow", "Fellow nomination", "agree", "fellow"),
        Kind("policy", "Policy ratification", "yes-no", "ordinary", YES_BEATS_NO, threshold_settable=True),
        Kind("governance", "Governance matter", "yes-no", "ordinary", YES_BEATS_NO, threshold_settable=True),
        Kind("sponsor-benefits", "Sponsor Member benefits", "yes-no", "ordinary", YES_BEATS_NO,
             threshold_settable=True, needs_class="sponsor"),
        Kind("recertification", "Working-group recertification", "yes-no", "ordinary", YES_BEATS_NO,
             threshold_settable=True),
        Kind("termination", "Termination of a membership", "yes-no", "termination",
             Requirement(Fraction(2, 3), False, "participating"), threshold_settable=True),
        Kind("director-removal", "Removal of a director", "yes-no", "director-removal",
             Requirement(MAJORITY, True, "electorate"), threshold_settable=True),
        Kind("bylaws-amendment", "Amendment of the bylaws", "yes-no", "bylaws-amendment",
             Requirement(MAJORITY, True, "electorate"), threshold_settable=True),
        Kind("other", "Matter put to the members", "yes-no", "ordinary", YES_BEATS_NO, threshold_settable=True),
    )
}


def kind_label(name: str) -> str:
    """A kind of vote in words, wherever it is shown (pages, console, mail)."""
    kind = KINDS.get(name)
    return kind.label if kind else name


def kinds_under(policy: Policy) -> list[Kind]:
    """The kinds of vote an organisation under ``policy`` has (no Sponsor admission without Sponsors)."""
    return [k for k in KINDS.values() if k.needs_class is None or k.needs_class in policy.enabled_classes]


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


def parse_affiliations(entries: Iterable[str]) -> dict[str, list[str]]:
    """``NAME = ORG; OTHER ORG`` entries: each candidate's affiliations (bylaws 5.14), repeats adding up."""
    found: dict[str, list[str]] = {}
    for name, organisations in ((n, v) for entry in entries
                                for n, v in parse_assignments([entry], "affiliations").items()):
        for organisation in _organisations(organisations):
            if organisation not in found.setdefault(name, []):
                found[name].append(organisation)
    return found


def parse_statements(entries: Iterable[str]) -> dict[str, str]:
    """``NAME = URL`` entries: the link to each candidate's or nominee's statement."""
    return {name: str(url) for name, url in parse_assignments(entries, "statements").items()}


def check_statements(statements: dict[str, str], questions: list[dict], board: bool) -> dict[str, str]:
    """Statements of the vote's candidates (a Board) or nominees (the questions of a Fellow vote), each an
    http(s) link; anything else is refused, naming it."""
    names = questions[0]["choices"] if board else [q["title"] for q in questions]
    unknown = [name for name in statements if name not in names]
    if unknown:
        raise InvalidInput(f"statements: {', '.join(unknown)} is not one of the "
                           f"{'candidates' if board else 'nominees'} ({', '.join(names)})")
    for name, url in statements.items():
        if not re.fullmatch(r"https?://[^\s<>\"]+", url) or len(url) > 500:
            raise InvalidInput(f"statements: {name}'s statement must be a web address starting with https://")
    return dict(statements)


def parse_continuing(entries: Iterable[str]) -> list[list[str]]:
    """One entry per continuing director: their affiliations separated by ``;``, or ``-`` for none."""
    return [[] if entry.strip() in ("-", "none", "") else _organisations(entry) for entry in entries]


def _organisations(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def get_kind(name: str, policy: Policy | None = None) -> Kind:
    try:
        kind = KINDS[name]
    except KeyError:
        raise InvalidInput(f"unknown kind of vote {name!r}; one of: {', '.join(KINDS)}") from None
    if policy is not None and kind.needs_class and kind.needs_class not in policy.enabled_classes:
        raise InvalidInput(f"there is no {kind.label.lower()} under {policy.title}: it has no "
                           f"{kind.needs_class} members")
    return kind


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
    max_approvals: int | None = None, affiliations: dict[str, list[str]] | None = None,
    continuing: list[list[str]] | None = None, board_size: int | None = None, method: str | None = None,
    election: str | None = None, candidate_order: str | None = None, electorate: str | None = None,
    group: dict | None = None, candidates: list[str] | None = None,
) -> dict:
    """A vote's complete rules, every default taken from the policy and written out.

    A choice below the policy's floor for the kind (bylaws 14.8: "shall not be
    less than the requirements set forth in ... these Bylaws") is refused,
    naming the floor and the words it comes from.
    """
    kind = get_kind(kind.name, policy)
    rules: dict = {
        "kind": kind.name,
        "ballot": kind.ballot,
        "electorate": "all",
        "quorum": str(_quorum(quorum, policy)),
        "quorum_only_if_voting": list(policy.quorum_only_if_voting),
        "delegates_vote": policy.delegates_vote,
        "always_voting": list(policy.always_voting),
    }
    if kind.name == "fellow":
        _fellow_electorate(rules, policy, electorate, group, managing_years)
    elif managing_years is not None:
        raise InvalidInput("only Fellow votes can include longtime Managing Members")
    elif electorate is not None or group is not None:
        raise InvalidInput("only Fellow votes choose their electorate; every other vote is for every voting right")
    if kind.ballot == BOARD:
        if threshold or denominator:
            raise InvalidInput("a Board election has seats, not a threshold")
        return _board_rules(rules, policy, seats, method, max_approvals, affiliations, continuing, board_size,
                            election, candidate_order, list(candidates or []))
    if seats or method or election or candidate_order:
        raise InvalidInput("only Board elections have seats, an election method and a candidate order")
    if continuing or board_size or (affiliations and kind.name != "fellow"):
        raise InvalidInput("affiliations and the Board's directors are for Board elections "
                           "(and a Fellow nominee's affiliations, for Fellow votes)")
    if affiliations:  # a Fellow nominee's declared affiliations: shown on the ballot, decisive for nothing
        rules["affiliations"] = {name: list(orgs) for name, orgs in affiliations.items()}
    requirement = _requirement(kind, policy, threshold, denominator, rules["electorate"])
    rules.update(threshold=str(requirement.share), strict=requirement.strict, denominator=requirement.denominator)
    floor = policy.floor_for(kind.act) if kind.act else None
    if floor:
        rules["floor"] = {"rule": floor.rule, "words": floor.words, "requirement": floor.requirement.words()}
    return rules


def options_of(rules: dict) -> dict:
    """The choices that ``build_rules`` turns into ``rules`` again: a draft's, to edit some and keep the rest."""
    kind = KINDS[rules["kind"]]
    options: dict = {"quorum": rules["quorum"]}
    requirement = (("more than " if rules.get("strict") else "at least ") + rules["threshold"]
                   if "threshold" in rules else None)
    if kind.name == "fellow":
        options.update(electorate=rules["electorate"], group=rules.get("group"),
                       managing_years=rules.get("managing_years"), threshold=requirement,
                       denominator=rules["denominator"])
    elif kind.ballot == BOARD:
        options.update(seats=rules["seats"], method=rules["method"], election=rules["election"],
                       candidate_order=rules["candidate_order"], max_approvals=rules.get("max_approvals"))
        if rules.get("affiliation_cap"):
            options.update(affiliations=rules["affiliations"], continuing=rules["continuing"],
                           board_size=rules["board_size"])
    elif kind.threshold_settable:
        options.update(threshold=requirement, denominator=rules["denominator"])
    return options


def check_quorum(text: str, policy: Policy) -> None:
    """Refuse a vote's quorum as ``build_rules`` would (for forms that name every problem at once)."""
    _quorum(text, policy)


def _quorum(text: str | None, policy: Policy) -> Fraction:
    value = _share(text, "quorum") if text is not None else policy.quorum
    floor = policy.quorum_floor
    if floor and value < floor.share:
        raise InvalidInput(f"a quorum of {value} is below the least {policy.title} allows, {floor.share} "
                           f"(section {floor.rule}: \"{floor.words}\")")
    return value


def _fellow_electorate(rules: dict, policy: Policy, electorate: str | None, group: dict | None,
                       managing_years: int | None) -> None:
    """Who approves Fellows: the Fellows (the model), the voting members, or a named group (bylaws 4.8)."""
    chosen = electorate or ("group" if group else policy.fellow_electorate)
    if chosen not in ("fellows", "voting-members", "group"):
        raise InvalidInput("a Fellow vote's electorate is 'fellows', 'voting-members' or 'group'")
    if chosen == "group":
        if not group or not group.get("members") or not str(group.get("name", "")).strip():
            raise InvalidInput("a Fellow vote by a group (a chartered Working Group, the Board) needs the group's "
                               "name and its members")
        rules["group"] = {"name": str(group["name"]).strip(), "members": list(group["members"])}
    elif group:
        raise InvalidInput("group members are for a Fellow vote by a group (--electorate group)")
    rules["electorate"] = chosen
    if managing_years is not None:
        if "managing" not in policy.enabled_classes:
            raise InvalidInput(f"{policy.title} has no Managing Members: --managing-years does not apply")
        if chosen != "fellows":
            raise InvalidInput("longtime Managing Members join a Fellow vote by the Fellows only")
        if managing_years < 1:
            raise InvalidInput("--managing-years must be at least 1")
    rules["managing_years"] = managing_years if chosen == "fellows" else None


def _requirement(kind: Kind, policy: Policy, threshold: str | None, denominator: str | None,
                 electorate: str) -> Requirement:
    """What passes: the kind's own rule, or the one the vote sets; never below the policy's floor."""
    if denominator is not None and denominator not in DENOMINATORS:
        raise InvalidInput(f"denominator must be one of {', '.join(DENOMINATORS)}")
    floor = policy.floor_for(kind.act) if kind.act else None
    if kind.ballot == "agree":
        default_denominator = "electorate" if electorate == "group" else policy.fellow_denominator
        requirement = _parsed(threshold, denominator or default_denominator) if threshold else Requirement(
            policy.fellow_threshold, False, denominator or default_denominator)
        if floor and not requirement.at_least_as_strict_as(floor.requirement):
            raise _below_floor(kind, policy, floor, requirement)
        if requirement.share not in policy.fellow_allowed_thresholds or requirement.strict:
            allowed = " or ".join(str(t) for t in policy.fellow_allowed_thresholds)
            raise InvalidInput(f"a Fellow nomination passes at {allowed} of "
                               f"{_short(requirement.denominator)}, not {threshold}")
    elif threshold is None and denominator is None:
        assert kind.default is not None  # every kind but the Board's and the Fellows' has its own rule
        requirement = kind.default
        if floor and not requirement.at_least_as_strict_as(floor.requirement):
            requirement = floor.requirement  # the policy asks for more than the kind's own rule
    else:
        assert kind.default is not None
        if not kind.threshold_settable:
            if threshold:
                raise InvalidInput(f"a {kind.label.lower()} passes when yes > no; its threshold cannot be set")
            raise InvalidInput(f"a {kind.label.lower()} passes when yes > no; abstentions cannot count against it")
        base = denominator or (kind.default.denominator if kind.default.denominator == "electorate"
                               else policy.denominator)
        requirement = _parsed(threshold, base) if threshold else Requirement(
            kind.default.share, kind.default.strict, base)
        if requirement.share == 0:
            raise InvalidInput("a threshold of 0 would pass anything")
    if floor and not requirement.at_least_as_strict_as(floor.requirement):
        raise _below_floor(kind, policy, floor, requirement)
    return requirement


def _below_floor(kind: Kind, policy: Policy, floor: Floor, requirement: Requirement) -> InvalidInput:
    return InvalidInput(
        f"a {kind.label.lower()} needs {floor.requirement.words()} under {policy.title} "
        f"(section {floor.rule}: \"{floor.words}\"); {requirement.words()} is less"
    )


def _parsed(threshold: str, denominator: str) -> Requirement:
    try:
        return Requirement.parse(threshold, denominator, "threshold")
    except PolicyInvalid as exc:
        raise InvalidInput(str(exc)) from None


def _share(text: str, what: str) -> Fraction:
    """An administrator's share for this vote: a bad one is their input's fault, not the policy's."""
    try:
        return parse_fraction(text, what)
    except PolicyInvalid as exc:
        raise InvalidInput(str(exc)) from None


def _board_rules(rules: dict, policy: Policy, seats, method, max_approvals, affiliations, continuing, board_size,
                 election, candidate_order, candidates: list[str]) -> dict:
    method = method or policy.board_method
    if method not in METHODS:
        raise InvalidInput(f"unknown election method {method!r}; one of: {', '.join(METHODS)}")
    if method not in policy.board_methods:
        raise InvalidInput(f"{policy.title} elects directors by {' or '.join(METHODS[m] for m in policy.board_methods)}"
                           f", not {METHODS[method]}")
    if not seats or seats < 1:
        raise InvalidInput("a Board election needs the number of seats (at least 1)")
    if method == "irv" and seats != 1:
        raise InvalidInput("instant runoff fills one seat; use meek-stv or scottish-stv for several")
    if election not in (None, *ELECTIONS):
        raise InvalidInput("a Board election is 'regular' or 'special'")
    if candidate_order not in (None, *CANDIDATE_ORDERS):
        raise InvalidInput(f"the candidate order is one of {', '.join(CANDIDATE_ORDERS)}")
    rules.update(method=method, seats=seats, election=election or "regular",
                 candidate_order=candidate_order or policy.candidate_order)
    if method == APPROVAL:
        if max_approvals is not None and max_approvals < 1:
            raise InvalidInput("--max-approvals must be at least 1")
        rules.update(ballot=APPROVAL, max_approvals=max_approvals)
    elif max_approvals:
        raise InvalidInput("--max-approvals is for approval voting only")
    else:
        rules.update(ballot="ranked")
    rules.update(_board_and_cap(policy, seats, affiliations, continuing, board_size, candidates))
    return rules


def _board_and_cap(policy: Policy, seats: int, affiliations, continuing, board_size, candidates) -> dict:
    """The affiliation cap's part of the rules (bylaws 5.14, 5.15), or a refusal where it does not apply."""
    if policy.affiliation_cap is None:
        if continuing or board_size:
            raise InvalidInput(f"{policy.title} sets no cap on co-affiliation: continuing directors and the "
                               "Board's size would not be applied, so they are not taken")
        # Without a cap, candidates' affiliations are what they declared: shown to voters, applied to nothing.
        declared = {name: list(orgs) for name, orgs in (affiliations or {}).items()}
        try:
            board_for(candidates or list(declared), seats, affiliations=declared)
        except ValueError as exc:
            raise InvalidInput(str(exc).replace("unknown candidate", "someone who is not a candidate")) from None
        return {"affiliation_cap": None, "affiliations": declared, "continuing": [], "board_size": seats}
    continuing = [list(c) for c in (continuing or [])]
    if board_size is None:
        raise InvalidInput(
            f"{policy.title} caps co-affiliation at {policy.affiliation_cap} of the whole Board (section 5.15): "
            "give the Board's size and each continuing director's affiliations (--board-size, --continuing)")
    if board_size != seats + len(continuing):
        raise InvalidInput(f"the Board has {board_size} directors: {seats} seats to fill and so "
                           f"{board_size - seats} continuing directors, but {len(continuing)} were described")
    affiliations = {name: list(orgs) for name, orgs in (affiliations or {}).items()}
    try:
        board_for(candidates or list(affiliations), seats, affiliations=affiliations,
                  cap=policy.affiliation_cap, continuing=continuing)
    except ValueError as exc:
        raise InvalidInput(str(exc).replace("unknown candidate", "someone who is not a candidate")) from None
    return {"affiliation_cap": str(policy.affiliation_cap), "affiliations": affiliations, "continuing": continuing,
            "board_size": board_size}


def _short(denominator: str) -> str:
    return {"yes-no": "agree and disagree answers", "participating": "those participating",
            "electorate": "everyone entitled to vote"}[denominator]


# In words -----------------------------------------------------------------------------------

def describe(rules: dict, electorate_size: int | None = None) -> list[str]:
    """The rules in plain words, as shown to voters on the ballot and with the result."""
    lines = [f"Who votes: {_who(rules)}."]
    if electorate_size is not None:
        lines.append(f"Electorate: {electorate_size} voting rights.")
    if rules["ballot"] == "ranked":
        lines.append(
            f"Seats: {rules['seats']}, filled by {METHODS[rules['method']]}. Rank the candidates you "
            "want, 1 for your first choice, 2 for your next, and so on; you need not rank them all, "
            "and each rank is used once."
        )
        lines.append("Ties are broken by a public draw, the PSF's break-ties.py, which anyone can repeat.")
    elif rules["ballot"] == APPROVAL:
        most = rules.get("max_approvals")
        lines.append(
            f"Seats: {rules['seats']}. Approve {'up to ' + str(most) if most else 'as many'} candidates"
            f"{'' if most else ' as you like'}; the {rules['seats']} with the most approvals are elected."
        )
        lines.append(
            "A tie for the last seat is broken by a public draw, the PSF's break-ties.py, which anyone can repeat."
        )
    else:
        word = "agree" if rules["ballot"] == "agree" else "yes"
        requirement = Requirement(Fraction(rules["threshold"]), rules["strict"], rules["denominator"])
        of = DENOMINATOR_WORDS[requirement.denominator]
        if requirement.denominator == "yes-no" and word == "agree":
            of = "the agree and disagree answers (abstentions do not count)"
        passes = f"Passes when {word} answers are {'more than' if requirement.strict else 'at least'} " \
                 f"{requirement.share} of {of}."
        floor = rules.get("floor")
        if floor and floor["requirement"] == requirement.words():
            passes += f" This is what section {floor['rule']} requires."
        elif floor:
            passes += f" (Section {floor['rule']} requires at least: {floor['requirement']}.)"
        lines.append(passes)
    if rules.get("affiliation_cap"):
        lines.append(f"At most {rules['affiliation_cap']} of the whole Board of {rules['board_size']} directors "
                     "(the seats filled now and the directors staying on) may share an affiliation; a candidate "
                     "who would break that is passed over for the next.")
    quorum = Fraction(rules["quorum"])
    if quorum:
        only_if_voting = rules.get("quorum_only_if_voting") or []
        base = "the electorate"
        if only_if_voting:
            base += f" ({' and '.join(c.title() + 's' for c in only_if_voting)} count only if they vote)"
        lines.append(f"Quorum: at least {quorum} of {base} must vote, or the vote is void and decides nothing.")
    else:
        lines.append("No quorum.")
    lines.append("Your ballot is secret: it is stored without any link to you, and sealed until the vote closes.")
    return lines


def _who(rules: dict) -> str:
    electorate = rules["electorate"]
    if electorate == "fellows":
        who = "Fellows enrolled to vote as individuals"
        if rules.get("managing_years"):
            who += f", and Managing Members of at least {rules['managing_years']} years"
        return who
    if electorate == "group":
        group = rules["group"]
        return f"the {len(group['members'])} members of {group['name']}"
    who = "every voting member" if electorate == "voting-members" else "every enrolled voting right"
    details = []
    if rules.get("delegates_vote", True):
        details.append("individuals and Sponsor Delegates")
    if rules.get("always_voting"):
        details.append(" and ".join(c.title() + "s" for c in rules["always_voting"]) + " without opting in")
    return who + (f" ({'; '.join(details)})" if details else "")


def ballot_order(count: int, order: str, link_token: str) -> list[int]:
    """The order one ballot lists a question's ``count`` candidates in, as indexes into their fixed order.

    "random" shuffles each ballot (the PSF's practice), "rotation" starts each
    ballot at another candidate and keeps the cycle, "fixed" keeps the order
    the candidates were entered in. The order comes from the ballot link
    itself, so a ballot shows the same order however often it is opened, and
    nothing about it is stored; answers name candidates, so the order never
    reaches the count or the record.
    """
    indexes = list(range(count))
    if order == "fixed" or count < 2:
        return indexes
    digest = hashlib.sha256(b"ballot candidate order\0" + link_token.encode()).digest()
    seed = int.from_bytes(digest, "big")
    if order == "rotation":
        start = seed % count
        return indexes[start:] + indexes[:start]
    random.Random(seed).shuffle(indexes)
    return indexes
