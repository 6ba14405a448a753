"""Approval voting for N Board seats, with an optional affiliation cap.

Each ballot approves any number of candidates; a candidate's count is the
number of ballots approving them. Seats go in order of count. With a cap, a
candidate whose seating would give their affiliation more than ``cap`` of the
Board is skipped and the next candidate is considered. The Board's size is
the seats being filled plus every sitting director listed in ``sitting``, and
sitting directors count towards their affiliation's share.

Ties are broken only where they matter: when the candidates sharing a count
cannot all be seated (too few seats left, or the cap would not let all of them
in), they are put in order by the PSF's public drawing of lots
(:func:`ballot.counting.ties.draw_lots`, drawing all of them) and seated in that
order, still skipping any the cap forbids. The first ``j`` names of that order
are what the PSF's ``break-ties.py`` prints for ``-n j``.
"""

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ballot.counting.ballots import check_candidates, number_json
from ballot.counting.ties import Lot, draw_lots


@dataclass(frozen=True)
class SeatingStep:
    """The decision taken on one candidate, in the order candidates were considered."""

    candidate: str
    votes: int
    affiliation: str | None
    decision: str  # "elected", "skipped_for_cap" or "not_elected"
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The step as JSON-safe values."""
        return {
            "candidate": self.candidate,
            "votes": self.votes,
            "affiliation": self.affiliation,
            "decision": self.decision,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ApprovalResult:
    """The full approval count: counts, seats, skips for the cap and any drawing of lots.

    ``tie_break`` is the last drawing of lots (the tied names, the seed string
    and the full order drawn), which is the one for the last seat whenever the
    last seat went by lot; None when no lot was needed. ``lots`` lists every
    drawing in order, since the cap can force one before the last seat.
    """

    seats: int
    ballots: int
    counts: dict[str, int]
    elected: list[str]
    skipped_for_cap: list[str]
    tie_break: dict[str, Any] | None
    lots: list[Lot]
    steps: list[SeatingStep]
    cap: Fraction | None
    board_size: int
    sitting: dict[str, int]
    unfilled: int

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
            "cap": None if self.cap is None else number_json(self.cap),
            "board_size": self.board_size,
            "sitting": dict(self.sitting),
            "tie_break": self.tie_break,
            "lots": [lot.as_dict() for lot in self.lots],
            "steps": [step.as_dict() for step in self.steps],
        }


def count_approval(
    candidates: Sequence[str],
    ballots: Iterable[Collection[str]],
    seats: int,
    *,
    affiliations: Mapping[str, str] | None = None,
    cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
) -> ApprovalResult:
    """Count an approval vote for ``seats`` seats.

    ``affiliations`` maps a candidate to their affiliation (candidates absent
    from it have none and are never capped); ``cap`` is the largest share of
    the Board one affiliation may hold, e.g. ``Fraction(1, 4)``; ``sitting``
    maps an affiliation to the number of continuing directors who hold it.
    List every continuing director in ``sitting`` (those without an
    affiliation under a key no candidate uses), because the Board's size, and
    so the cap, is ``seats + sum(sitting.values())``.

    A ballot naming an unknown candidate, or one candidate twice, raises
    ValueError.
    """
    names = check_candidates(candidates)
    if not isinstance(seats, int) or isinstance(seats, bool) or seats < 1:
        raise ValueError(f"seats must be a positive integer, not {seats!r}")
    affiliation_of = dict(affiliations or {})
    unknown = sorted(set(affiliation_of) - set(names))
    if unknown:
        raise ValueError(f"affiliation given for unknown candidate: {', '.join(unknown)}")
    sitting_by = dict(sitting or {})
    if any(not isinstance(n, int) or n < 0 for n in sitting_by.values()):
        raise ValueError("sitting directors must be counted by non-negative integers")
    if cap is not None and not (isinstance(cap, Fraction) and 0 < cap <= 1):
        raise ValueError(f"cap must be a Fraction in (0, 1], not {cap!r}")
    board_size = seats + sum(sitting_by.values())

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

    held = dict(sitting_by)  # seats each affiliation holds, sitting directors included

    def cap_allows(candidate: str, joining: int = 1) -> bool:
        affiliation = affiliation_of.get(candidate)
        if cap is None or affiliation is None:
            return True
        return Fraction(held.get(affiliation, 0) + joining, board_size) <= cap

    def order_matters(group: list[str]) -> bool:
        # Candidates the cap already forbids are skipped in any order, and seats only
        # fill up, so only the rest can compete: their order matters when they
        # cannot all be seated, for want of seats or because the cap forbids the set.
        seats_left = seats - len(elected)
        admissible = [name for name in group if cap_allows(name)]
        if seats_left == 0 or not admissible:
            return False
        if len(admissible) > seats_left:
            return True
        joining = Counter(affiliation_of.get(name) for name in admissible)
        return not all(
            cap_allows(name, joining[affiliation_of.get(name)]) for name in admissible
        )

    elected: list[str] = []
    skipped: list[str] = []
    steps: list[SeatingStep] = []
    lots: list[Lot] = []

    for votes in sorted(set(counts.values()), reverse=True):
        group = sorted(name for name in names if counts[name] == votes)
        by_lot = order_matters(group)
        if by_lot:
            lots.append(draw_lots(group, len(group)))
            group = list(lots[-1].drawn)
        for name in group:
            affiliation = affiliation_of.get(name)
            if len(elected) == seats:
                reason = "lost the drawing of lots" if by_lot else "all seats were filled"
                steps.append(SeatingStep(name, votes, affiliation, "not_elected", reason))
            elif not cap_allows(name):
                skipped.append(name)
                reason = (
                    f"{affiliation} would hold {held.get(affiliation, 0) + 1} of {board_size} "
                    f"seats, more than the cap of {cap}"
                )
                steps.append(SeatingStep(name, votes, affiliation, "skipped_for_cap", reason))
            else:
                elected.append(name)
                if affiliation is not None:
                    held[affiliation] = held.get(affiliation, 0) + 1
                reason = "won the drawing of lots" if by_lot else "seated in vote order"
                steps.append(SeatingStep(name, votes, affiliation, "elected", reason))

    return ApprovalResult(
        seats=seats,
        ballots=total,
        counts=counts,
        elected=elected,
        skipped_for_cap=skipped,
        tie_break=lots[-1].as_dict() if lots else None,
        lots=lots,
        steps=steps,
        cap=cap,
        board_size=board_size,
        sitting=sitting_by,
        unfilled=seats - len(elected),
    )
