"""Instant runoff for a single seat.

Each round counts every ballot for its highest-ranked continuing candidate. A
candidate with more than half of the ballots still counting (exhausted ballots
do not count) wins; so does the last candidate standing. Otherwise the
candidate with the fewest votes is excluded and their ballots move on.

Ties for exclusion: among the candidates sharing the fewest votes, the one
with the fewest votes at the most recent earlier round at which their votes
differed is excluded (if several share that fewest, earlier rounds decide
among them); if they were equal in every round, the drawing of lots of
:mod:`ballot.counting.ties` picks the one excluded. Ballots must rank strictly.

With an affiliation cap (:mod:`ballot.counting.board`), a candidate whose
election to the one seat would put any of their affiliations above the cap of
the whole Board (the seat and the continuing directors) cannot win: every such
candidate is excluded at once in the first round, before any majority is
looked for, and their ballots move on like any excluded candidate's. The round
records each with the reason. If the cap excludes everyone, the seat stays
empty.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ballot.counting.ballots import Ballots, prepare_strict
from ballot.counting.board import Affiliations, AffiliationShares, Board, Continuing, board_for
from ballot.counting.ties import draw_lots


@dataclass(frozen=True)
class IrvRound:
    """One round: votes of the continuing candidates, who was excluded, where their votes went.

    ``excluded`` is the candidate excluded for the fewest votes;
    ``excluded_for_cap`` maps each candidate the affiliation cap excluded in
    this round to the reason, in words.
    """

    number: int
    votes: dict[str, int]
    exhausted: int
    excluded: str | None
    transfers: dict[str, int]
    tie_break: dict[str, Any] | None
    excluded_for_cap: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The round as JSON-safe values."""
        return {
            "number": self.number,
            "votes": dict(self.votes),
            "exhausted": self.exhausted,
            "excluded": self.excluded,
            "excluded_for_cap": dict(self.excluded_for_cap),
            "transfers": dict(self.transfers),
            "tie_break": self.tie_break,
        }


@dataclass(frozen=True)
class IrvResult:
    """The full instant-runoff count; ``winner`` is None when the cap left the seat empty."""

    candidates: tuple[str, ...]
    withdrawn: tuple[str, ...]
    ballots: int
    winner: str | None
    rounds: list[IrvRound]
    board: Board

    @property
    def elected(self) -> list[str]:
        """The winner as a one-seat list, like the other methods' ``elected``."""
        return [] if self.winner is None else [self.winner]

    def as_dict(self) -> dict[str, Any]:
        """The whole count as JSON-safe values."""
        return {
            "method": "irv",
            "seats": 1,
            "candidates": list(self.candidates),
            "withdrawn": list(self.withdrawn),
            "ballots": self.ballots,
            "winner": self.winner,
            "elected": self.elected,
            **self.board.as_dict(),
            "rounds": [r.as_dict() for r in self.rounds],
        }


def count_irv(
    candidates: Sequence[str],
    ballots: Ballots,
    *,
    withdrawn: Collection[str] = (),
    affiliations: Affiliations | None = None,
    cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
    continuing: Continuing | None = None,
) -> IrvResult:
    """Count an instant-runoff vote for one seat; see the module docstring for the rules.

    The affiliation cap and the continuing directors are given as to
    :func:`ballot.counting.approval.count_approval`.
    """
    prepared = prepare_strict(candidates, ballots, withdrawn)
    names = prepared.candidates
    board = board_for(names, 1, affiliations=affiliations, cap=cap, sitting=sitting, continuing=continuing)
    shares = AffiliationShares(board)
    standing = {c for c, name in enumerate(names) if name not in set(withdrawn)}
    if not standing:
        raise ValueError("every candidate has withdrawn")
    rankings = prepared.rankings
    # Ballots filed under their current candidate, as (ranking, position).
    piles: dict[int, list[tuple[int, int]]] = {c: [] for c in standing}
    votes = dict.fromkeys(standing, 0)
    for r, (ranking, weight) in enumerate(rankings):
        piles[ranking[0]].append((r, 0))
        votes[ranking[0]] += weight
    exhausted = 0
    history: list[dict[int, int]] = []
    rounds: list[IrvRound] = []

    def exclude(gone: list[int]) -> dict[int, int]:
        """Move the ballots of the ``gone`` candidates on; returns what each one standing gained."""
        nonlocal exhausted
        standing.difference_update(gone)
        moved = dict.fromkeys(standing, 0)
        for candidate in gone:
            for r, position in piles.pop(candidate):
                ranking, weight = rankings[r]
                for later in range(position + 1, len(ranking)):
                    if ranking[later] in standing:
                        piles[ranking[later]].append((r, later))
                        moved[ranking[later]] += weight
                        break
                else:
                    exhausted += weight
        return moved

    def result(winner: int | None) -> IrvResult:
        return IrvResult(
            candidates=names,
            withdrawn=tuple(sorted(withdrawn)),
            ballots=prepared.total,
            winner=None if winner is None else names[winner],
            rounds=rounds,
            board=board,
        )

    while True:
        history.append(dict(votes))
        # One seat: nobody is elected before the end, so only the first round can find anyone capped.
        gone = sorted((c for c in standing if not shares.allows(names[c])), key=names.__getitem__)
        if gone:
            reasons = {names[c]: shares.breach(names[c]) for c in gone}
            moved = exclude(gone)
            rounds.append(_round(len(rounds) + 1, names, votes, exhausted, None, moved, None, reasons))
            if not standing:
                return result(None)
        else:
            counting = sum(votes.values())
            leader = max(votes.values())
            leaders = [c for c in standing if votes[c] == leader]
            if len(standing) == 1 or (len(leaders) == 1 and 2 * leader > counting):
                rounds.append(_round(len(rounds) + 1, names, votes, exhausted, None, {}, None))
                return result(leaders[0])
            low = min(votes.values())
            loser, tie = _loser([c for c in standing if votes[c] == low], history, names)
            gone = [loser]
            moved = exclude(gone)
            rounds.append(_round(len(rounds) + 1, names, votes, exhausted, loser, moved, tie))
        for c in gone:
            del votes[c]
        for c, gained in moved.items():
            votes[c] += gained


def _round(
    number: int,
    names: tuple[str, ...],
    votes: dict[int, int],
    exhausted: int,
    loser: int | None,
    moved: dict[int, int],
    tie: dict[str, Any] | None,
    excluded_for_cap: dict[str, str] | None = None,
) -> IrvRound:
    return IrvRound(
        number=number,
        votes={names[c]: v for c, v in sorted(votes.items())},
        exhausted=exhausted,
        excluded=None if loser is None else names[loser],
        transfers={names[c]: v for c, v in sorted(moved.items())},
        tie_break=tie,
        excluded_for_cap=excluded_for_cap or {},
    )


def _loser(
    tied: list[int], history: list[dict[int, int]], names: tuple[str, ...]
) -> tuple[int, dict[str, Any] | None]:
    """Pick the candidate to exclude among those tied for fewest votes."""
    if len(tied) == 1:
        return tied[0], None
    group = tied
    for earlier in range(len(history) - 2, -1, -1):
        values = {c: history[earlier][c] for c in group}
        fewest = min(values.values())
        if fewest != max(values.values()):
            group = [c for c in group if values[c] == fewest]
            if len(group) == 1:
                return group[0], {
                    "tied": sorted(names[c] for c in tied),
                    "resolved_by": f"votes at round {earlier + 1}",
                    "chosen": names[group[0]],
                    "lot": None,
                }
    lot = draw_lots([names[c] for c in group], 1)
    return names.index(lot.drawn[0]), {
        "tied": sorted(names[c] for c in tied),
        "resolved_by": "lot",
        "chosen": lot.drawn[0],
        "lot": lot.as_dict(),
    }
