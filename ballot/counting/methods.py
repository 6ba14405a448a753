"""The Board election methods by name: one entry point for the service.

``count_board`` takes the stored form of a Board question's ballots (an
approval ballot is the list of approved names; a ranked ballot is the list of
names in order of preference; an empty list abstains) and returns the
method's report with the elected candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

from ballot.counting.approval import count_approval
from ballot.counting.ballots import RankedBallot
from ballot.counting.irv import count_irv
from ballot.counting.schulze import count_schulze
from ballot.counting.stv import count_meek, count_scottish
from ballot.counting.ties import draw_lots

APPROVAL = "approval"
METHODS = {
    APPROVAL: "approval voting",
    "meek-stv": "single transferable vote, Meek's method",
    "scottish-stv": "single transferable vote, Scottish rules (SSI 2007/42)",
    "irv": "instant runoff",
    "schulze": "the Schulze method (Condorcet)",
}
RANKED = tuple(m for m in METHODS if m != APPROVAL)


def count_board(
    method: str, candidates: Sequence[str], ballots: Iterable[Sequence[str]], seats: int, *,
    affiliations: Mapping[str, str] | None = None, cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
) -> tuple[list[str], dict]:
    """Count a Board question; returns (elected in order, the method's full report)."""
    if method == APPROVAL:
        result = count_approval(candidates, ballots, seats, affiliations=affiliations, cap=cap, sitting=sitting)
        return list(result.elected), result.as_dict()
    ranked = [RankedBallot.of(*names) for names in ballots]
    if method == "meek-stv":
        result = count_meek(candidates, ranked, seats)
    elif method == "scottish-stv":
        result = count_scottish(candidates, ranked, seats)
    elif method == "irv":
        if seats != 1:
            raise ValueError("instant runoff fills one seat")
        result = count_irv(candidates, ranked)
    elif method == "schulze":
        return _schulze_seats(candidates, ranked, seats)
    else:
        raise ValueError(f"unknown method {method!r}")
    return list(result.elected), result.as_dict()


def _schulze_seats(candidates: Sequence[str], ballots: list[RankedBallot], seats: int) -> tuple[list[str], dict]:
    """The first ``seats`` of the Schulze ranking; a tier cut by the last seat is settled by lot."""
    result = count_schulze(candidates, ballots)
    report = result.as_dict()
    elected: list[str] = []
    for tier in result.ranking:
        room = seats - len(elected)
        if room <= 0:
            break
        if len(tier) <= room:
            elected.extend(tier)
        else:
            lot = draw_lots(tier, room)
            elected.extend(lot.drawn)
            report["tie_break"] = lot.as_dict()
    report["seats"] = seats
    report["elected"] = elected
    return elected, report
