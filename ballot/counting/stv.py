"""Single transferable vote: Meek STV and Scottish STV, with a round-by-round report.

Both methods count strict rankings (a tier of equal rankings raises
ValueError) and take withdrawn candidates, who are removed from every ballot
as if they had never stood. Neither uses floats.

**Scottish STV** follows rules 45 to 52 of Schedule 1 to the Scottish Local
Government Elections Order 2007 (SSI 2007/42): the quota is
``floor(ballots / (seats + 1)) + 1``; every stage transfers either the largest
surplus or the papers of the candidate with the fewest votes; a transferred
paper's value is ``surplus * value / votes`` to five decimal places, the
remainder ignored; candidates reaching the quota are elected and take no more
papers; when the continuing candidates are no more than the seats left they
are all elected and nothing more is transferred. Arithmetic is on integers
counting hundred-thousandths of a vote. A tie (equal surpluses, or equal
lowest votes) goes to the most recent preceding stage at which the tied
candidates' votes differed (keeping those with the highest, resp. lowest,
votes there and looking further back if several remain), then to the drawing
of lots of :mod:`ballot.counting.ties`.

**Meek STV** is the Proportional Representation Foundation's Meek reference
rule, the algorithm New Zealand prescribes for its STV local elections and the
one OpenSTV and Droop call Meek: fixed-point arithmetic to nine decimal places
(integers counting billionths), keep factors and votes rounded up as the rule
says, quota ``floor(votes / (seats + 1))`` plus one billionth, iteration until
the total surplus is below 0.000001 or stops falling, then the lowest hopeful
is defeated; every hopeful whose vote is within the total surplus of the lowest
is tied with it, and the tie is broken by the drawing of lots.

**The affiliation cap** (:mod:`ballot.counting.board`), for either method: a
candidate whose election would put any of their affiliations above the cap of
the whole Board (the seats and the continuing directors) is never elected. At
the start (given the continuing directors) and after every election, while
seats remain, every continuing candidate whose election would now break the
cap is excluded at once, in a stage of its own (action ``cap_exclusion``,
each with the reason in ``excluded_for_cap``), before any surplus is
transferred; their papers move on as for any exclusion. Candidates reaching
the quota in the same stage are elected in order of votes; where equal votes
meet the cap (the cap will not let them all in), the tie is broken as the
method breaks ties (Scottish: earlier stages, then lot; Meek: lot) and
recorded in ``election_ties``. When the continuing candidates are no more than
the seats left, they are elected in the same order, and any the cap then
forbids is excluded and their seat left empty.
"""

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from ballot.counting.ballots import (
    Ballots,
    CountableBallots,
    number_json,
    prepare_strict,
)
from ballot.counting.board import Affiliations, AffiliationShares, Board, Continuing, board_for
from ballot.counting.ties import draw_lots

SCOTTISH_SCALE = 10**5  # SSI 2007/42 rule 48(3): five decimal places
MEEK_SCALE = 10**9  # the Meek reference rule: nine decimal places
MEEK_OMEGA = MEEK_SCALE // 10**6  # iteration stops when the surplus is below 0.000001


@dataclass(frozen=True)
class StvRound:
    """One stage of an STV count and the figures at its end.

    ``votes`` holds every standing candidate's votes after the stage (elected
    candidates at their final value, excluded ones at zero); ``transfers`` the
    change in each candidate's votes during the stage; ``non_transferable``
    the value of the papers that have run out of preferences so far, and
    ``lost_to_rounding`` the value the prescribed rounding has dropped so far,
    so that votes, non-transferable and lost add up to the ballots counted.
    ``elected`` and ``excluded`` name the
    candidates who reached that state in this stage; ``excluded_for_cap`` maps
    those the affiliation cap excluded to the reason, and ``election_ties``
    lists the ties broken to decide who of several candidates with equal
    votes, whom the cap would not let in together, was elected first.
    ``keep_factors`` and ``iterations`` are Meek's; ``surplus`` is the surplus
    transferred (Scottish) or the total surplus left at the end of the
    iteration (Meek).
    """

    number: int
    action: str
    subject: str | None
    quota: Fraction
    votes: dict[str, Fraction]
    transfers: dict[str, Fraction]
    non_transferable: Fraction
    lost_to_rounding: Fraction
    elected: list[str]
    excluded: list[str]
    surplus: Fraction | None = None
    keep_factors: dict[str, Fraction] | None = None
    iterations: int | None = None
    tie_break: dict[str, Any] | None = None
    note: str = ""
    excluded_for_cap: dict[str, str] = field(default_factory=dict)
    election_ties: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, places: int) -> dict[str, Any]:
        """The round as JSON-safe values; decimals rendered to ``places`` digits."""

        def num(value: Fraction) -> dict[str, str]:
            return number_json(value, places)

        return {
            "number": self.number,
            "action": self.action,
            "subject": self.subject,
            "quota": num(self.quota),
            "votes": {name: num(v) for name, v in self.votes.items()},
            "transfers": {name: num(v) for name, v in self.transfers.items()},
            "non_transferable": num(self.non_transferable),
            "lost_to_rounding": num(self.lost_to_rounding),
            "elected": list(self.elected),
            "excluded": list(self.excluded),
            "excluded_for_cap": dict(self.excluded_for_cap),
            "surplus": None if self.surplus is None else num(self.surplus),
            "keep_factors": None
            if self.keep_factors is None
            else {name: num(v) for name, v in self.keep_factors.items()},
            "iterations": self.iterations,
            "tie_break": self.tie_break,
            "election_ties": list(self.election_ties),
            "note": self.note,
        }


@dataclass(frozen=True)
class StvResult:
    """The full STV count: who was elected, in order, and every round.

    Fewer than ``seats`` are elected only when the affiliation cap left seats
    empty.
    """

    method: str
    seats: int
    candidates: tuple[str, ...]
    withdrawn: tuple[str, ...]
    ballots: int
    empty_ballots: int
    quota: Fraction
    elected: list[str]
    rounds: list[StvRound]
    places: int
    board: Board

    def as_dict(self) -> dict[str, Any]:
        """The whole count as JSON-safe values, for the results page and the published record."""
        return {
            "method": self.method,
            "seats": self.seats,
            "candidates": list(self.candidates),
            "withdrawn": list(self.withdrawn),
            "ballots": self.ballots,
            "empty_ballots": self.empty_ballots,
            "quota": number_json(self.quota, self.places),
            "elected": list(self.elected),
            "unfilled": self.seats - len(self.elected),
            **self.board.as_dict(),
            "rounds": [r.as_dict(self.places) for r in self.rounds],
        }


def count_scottish(
    candidates: Sequence[str],
    ballots: Ballots,
    seats: int,
    *,
    withdrawn: Collection[str] = (),
    affiliations: Affiliations | None = None,
    cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
    continuing: Continuing | None = None,
) -> StvResult:
    """Count by Scottish STV (SSI 2007/42, rules 45 to 52); see the module docstring.

    The affiliation cap and the continuing directors are given as to
    :func:`ballot.counting.approval.count_approval`.
    """
    prepared = prepare_strict(candidates, ballots, withdrawn)
    board = board_for(
        prepared.candidates, seats, affiliations=affiliations, cap=cap, sitting=sitting, continuing=continuing
    )
    return _ScottishCount(prepared, board, withdrawn).run()


def count_meek(
    candidates: Sequence[str],
    ballots: Ballots,
    seats: int,
    *,
    withdrawn: Collection[str] = (),
    affiliations: Affiliations | None = None,
    cap: Fraction | None = None,
    sitting: Mapping[str, int] | None = None,
    continuing: Continuing | None = None,
) -> StvResult:
    """Count by Meek STV (the PR Foundation's Meek reference rule); see the module docstring.

    The affiliation cap and the continuing directors are given as to
    :func:`ballot.counting.approval.count_approval`.
    """
    prepared = prepare_strict(candidates, ballots, withdrawn)
    board = board_for(
        prepared.candidates, seats, affiliations=affiliations, cap=cap, sitting=sitting, continuing=continuing
    )
    return _MeekCount(prepared, board, withdrawn).run()


def _elect_in_turn(
    group: Collection[int],
    votes: Sequence[int],
    names: tuple[str, ...],
    shares: AffiliationShares,
    break_tie: Callable[[list[int]], tuple[int, dict[str, Any] | None]],
) -> tuple[list[int], list[int], list[dict[str, Any]]]:
    """Elect ``group`` in order of votes (then name), passing over those the cap forbids at their turn.

    Among candidates with equal votes the order matters only when the cap
    will not let them all in; then ``break_tie`` picks who goes first.
    Returns the candidates elected, in order, those passed over, and the
    ties broken.
    """
    waiting = sorted(group, key=lambda c: (-votes[c], names[c]))
    elected: list[int] = []
    passed_over: list[int] = []
    ties: list[dict[str, Any]] = []
    while waiting:
        top = votes[waiting[0]]
        tied = [c for c in waiting if votes[c] == top and shares.allows(names[c])]
        chosen = waiting[0]
        if len(tied) > 1 and not shares.allows(*(names[c] for c in tied)):
            chosen, tie = break_tie(tied)
            if tie is not None:
                ties.append(tie)
        waiting.remove(chosen)
        if shares.allows(names[chosen]):
            shares.seat(names[chosen])
            elected.append(chosen)
        else:
            passed_over.append(chosen)
    return elected, passed_over, ties


def _capped(candidates: Iterable[int], names: tuple[str, ...], shares: AffiliationShares) -> list[int]:
    """The candidates whose election would now break the cap, by name (not by the order listed)."""
    return sorted((c for c in candidates if not shares.allows(names[c])), key=names.__getitem__)


def _passed_over_note(passed_over: list[int], names: tuple[str, ...], shares: AffiliationShares) -> str:
    """Words for candidates who reached election but whom the cap passed over."""
    return "; ".join(f"{names[c]} is not elected: {shares.breach(names[c])}" for c in passed_over)


def _break_tie(
    tied: list[int],
    history: list[list[int]],
    names: tuple[str, ...],
    *,
    highest: bool,
) -> tuple[int, dict[str, Any] | None]:
    """Pick one of ``tied`` by earlier stages, then by lot (SSI 2007/42 rules 49 and 51).

    ``history`` holds the votes at the end of each stage, the current stage
    last. Walking back from the most recent preceding stage, the first stage
    at which the tied candidates' votes differ keeps those with the highest
    (or lowest) votes; if several remain, earlier stages decide among them.
    """
    if len(tied) == 1:
        return tied[0], None
    group = list(tied)
    for stage in range(len(history) - 2, -1, -1):
        values = {c: history[stage][c] for c in group}
        if len(set(values.values())) > 1:
            target = max(values.values()) if highest else min(values.values())
            group = [c for c in group if values[c] == target]
            if len(group) == 1:
                return group[0], {
                    "tied": sorted(names[c] for c in tied),
                    "resolved_by": f"votes at stage {stage + 1}",
                    "chosen": names[group[0]],
                    "lot": None,
                }
    lot = draw_lots([names[c] for c in group], 1)
    chosen = names.index(lot.drawn[0])
    return chosen, {
        "tied": sorted(names[c] for c in tied),
        "resolved_by": "lot",
        "chosen": lot.drawn[0],
        "lot": lot.as_dict(),
    }


_CONTINUING, _ELECTED, _EXCLUDED, _WITHDRAWN = "continuing", "elected", "excluded", "withdrawn"


@dataclass(frozen=True)
class _Settled:
    """Where one Meek iteration (rule B.2) stopped.

    ``elected`` is empty when it settled without electing; ``passed_over``
    holds those who reached the quota but whom the cap passed over, and
    ``ties`` the ties broken among them.
    """

    elected: list[int]
    passed_over: list[int]
    ties: list[dict[str, Any]]
    votes: list[int]
    exhausted: int
    quota: int
    surplus: int
    iterations: int


class _ScottishCount:
    """The state of one Scottish STV count; ``run`` performs it once."""

    def __init__(self, prepared: CountableBallots[int], board: Board, withdrawn: Collection[str]) -> None:
        self.names = prepared.candidates
        self.prepared = prepared
        self.board = board
        self.seats = board.seats
        self.shares = AffiliationShares(board)
        self.withdrawn = set(withdrawn)
        self.orders = [ranking for ranking, _ in prepared.rankings]
        self.weights = [weight for _, weight in prepared.rankings]
        n = len(self.names)
        self.state = [_WITHDRAWN if name in self.withdrawn else _CONTINUING for name in self.names]
        # Each candidate's papers, in parcels of (ranking, position, value, number of papers): the papers
        # of one ranking (an index into orders) that reached its preference at that position at that value.
        self.parcels: list[list[tuple[int, int, int, int]]] = [[] for _ in range(n)]
        self.votes = [0] * n
        self.non_transferable = 0
        self.lost_to_rounding = 0
        self.quota = (prepared.total // (self.seats + 1) + 1) * SCOTTISH_SCALE
        self.elected: list[int] = []
        self.history: list[list[int]] = []
        self.rounds: list[StvRound] = []

    def run(self) -> StvResult:
        self._pass_on((r, -1, SCOTTISH_SCALE, weight) for r, weight in enumerate(self.weights))
        self._finish_stage("first_preferences", None, [0] * len(self.names), None, None)
        while self.seats > len(self.elected):
            before = list(self.votes)
            capped = _capped(self._continuing(), self.names, self.shares)
            if capped:
                reasons = {self.names[c]: self.shares.breach(self.names[c]) for c in capped}
                self._exclude(*capped)
                self._finish_stage("cap_exclusion", None, before, None, None, excluded=capped, reasons=reasons)
                continue
            if len(self._continuing()) <= self.seats - len(self.elected):
                break
            surplus_holders = [c for c in self.elected if self.votes[c] > self.quota]
            if surplus_holders:
                top = max(self.votes[c] for c in surplus_holders)
                tied = [c for c in surplus_holders if self.votes[c] == top]
                chosen, tie = _break_tie(tied, self.history, self.names, highest=True)
                surplus = self._transfer_surplus(chosen)
                self._finish_stage("surplus", chosen, before, tie, surplus)
            else:
                continuing = self._continuing()
                low = min(self.votes[c] for c in continuing)
                tied = [c for c in continuing if self.votes[c] == low]
                chosen, tie = _break_tie(tied, self.history, self.names, highest=False)
                self._exclude(chosen)
                self._finish_stage("exclusion", chosen, before, tie, None, excluded=[chosen])
        self._fill_last_vacancies()
        return StvResult(
            method="scottish",
            seats=self.seats,
            candidates=self.names,
            withdrawn=tuple(sorted(self.withdrawn)),
            ballots=self.prepared.total,
            empty_ballots=self.prepared.empty,
            quota=Fraction(self.quota, SCOTTISH_SCALE),
            elected=[self.names[c] for c in self.elected],
            rounds=self.rounds,
            places=5,
            board=self.board,
        )

    def _continuing(self) -> list[int]:
        return [c for c, s in enumerate(self.state) if s == _CONTINUING]

    def _pass_on(self, parcels: Iterable[tuple[int, int, int, int]]) -> None:
        """Send each parcel to its next continuing preference after its position, or out of the count."""
        orders, state, held, votes = self.orders, self.state, self.parcels, self.votes
        non_transferable = 0
        for r, position, value, papers in parcels:
            order = orders[r]
            at = position + 1
            end = len(order)
            while at < end and state[order[at]] != _CONTINUING:
                at += 1
            if at < end:
                held[order[at]].append((r, at, value, papers))
                votes[order[at]] += value * papers
            else:
                non_transferable += value * papers
        self.non_transferable += non_transferable

    def _transfer_surplus(self, candidate: int) -> int:
        """Rule 48: every paper moves on at surplus * value / votes, to 5 places, truncated."""
        total = self.votes[candidate]
        surplus = total - self.quota
        parcels, self.parcels[candidate] = self.parcels[candidate], []
        moving = [(r, position, surplus * value // total, papers) for r, position, value, papers in parcels]
        moved = sum(value * papers for _, _, value, papers in moving)
        self._pass_on(moving)
        # The candidate keeps exactly the quota; the fractions truncation ignored leave the count.
        self.lost_to_rounding += surplus - moved
        self.votes[candidate] = self.quota
        return surplus

    def _exclude(self, *candidates: int) -> None:
        """Rule 50: every paper moves on at the value it arrived with.

        Candidates excluded together all leave before any paper moves, so none
        of their papers goes from one to another.
        """
        for candidate in candidates:
            self.state[candidate] = _EXCLUDED
        for candidate in candidates:
            parcels, self.parcels[candidate] = self.parcels[candidate], []
            self._pass_on(parcels)
            self.votes[candidate] = 0

    def _break_tie_for_election(self, tied: list[int]) -> tuple[int, dict[str, Any] | None]:
        return _break_tie(tied, self.history, self.names, highest=True)

    def _finish_stage(
        self,
        action: str,
        subject: int | None,
        before: list[int],
        tie: dict[str, Any] | None,
        surplus: int | None,
        *,
        excluded: Sequence[int] = (),
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        """Elect everyone now at the quota (rule 47) whom the cap allows, and record the stage."""
        self.history.append(list(self.votes))
        # The quota exceeds ballots / (seats + 1), so never more reach it than seats remain.
        reaching = [c for c in self._continuing() if self.votes[c] >= self.quota]
        elected, passed_over, ties = _elect_in_turn(
            reaching, self.votes, self.names, self.shares, self._break_tie_for_election
        )
        for c in elected:
            self.state[c] = _ELECTED
            self.elected.append(c)
        self.rounds.append(
            StvRound(
                number=len(self.rounds) + 1,
                action=action,
                subject=None if subject is None else self.names[subject],
                quota=Fraction(self.quota, SCOTTISH_SCALE),
                votes=self._as_fractions(self.votes),
                transfers=self._as_fractions([a - b for a, b in zip(self.votes, before, strict=True)]),
                non_transferable=Fraction(self.non_transferable, SCOTTISH_SCALE),
                lost_to_rounding=Fraction(self.lost_to_rounding, SCOTTISH_SCALE),
                elected=[self.names[c] for c in elected],
                excluded=[self.names[c] for c in excluded],
                surplus=None if surplus is None else Fraction(surplus, SCOTTISH_SCALE),
                tie_break=tie,
                note=_passed_over_note(passed_over, self.names, self.shares),
                excluded_for_cap=dict(reasons or {}),
                election_ties=ties,
            )
        )

    def _fill_last_vacancies(self) -> None:
        """Rule 52: continuing candidates no more than the seats left are all elected, the cap permitting."""
        seats_left = self.seats - len(self.elected)
        continuing = self._continuing()
        if seats_left and continuing and len(continuing) <= seats_left:
            elected, passed_over, ties = _elect_in_turn(
                continuing, self.votes, self.names, self.shares, self._break_tie_for_election
            )
            for c in elected:
                self.state[c] = _ELECTED
                self.elected.append(c)
            reasons = {self.names[c]: self.shares.breach(self.names[c]) for c in passed_over}
            for c in passed_over:
                self.state[c] = _EXCLUDED
            last = self.rounds[-1]
            self.rounds[-1] = replace(
                last,
                elected=last.elected + [self.names[c] for c in elected],
                excluded=last.excluded + list(reasons),
                excluded_for_cap={**last.excluded_for_cap, **reasons},
                election_ties=last.election_ties + ties,
                note="; ".join(
                    filter(None, [last.note, "the continuing candidates fill the last vacancies (rule 52)"])
                ),
            )

    def _as_fractions(self, values: list[int]) -> dict[str, Fraction]:
        return {
            name: Fraction(values[c], SCOTTISH_SCALE)
            for c, name in enumerate(self.names)
            if self.state[c] != _WITHDRAWN
        }


class _MeekCount:
    """The state of one Meek count; ``run`` performs it once.

    A ballot's path through the count depends only on the elected candidates
    it ranks before its first hopeful, and on that hopeful: excluded candidates
    keep nothing and hopefuls keep everything. Ballots sharing that path are
    counted together, so an iteration costs the number of distinct paths, not
    of ballots; the paths change only when a candidate is elected or defeated.
    Then only the rankings waiting at that candidate move on, each from where
    it stood, and the paths they leave and join change by their ballots.
    """

    def __init__(self, prepared: CountableBallots[int], board: Board, withdrawn: Collection[str]) -> None:
        self.names = prepared.candidates
        self.prepared = prepared
        self.board = board
        self.seats = board.seats
        self.shares = AffiliationShares(board)
        self.withdrawn = set(withdrawn)
        n = len(self.names)
        self.state = [_WITHDRAWN if name in self.withdrawn else _CONTINUING for name in self.names]
        self.keep = [0 if s == _WITHDRAWN else MEEK_SCALE for s in self.state]
        self.elected: list[int] = []
        self.rounds: list[StvRound] = []
        self.orders = [ranking for ranking, _ in prepared.rankings]
        self.weights = [weight for _, weight in prepared.rankings]
        # Ballots by path: (the elected before the first hopeful, that hopeful or None) -> ballots.
        self.paths: dict[tuple[tuple[int, ...], int | None], int] = {}
        # By first hopeful, then by the elected before it: the rankings (indices into orders) waiting there.
        self.waiting: list[dict[tuple[int, ...], list[int]]] = [{} for _ in range(n)]
        # For each ranking, the place of its first hopeful (its length once none is left).
        self.position = [0] * len(self.orders)
        self._file((), range(len(self.orders)), 0)

    def run(self) -> StvResult:
        votes, exhausted = self._distribute()
        quota = self.prepared.total * MEEK_SCALE // (self.seats + 1) + 1
        self._record("first_preferences", votes, [0] * len(votes), exhausted, quota)
        previous = votes
        while self.seats > len(self.elected):
            hopeful = self._hopeful()
            capped = _capped(hopeful, self.names, self.shares)
            if capped:
                reasons = {self.names[c]: self.shares.breach(self.names[c]) for c in capped}
                self._exclude(*capped)
                # As for a defeat, the round shows the votes it was decided on; the next round moves them.
                self._record(
                    "cap_exclusion", votes, previous, exhausted, quota, excluded=capped, reasons=reasons
                )
                previous = votes
                continue
            if len(hopeful) <= self.seats - len(self.elected):
                break
            settled = self._iterate()
            votes, exhausted, quota, surplus = settled.votes, settled.exhausted, settled.quota, settled.surplus
            if settled.elected:
                self._record(
                    "election", votes, previous, exhausted, quota,
                    surplus=surplus, iterations=settled.iterations, elected=settled.elected,
                    ties=settled.ties, note=_passed_over_note(settled.passed_over, self.names, self.shares),
                )
                previous = votes
                continue
            low = min(votes[c] for c in hopeful)
            tied = [c for c in hopeful if votes[c] <= low + surplus]
            loser, tie = self._by_lot(tied) if len(tied) > 1 else (tied[0], None)
            self._exclude(loser)
            # The round shows the votes the defeat was decided on; the next round moves them.
            self._record(
                "exclusion", votes, previous, exhausted, quota,
                surplus=surplus, iterations=settled.iterations, subject=loser, excluded=[loser], tie=tie,
            )
            previous = votes
        self._complete()
        return StvResult(
            method="meek",
            seats=self.seats,
            candidates=self.names,
            withdrawn=tuple(sorted(self.withdrawn)),
            ballots=self.prepared.total,
            empty_ballots=self.prepared.empty,
            quota=self.rounds[-1].quota,
            elected=[self.names[c] for c in self.elected],
            rounds=self.rounds,
            places=9,
            board=self.board,
        )

    def _hopeful(self) -> list[int]:
        return [c for c, s in enumerate(self.state) if s == _CONTINUING]

    def _by_lot(self, tied: list[int]) -> tuple[int, dict[str, Any]]:
        """The Meek rule breaks every tie by lot: one name drawn among the tied."""
        lot = draw_lots([self.names[c] for c in tied], 1)
        return self.names.index(lot.drawn[0]), {
            "tied": sorted(self.names[c] for c in tied),
            "resolved_by": "lot",
            "chosen": lot.drawn[0],
            "lot": lot.as_dict(),
        }

    def _exclude(self, *candidates: int) -> None:
        """Defeat ``candidates`` together: they keep nothing from the next distribution on."""
        for c in candidates:
            self.state[c] = _EXCLUDED
            self.keep[c] = 0
        for c in candidates:
            self._advance(c)

    def _advance(self, candidate: int) -> None:
        """Move on the rankings whose first hopeful was ``candidate``, now elected or excluded."""
        waiting, self.waiting[candidate] = self.waiting[candidate], {}
        elected = self.state[candidate] == _ELECTED
        for prefix, rankings in waiting.items():
            del self.paths[prefix, candidate]
            self._file(prefix + (candidate,) if elected else prefix, rankings, 1)

    def _file(self, prefix: tuple[int, ...], rankings: Iterable[int], step: int) -> None:
        """File ``rankings`` under their first hopeful from ``step`` places after their position on.

        ``prefix`` holds the elected candidates they rank before that place.
        Excluded candidates are passed over (withdrawn ones are on no ranking);
        an elected one joins the prefix of the rankings that reach it.
        """
        orders, position, state = self.orders, self.position, self.state
        arrived: dict[int | None, list[int]] = {}  # by first hopeful, None for none left
        at_elected: dict[int, list[int]] = {}
        for r in rankings:
            order = orders[r]
            at = position[r] + step
            end = len(order)
            while at < end and state[order[at]] == _EXCLUDED:
                at += 1
            position[r] = at
            if at == end:
                hopeful = None
            elif state[order[at]] == _CONTINUING:
                hopeful = order[at]
            else:
                at_elected.setdefault(order[at], []).append(r)
                continue
            group = arrived.get(hopeful)
            if group is None:
                arrived[hopeful] = [r]
            else:
                group.append(r)
        weight = self.weights.__getitem__
        for hopeful, group in arrived.items():
            self.paths[prefix, hopeful] = self.paths.get((prefix, hopeful), 0) + sum(map(weight, group))
            if hopeful is not None:
                self.waiting[hopeful].setdefault(prefix, []).extend(group)
        for elected, group in at_elected.items():
            self._file(prefix + (elected,), group, 1)

    def _distribute(self) -> tuple[list[int], int]:
        """Rule B.2.a: each ballot leaves with each candidate its keep factor of what reaches them.

        Returns the votes and the value of the ballots that ran out of preferences.
        """
        votes = [0] * len(self.names)
        exhausted = 0
        keep = self.keep
        for (prefix, hopeful), papers in self.paths.items():
            weight = MEEK_SCALE
            for c in prefix:
                kept = -(-weight * keep[c] // MEEK_SCALE)  # rounded up, as the rule says
                votes[c] += kept * papers
                weight -= kept
                if weight <= 0:
                    break
            if weight > 0:
                if hopeful is None:
                    exhausted += weight * papers
                else:
                    votes[hopeful] += weight * papers
        return votes, exhausted

    def _iterate(self) -> _Settled:
        """Rule B.2: distribute, update the quota, elect, and adjust keep factors until settled."""
        last_surplus = self.prepared.total * MEEK_SCALE
        iterations = 0
        while True:
            iterations += 1
            votes, exhausted = self._distribute()
            counted = sum(v for c, v in enumerate(votes) if self.state[c] in (_CONTINUING, _ELECTED))
            quota = counted // (self.seats + 1) + 1
            reaching = [c for c in self._hopeful() if votes[c] >= quota]
            # No hopeful is capped when an iteration starts, so the first to reach the quota is elected.
            newly, passed_over, ties = _elect_in_turn(reaching, votes, self.names, self.shares, self._by_lot)
            for c in newly:
                self.state[c] = _ELECTED
                self.elected.append(c)
            surplus = max(0, sum(votes[c] - quota for c in self.elected))
            if newly:
                for c in newly:
                    self._advance(c)
                return _Settled(newly, passed_over, ties, votes, exhausted, quota, surplus, iterations)
            if surplus < MEEK_OMEGA or surplus >= last_surplus:
                return _Settled([], [], [], votes, exhausted, quota, surplus, iterations)
            last_surplus = surplus
            for c in self.elected:
                raised = -(-self.keep[c] * quota // MEEK_SCALE)
                self.keep[c] = -(-raised * MEEK_SCALE // votes[c])

    def _complete(self) -> None:
        """Rule C: hopefuls fill any seats left; otherwise they are defeated.

        The order does not matter unless the cap will not let them all in:
        then they are elected in order of their votes once the last round's
        defeats have moved on, ties by lot, and any the cap then forbids is
        defeated and their seat left empty.
        """
        hopeful = self._hopeful()
        if hopeful and len(self.elected) < self.seats:
            note = "the remaining hopefuls fill the seats left (rule C.1)"
            passed_over: list[int]
            ties: list[dict[str, Any]]
            if self.shares.allows(*(self.names[c] for c in hopeful)):
                elected, passed_over, ties = sorted(hopeful, key=lambda c: self.names[c]), [], []
            else:
                votes, _ = self._distribute()
                elected, passed_over, ties = _elect_in_turn(hopeful, votes, self.names, self.shares, self._by_lot)
                order = ", ".join(
                    f"{self.names[c]} {number_json(Fraction(votes[c], MEEK_SCALE), 9)['decimal']}"
                    for c in sorted(hopeful, key=lambda c: (-votes[c], self.names[c]))
                )
                note += f", in order of their votes after the last transfer ({order}) as the cap requires"
            for c in elected:
                self.state[c] = _ELECTED
                self.elected.append(c)
            reasons = {self.names[c]: self.shares.breach(self.names[c]) for c in passed_over}
            for c in passed_over:
                self.state[c] = _EXCLUDED
            last = self.rounds[-1]
            self.rounds[-1] = replace(
                last,
                elected=last.elected + [self.names[c] for c in elected],
                excluded=last.excluded + list(reasons),
                excluded_for_cap={**last.excluded_for_cap, **reasons},
                election_ties=last.election_ties + ties,
                note="; ".join(filter(None, [last.note, note])),
            )

    def _record(
        self,
        action: str,
        votes: list[int],
        previous: list[int],
        exhausted: int,
        quota: int,
        *,
        surplus: int | None = None,
        iterations: int | None = None,
        subject: int | None = None,
        elected: Sequence[int] = (),
        excluded: Sequence[int] = (),
        tie: dict[str, Any] | None = None,
        reasons: Mapping[str, str] | None = None,
        ties: Sequence[dict[str, Any]] = (),
        note: str = "",
    ) -> None:
        standing = [c for c, s in enumerate(self.state) if s != _WITHDRAWN]
        self.rounds.append(
            StvRound(
                number=len(self.rounds) + 1,
                action=action,
                subject=None if subject is None else self.names[subject],
                quota=Fraction(quota, MEEK_SCALE),
                votes={self.names[c]: Fraction(votes[c], MEEK_SCALE) for c in standing},
                transfers={self.names[c]: Fraction(votes[c] - previous[c], MEEK_SCALE) for c in standing},
                non_transferable=Fraction(exhausted, MEEK_SCALE),
                lost_to_rounding=Fraction(
                    self.prepared.total * MEEK_SCALE - sum(votes) - exhausted, MEEK_SCALE
                ),
                elected=[self.names[c] for c in elected],
                excluded=[self.names[c] for c in excluded],
                surplus=None if surplus is None else Fraction(surplus, MEEK_SCALE),
                keep_factors={self.names[c]: Fraction(self.keep[c], MEEK_SCALE) for c in standing},
                iterations=iterations,
                tie_break=tie,
                note=note,
                excluded_for_cap=dict(reasons or {}),
                election_ties=list(ties),
            )
        )
