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
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ballot.counting.ballots import RankedBallot, prepare_strict
from ballot.counting.ties import draw_lots


@dataclass(frozen=True)
class IrvRound:
    """One round: votes of the continuing candidates, who was excluded, where their votes went."""

    number: int
    votes: dict[str, int]
    exhausted: int
    excluded: str | None
    transfers: dict[str, int]
    tie_break: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """The round as JSON-safe values."""
        return {
            "number": self.number,
            "votes": dict(self.votes),
            "exhausted": self.exhausted,
            "excluded": self.excluded,
            "transfers": dict(self.transfers),
            "tie_break": self.tie_break,
        }


@dataclass(frozen=True)
class IrvResult:
    """The full instant-runoff count."""

    candidates: tuple[str, ...]
    withdrawn: tuple[str, ...]
    ballots: int
    winner: str
    rounds: list[IrvRound]

    @property
    def elected(self) -> list[str]:
        """The winner as a one-seat list, like the other methods' ``elected``."""
        return [self.winner]

    def as_dict(self) -> dict[str, Any]:
        """The whole count as JSON-safe values."""
        return {
            "method": "irv",
            "seats": 1,
            "candidates": list(self.candidates),
            "withdrawn": list(self.withdrawn),
            "ballots": self.ballots,
            "winner": self.winner,
            "elected": [self.winner],
            "rounds": [r.as_dict() for r in self.rounds],
        }


def count_irv(
    candidates: Sequence[str],
    ballots: Iterable[RankedBallot],
    *,
    withdrawn: Collection[str] = (),
) -> IrvResult:
    """Count an instant-runoff vote for one seat; see the module docstring for the rules."""
    prepared = prepare_strict(candidates, ballots, withdrawn)
    names = prepared.candidates
    continuing = {c for c, name in enumerate(names) if name not in set(withdrawn)}
    if not continuing:
        raise ValueError("every candidate has withdrawn")
    rankings = prepared.rankings
    # Ballots filed under their current candidate, as (ranking, position).
    piles: dict[int, list[tuple[int, int]]] = {c: [] for c in continuing}
    votes = dict.fromkeys(continuing, 0)
    for r, (ranking, weight) in enumerate(rankings):
        piles[ranking[0]].append((r, 0))
        votes[ranking[0]] += weight
    exhausted = 0
    history: list[dict[int, int]] = []
    rounds: list[IrvRound] = []
    while True:
        history.append(dict(votes))
        counting = sum(votes.values())
        leader = max(votes.values())
        leaders = [c for c in continuing if votes[c] == leader]
        if len(continuing) == 1 or (len(leaders) == 1 and 2 * leader > counting):
            rounds.append(_round(len(rounds) + 1, names, votes, exhausted, None, {}, None))
            return IrvResult(
                candidates=names,
                withdrawn=tuple(sorted(withdrawn)),
                ballots=prepared.total,
                winner=names[leaders[0]],
                rounds=rounds,
            )
        low = min(votes.values())
        loser, tie = _loser([c for c in continuing if votes[c] == low], history, names)
        continuing.discard(loser)
        moved = dict.fromkeys(continuing, 0)
        for r, position in piles.pop(loser):
            ranking, weight = rankings[r]
            for later in range(position + 1, len(ranking)):
                if ranking[later] in continuing:
                    piles[ranking[later]].append((r, later))
                    moved[ranking[later]] += weight
                    break
            else:
                exhausted += weight
        rounds.append(_round(len(rounds) + 1, names, votes, exhausted, loser, moved, tie))
        del votes[loser]
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
) -> IrvRound:
    return IrvRound(
        number=number,
        votes={names[c]: v for c, v in sorted(votes.items())},
        exhausted=exhausted,
        excluded=None if loser is None else names[loser],
        transfers={names[c]: v for c, v in sorted(moved.items())},
        tie_break=tie,
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
