"""The Board being elected: its size, its continuing directors and the affiliation cap.

The PSF's bylaws (``bylaws.md`` of the PSF's bylaws repository) say:

- 5.14: "a Board Member or prospective Board Member has an affiliation if that
  person is an employee, officer, or member of the Board of Directors of an
  entity; if that person has a significant consulting relationship with an
  entity; or that person owns at least 1% of the equity or debt, or
  derivatives thereof, of an entity." A person may so have several.
- 5.15: "No more than one quarter (1/4) of the members of the Board of
  Directors may share a common affiliation as defined in Section 5.14." and
  "A person who would bring the Board of Directors above the limit on
  co-affiliation is ineligible to be seated or appointed."
- 5.5: "Persons elected as at-large directors are considered to be seated in
  order from most votes received to the least. If a person who would otherwise
  be elected withdraws or becomes ineligible before that person is seated as a
  director, then the person receiving the next highest number of votes is
  selected."

Read here as follows. The cap is a share of the **whole Board**: the seats
being filled plus every continuing director, i.e. the Board as it stands once
the election fills its seats (the number of directors is fixed, 5.4), even
when the cap leaves a seat empty. Each affiliation counts towards its own
share: the continuing directors who hold it and the candidates seated so far.
A candidate may be seated only if, for **every** affiliation they hold,
``(seats it holds + 1) / board size <= cap``; otherwise they are passed over
and the next candidate is considered. Affiliations are compared as given
(exact strings): naming each by the group that controls it, as 5.15's
"common affiliation" asks, is for whoever records them.

Continuing directors are given in one of two forms:

- ``continuing``: one entry per continuing director, the collection of their
  affiliations (empty for none, a plain string for one). The Board's size is
  ``seats + len(continuing)``. Use it whenever a director has several
  affiliations.
- ``sitting`` (the older form): affiliation -> number of continuing directors
  holding it. The Board's size is ``seats + sum(sitting.values())``, which
  presumes one affiliation per director: list the unaffiliated under a key no
  candidate uses.

Candidates' affiliations are a mapping from name to a collection of
affiliations, or to a plain string for exactly one.
"""

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import floor
from typing import Any

from ballot.counting.ballots import number_json
from ballot.counting.ties import Lot, draw_lots

ELECTED, SKIPPED_FOR_CAP, NOT_ELECTED = "elected", "skipped_for_cap", "not_elected"

Affiliations = Mapping[str, str | Collection[str]]
Continuing = Sequence[str | Collection[str]]


@dataclass(frozen=True)
class Board:
    """The Board an election fills: seats, size, the cap and who is affiliated with what.

    ``affiliations`` maps each candidate holding any affiliation to them;
    ``sitting`` maps each affiliation to the continuing directors holding it.
    """

    seats: int
    size: int
    cap: Fraction | None
    affiliations: dict[str, frozenset[str]]
    sitting: dict[str, int]

    @property
    def continuing_directors(self) -> int:
        """The directors staying on, who fill the Board beside the seats being elected."""
        return self.size - self.seats

    @property
    def limit(self) -> int | None:
        """The most directors one affiliation may have on this Board, or None without a cap."""
        return None if self.cap is None else floor(self.cap * self.size)

    def affiliations_of(self, candidate: str) -> list[str]:
        """The candidate's affiliations, sorted; empty when they have none."""
        return sorted(self.affiliations.get(candidate, ()))

    def as_dict(self) -> dict[str, Any]:
        """The Board's figures as JSON-safe values, for every method's report."""
        return {
            "cap": None if self.cap is None else number_json(self.cap),
            "board_size": self.size,
            "continuing_directors": self.continuing_directors,
            "sitting": dict(self.sitting),
            "affiliations": {name: sorted(held) for name, held in self.affiliations.items()},
        }


def board_for(
    candidates: Collection[str],
    seats: int,
    *,
    affiliations: Affiliations | None = None,
    cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
    continuing: Continuing | None = None,
) -> Board:
    """Check and normalise the Board's description; see the module docstring for the forms.

    Raises ValueError for an affiliation given for someone who is not a
    candidate, a blank affiliation, a cap outside (0, 1], a negative count of
    sitting directors, or continuing directors given in both forms.
    """
    if not isinstance(seats, int) or isinstance(seats, bool) or seats < 1:
        raise ValueError(f"seats must be a positive integer, not {seats!r}")
    if cap is not None and not (isinstance(cap, Fraction) and 0 < cap <= 1):
        raise ValueError(f"cap must be a Fraction in (0, 1], not {cap!r}")
    given = dict(affiliations or {})
    unknown = sorted(set(given) - set(candidates))
    if unknown:
        raise ValueError(f"affiliation given for unknown candidate: {', '.join(unknown)}")
    held_by = {name: _affiliation_set(value, f"candidate {name!r}") for name, value in given.items()}
    if sitting is not None and continuing is not None:
        raise ValueError("give the continuing directors once: as continuing, or as sitting, not both")
    if continuing is not None:
        if isinstance(continuing, str):
            raise TypeError("continuing lists one entry per director, not one string")
        directors = [_affiliation_set(value, f"continuing director {n}") for n, value in enumerate(continuing, 1)]
        by_affiliation = dict(sorted(Counter(a for held in directors for a in held).items()))
        size = seats + len(directors)
    else:
        by_affiliation = dict(sitting or {})
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in by_affiliation.values()):
            raise ValueError("sitting directors must be counted by non-negative integers")
        size = seats + sum(by_affiliation.values())
    return Board(
        seats=seats,
        size=size,
        cap=cap,
        affiliations={name: held for name, held in held_by.items() if held},
        sitting=by_affiliation,
    )


def _affiliation_set(value: str | Collection[str], whose: str) -> frozenset[str]:
    """One affiliation as a plain string, or a collection of them, as a set."""
    names = [value] if isinstance(value, str) else list(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{whose}: affiliation {name!r} is not a non-blank string")
    return frozenset(names)


class AffiliationShares:
    """The seats each affiliation holds as a count goes on, continuing directors included."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.held: Counter[str] = Counter(board.sitting)

    def over_cap(self, *candidates: str) -> dict[str, int]:
        """The affiliations that seating all ``candidates`` now would put above the cap.

        Each maps to the seats it would then hold; empty when the cap allows
        them all (always, without a cap).
        """
        board = self.board
        if board.cap is None:
            return {}
        joining = Counter(a for name in candidates for a in board.affiliations.get(name, ()))
        return {
            affiliation: self.held[affiliation] + n
            for affiliation, n in sorted(joining.items())
            if Fraction(self.held[affiliation] + n, board.size) > board.cap
        }

    def allows(self, *candidates: str) -> bool:
        """Whether the cap lets every one of ``candidates`` be seated now, together."""
        return not self.over_cap(*candidates)

    def breach(self, candidate: str) -> str:
        """Why seating ``candidate`` now would break the cap, in words."""
        over = self.over_cap(candidate)
        board = self.board
        held = " and ".join(f"{affiliation} would hold {n} of {board.size} seats" for affiliation, n in over.items())
        return f"{held}, more than the cap of {board.cap} allows ({board.limit})"

    def seat(self, candidate: str) -> None:
        """Count a seated candidate towards each of their affiliations."""
        self.held.update(self.board.affiliations.get(candidate, ()))


@dataclass(frozen=True)
class SeatingDecision:
    """What became of one candidate, in the order candidates were considered.

    ``tier`` is the index, in the order given, of the group of candidates
    (equal votes, or equal rank) the candidate was considered with.
    """

    candidate: str
    tier: int
    decision: str  # ELECTED, SKIPPED_FOR_CAP or NOT_ELECTED
    reason: str


@dataclass(frozen=True)
class Seating:
    """Seats filled in order: who was elected, who the cap passed over, every decision and lot."""

    elected: list[str]
    skipped_for_cap: list[str]
    decisions: list[SeatingDecision]
    lots: list[Lot]


def seat_in_order(tiers: Sequence[Collection[str]], board: Board, *, in_order: str) -> Seating:
    """Fill the Board's seats from ``tiers``, best first, passing over those the cap forbids.

    Candidates in one tier are equal (same votes, same rank). When a tier
    cannot be seated whole, for want of seats or because the cap will not let
    all of it in, lots are drawn as :mod:`ballot.counting.ties` describes:
    ``min(seats left, candidates the cap admits)`` of them, seated in the order
    drawn, then a new draw among the rest if seats remain. ``in_order`` is the
    reason given for a candidate seated without a lot (e.g. "seated in vote
    order").
    """
    shares = AffiliationShares(board)
    elected: list[str] = []
    skipped: list[str] = []
    decisions: list[SeatingDecision] = []
    lots: list[Lot] = []

    def decide(name: str, tier: int, decision: str, reason: str) -> None:
        if decision == ELECTED:
            elected.append(name)
            shares.seat(name)
        elif decision == SKIPPED_FOR_CAP:
            skipped.append(name)
        decisions.append(SeatingDecision(name, tier, decision, reason))

    for t, tier in enumerate(tiers):
        waiting = sorted(tier)
        drawn_before = False
        while waiting:
            seats_left = board.seats - len(elected)
            if seats_left == 0:
                reason = "lost the drawing of lots" if drawn_before else "all seats were filled"
                for name in waiting:
                    decide(name, t, NOT_ELECTED, reason)
                break
            # Seats only fill up, so whoever the cap forbids now is passed over whatever the order.
            admissible = []
            for name in waiting:
                if shares.allows(name):
                    admissible.append(name)
                else:
                    decide(name, t, SKIPPED_FOR_CAP, shares.breach(name))
            if len(admissible) <= seats_left and shares.allows(*admissible):
                reason = "seated after the drawing of lots" if drawn_before else in_order
                for name in admissible:
                    decide(name, t, ELECTED, reason)
                break
            lot = draw_lots(admissible, min(seats_left, len(admissible)))
            lots.append(lot)
            drawn_before = True
            for name in lot.drawn:
                if shares.allows(name):
                    decide(name, t, ELECTED, "won the drawing of lots")
                else:
                    decide(name, t, SKIPPED_FOR_CAP, shares.breach(name))
            waiting = [name for name in admissible if name not in lot.drawn]
    return Seating(elected=elected, skipped_for_cap=skipped, decisions=decisions, lots=lots)
