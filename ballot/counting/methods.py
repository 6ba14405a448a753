"""The Board election methods by name: one entry point for the service.

``count_board`` takes the stored form of a Board question's ballots (an
approval ballot is the list of approved names; a ranked ballot is the list of
names in order of preference; an empty list abstains) and returns the
method's report with the elected candidates.

The affiliation cap applies to every method alike (:mod:`ballot.counting.board`):
approval voting and the Schulze ranking pass over a candidate who would break
it for the next; STV and instant runoff exclude them, and their votes move on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from ballot.counting.approval import count_approval
from ballot.counting.ballots import StoredRankings
from ballot.counting.board import Affiliations, Continuing
from ballot.counting.irv import IrvResult, count_irv
from ballot.counting.schulze import SchulzeElection, elect_schulze
from ballot.counting.stv import StvResult, count_meek, count_scottish

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
    affiliations: Affiliations | None = None, cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None, continuing: Continuing | None = None,
) -> tuple[list[str], dict]:
    """Count a Board question; returns (elected in order, the method's full report).

    ``affiliations`` maps a candidate to their affiliations (a list, or a
    plain string for one); ``cap`` is the largest share of the whole Board one
    affiliation may hold; the continuing directors are given as ``continuing``
    (one list of affiliations per director) or, the older form, ``sitting``
    (affiliation -> number of directors). Every method applies them.
    """
    board: dict[str, Any] = {"affiliations": affiliations, "cap": cap, "sitting": sitting, "continuing": continuing}
    if method == APPROVAL:
        approval = count_approval(candidates, ballots, seats, **board)
        return list(approval.elected), approval.as_dict()
    ranked = StoredRankings(list(ballots))
    result: StvResult | IrvResult | SchulzeElection
    if method == "meek-stv":
        result = count_meek(candidates, ranked, seats, **board)
    elif method == "scottish-stv":
        result = count_scottish(candidates, ranked, seats, **board)
    elif method == "irv":
        if seats != 1:
            raise ValueError("instant runoff fills one seat")
        result = count_irv(candidates, ranked, **board)
    elif method == "schulze":
        result = elect_schulze(candidates, ranked, seats, **board)
    else:
        raise ValueError(f"unknown method {method!r}")
    return list(result.elected), result.as_dict()
