"""Approval voting for N Board seats, with an optional affiliation cap.

Each ballot approves any number of candidates; a candidate's count is the
number of ballots approving them. Seats go in order of count ("seated in order
from most votes received to the least", PSF bylaws 5.5). With a cap, a
candidate whose seating would give any of their affiliations more than ``cap``
of the whole Board is passed over and the next candidate is considered (5.15,
5.5). The Board, its continuing directors and the cap are described in
:mod:`ballot.counting.board`.

Ties are broken only where they matter: when the candidates sharing a count
cannot all be seated (too few seats left, or the cap would not let all of them
in), lots are drawn by the PSF's public procedure for exactly the seats at
stake, as :mod:`ballot.counting.ties` describes, and recorded so that anyone
can repeat each draw with the PSF's ``break-ties.py``.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ballot.counting.ballots import check_candidates
from ballot.counting.board import Affiliations, Board, Continuing, board_for, seat_in_order
from ballot.counting.ties import Lot


@dataclass(frozen=True)
class SeatingStep:
    """The decision taken on one candidate, in the order candidates were considered."""

    candidate: str
    votes: int
    affiliations: tuple[str, ...]
    decision: str  # "elected", "skipped_for_cap" or "not_elected"
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The step as JSON-safe values."""
        return {
            "candidate": self.candidate,
            "votes": self.votes,
            "affiliations": list(self.affiliations),
            "decision": self.decision,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ApprovalResult:
    """The full approval count: counts, seats, skips for the cap and any drawing of lots.

    ``tie_break`` is the last drawing of lots (the tied names, the seed, the
    names drawn and the script's command), which is the one for the last seat
    whenever the last seat went by lot; None when no lot was needed. ``lots``
    lists every drawing in order, since the cap can force one before the last
    seat, or a second one for the same seats.
    """

    seats: int
    ballots: int
    counts: dict[str, int]
    elected: list[str]
    skipped_for_cap: list[str]
    tie_break: dict[str, Any] | None
    lots: list[Lot]
    steps: list[SeatingStep]
    board: Board
    unfilled: int

    @property
    def cap(self) -> Fraction | None:
        """The largest share of the whole Board one affiliation may hold."""
        return self.board.cap

    @property
    def board_size(self) -> int:
        """The whole Board: the seats being filled and the continuing directors."""
        return self.board.size

    @property
    def sitting(self) -> dict[str, int]:
        """Each affiliation's continuing directors."""
        return dict(self.board.sitting)

    def as_dict(self) -> dict[str, Any]:
        """The whole result as JSON-safe values, for the results page and the published record."""
        return {
            "method": "approval",
            "seats": self.seats,
            "ballots": self.ballots,
            "counts": dict(self.counts),
            "elected": list(self.elected),
            "unfilled": self.unfilled,
            "skipped_for_cap": list(self.skipped_for_cap),
            **self.board.as_dict(),
            "tie_break": self.tie_break,
            "lots": [lot.as_dict() for lot in self.lots],
            "steps": [step.as_dict() for step in self.steps],
        }


def count_approval(
    candidates: Sequence[str],
    ballots: Iterable[Collection[str]],
    seats: int,
    *,
    affiliations: Affiliations | None = None,
    cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
    continuing: Continuing | None = None,
) -> ApprovalResult:
    """Count an approval vote for ``seats`` seats.

    ``affiliations`` maps a candidate to their affiliations (a collection, or
    a plain string for one; candidates absent from it have none and are never
    capped); ``cap`` is the largest share of the whole Board one affiliation
    may hold, e.g. ``Fraction(1, 4)``; the continuing directors are given as
    ``continuing`` (one entry per director, listing their affiliations) or as
    ``sitting`` (affiliation -> number of directors), as
    :mod:`ballot.counting.board` explains. The Board's size, and so the cap,
    counts every continuing director.

    A ballot naming an unknown candidate, or one candidate twice, raises
    ValueError.
    """
    names = check_candidates(candidates)
    board = board_for(names, seats, affiliations=affiliations, cap=cap, sitting=sitting, continuing=continuing)

    counts = dict.fromkeys(names, 0)
    total = 0
    for number, ballot in enumerate(ballots, start=1):
        if isinstance(ballot, str):
            raise TypeError(f"ballot {number}: a ballot is a collection of names, not one string")
        approved = list(ballot)
        for name in approved:
            if name not in counts:
                raise ValueError(f"ballot {number}: unknown candidate {name!r}")
        if len(set(approved)) != len(approved):
            raise ValueError(f"ballot {number}: a candidate is approved twice")
        for name in approved:
            counts[name] += 1
        total += 1

    by_count = sorted(set(counts.values()), reverse=True)
    tiers = [[name for name in names if counts[name] == votes] for votes in by_count]
    seating = seat_in_order(tiers, board, in_order="seated in vote order")
    steps = [
        SeatingStep(
            candidate=d.candidate,
            votes=by_count[d.tier],
            affiliations=tuple(board.affiliations_of(d.candidate)),
            decision=d.decision,
            reason=d.reason,
        )
        for d in seating.decisions
    ]
    return ApprovalResult(
        seats=seats,
        ballots=total,
        counts=counts,
        elected=seating.elected,
        skipped_for_cap=seating.skipped_for_cap,
        tie_break=seating.lots[-1].as_dict() if seating.lots else None,
        lots=seating.lots,
        steps=steps,
        board=board,
        unfilled=seats - len(seating.elected),
    )
