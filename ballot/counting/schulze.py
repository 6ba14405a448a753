"""The Schulze method (Condorcet), with the full pairwise and strongest-path matrices.

``d[X][Y]`` is the number of voters who rank X strictly above Y. Candidates a
ballot leaves unranked are ranked equal to each other and below every
candidate it ranks; equal rankings give no preference either way. A link X to
Y has strength ``d[X][Y]`` when X beats Y (``d[X][Y] > d[Y][X]``) and none
otherwise ("winning votes"); ``p[X][Y]`` is the strength of the strongest path
from X to Y, where a path is as strong as its weakest link.

X is ranked above Y when ``p[X][Y] > p[Y][X]``. The ranking is reported in
tiers: the first tier holds every candidate nobody beats, the next every
candidate beaten only by the first tier, and so on. Ties are reported as ties
(several names in a tier), never broken: the election's rules decide what a
tie means.

:func:`elect_schulze` fills seats from that ranking: tier by tier, passing over
any candidate whose seating would break the affiliation cap for the next
(:mod:`ballot.counting.board`), and drawing lots for exactly the seats at stake
when a tier cannot be seated whole (:mod:`ballot.counting.ties`).
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ballot.counting.ballots import Ballots, check_candidates, prepare_ranked
from ballot.counting.board import Affiliations, Board, Continuing, SeatingDecision, board_for, seat_in_order
from ballot.counting.ties import Lot


@dataclass(frozen=True)
class SchulzeResult:
    """The full Schulze count: matrices ``d`` and ``p`` and the ranking in tiers."""

    candidates: tuple[str, ...]
    withdrawn: tuple[str, ...]
    ballots: int
    pairwise: dict[str, dict[str, int]]
    strongest_paths: dict[str, dict[str, int]]
    ranking: list[list[str]]

    @property
    def winners(self) -> list[str]:
        """The first tier: one name, or several when the top is tied."""
        return list(self.ranking[0])

    def as_dict(self) -> dict[str, Any]:
        """The whole count as JSON-safe values; matrices are nested by row then column."""
        return {
            "method": "schulze",
            "candidates": list(self.candidates),
            "withdrawn": list(self.withdrawn),
            "ballots": self.ballots,
            "pairwise": {x: dict(row) for x, row in self.pairwise.items()},
            "strongest_paths": {x: dict(row) for x, row in self.strongest_paths.items()},
            "ranking": [list(tier) for tier in self.ranking],
            "winners": self.winners,
        }


def count_schulze(
    candidates: Sequence[str],
    ballots: Ballots,
    *,
    withdrawn: Collection[str] = (),
) -> SchulzeResult:
    """Count by the Schulze method; see the module docstring. Equal rankings are allowed."""
    prepared = prepare_ranked(candidates, ballots, withdrawn)
    gone = set(withdrawn)
    standing = [c for c, name in enumerate(prepared.candidates) if name not in gone]
    n = len(prepared.candidates)

    # Every candidate on a ballot beats everyone not ranked at or above them. Adding
    # the weight to the whole row, then taking it back for those ranked at or above,
    # costs the ballot's length rather than the number of candidates.
    beats_all = [0] * n
    taken_back = [[0] * n for _ in range(n)]
    for tiers, weight in prepared.rankings:
        above: list[int] = []
        for tier in tiers:
            above.extend(tier)
            for c in tier:
                beats_all[c] += weight
                row = taken_back[c]
                for a in above:
                    row[a] += weight
    d = [[beats_all[x] - taken_back[x][y] if x != y else 0 for y in range(n)] for x in range(n)]

    p = [[d[x][y] if x != y and d[x][y] > d[y][x] else 0 for y in range(n)] for x in range(n)]
    for via in standing:
        for x in standing:
            if x == via or not p[x][via]:
                continue
            through = p[x][via]
            for y in standing:
                if y != x and y != via:
                    p[x][y] = max(p[x][y], min(through, p[via][y]))

    ranking: list[list[str]] = []
    left = list(standing)
    while left:
        unbeaten = [x for x in left if not any(p[y][x] > p[x][y] for y in left if y != x)]
        ranking.append(sorted(prepared.candidates[x] for x in unbeaten))
        left = [x for x in left if x not in unbeaten]

    names = prepared.candidates
    return SchulzeResult(
        candidates=names,
        withdrawn=tuple(sorted(gone)),
        ballots=prepared.total,
        pairwise={names[x]: {names[y]: d[x][y] for y in standing if y != x} for x in standing},
        strongest_paths={names[x]: {names[y]: p[x][y] for y in standing if y != x} for x in standing},
        ranking=ranking,
    )


@dataclass(frozen=True)
class SchulzeElection:
    """Seats filled from a Schulze ranking: the count, who was elected, and every decision.

    Each of ``steps`` names the candidate, their ``rank`` (1 for the first
    tier), their affiliations and what became of them, with the reason.
    """

    count: SchulzeResult
    board: Board
    elected: list[str]
    skipped_for_cap: list[str]
    decisions: list[SeatingDecision]
    lots: list[Lot]

    @property
    def seats(self) -> int:
        """The seats being filled."""
        return self.board.seats

    def as_dict(self) -> dict[str, Any]:
        """The count and the seating as JSON-safe values."""
        return {
            **self.count.as_dict(),
            "seats": self.seats,
            "elected": list(self.elected),
            "unfilled": self.seats - len(self.elected),
            "skipped_for_cap": list(self.skipped_for_cap),
            **self.board.as_dict(),
            "tie_break": self.lots[-1].as_dict() if self.lots else None,
            "lots": [lot.as_dict() for lot in self.lots],
            "steps": [
                {
                    "candidate": d.candidate,
                    "rank": d.tier + 1,
                    "affiliations": self.board.affiliations_of(d.candidate),
                    "decision": d.decision,
                    "reason": d.reason,
                }
                for d in self.decisions
            ],
        }


def elect_schulze(
    candidates: Sequence[str],
    ballots: Ballots,
    seats: int,
    *,
    withdrawn: Collection[str] = (),
    affiliations: Affiliations | None = None,
    cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
    continuing: Continuing | None = None,
) -> SchulzeElection:
    """Fill ``seats`` seats from the Schulze ranking, best tier first.

    The affiliation cap and the continuing directors are given as to
    :func:`ballot.counting.approval.count_approval`; a candidate the cap
    forbids is passed over for the next in the ranking.
    """
    board = board_for(
        check_candidates(candidates), seats,
        affiliations=affiliations, cap=cap, sitting=sitting, continuing=continuing,
    )
    count = count_schulze(candidates, ballots, withdrawn=withdrawn)
    seating = seat_in_order(count.ranking, board, in_order="seated in ranking order")
    return SchulzeElection(
        count=count,
        board=board,
        elected=seating.elected,
        skipped_for_cap=seating.skipped_for_cap,
        decisions=seating.decisions,
        lots=seating.lots,
    )
