"""The counting engine on a large ranked election, beside pyrankvote's STV, from the stored ballots.

    .venv/bin/python bench/counting.py                       # 100,000 ballots, 20 candidates, 3 seats, 5 rounds
    .venv/bin/python bench/counting.py --seats 5 --rounds 7 --ballots 20000

Target (issue 12): Meek STV and Scottish STV faster than pyrankvote on 100,000
ranked ballots over 20 candidates for 3 seats, counted in alternating rounds,
the time to turn the stored ballots into the engine's input included.

Every run starts from the same ballots in the form the close hands them to the
count: the list of opened ballots' contents, ``{"answers": {"board": [names,
most preferred first]}}`` (``votes.lifecycle._count`` passes ``[b["contents"]
for b in ballots]`` to ``votes.tally.tally``, as ``ballot verify`` does from
the published record). Each run gets a fresh copy decoded from JSON, as the
close decodes each opened ballot, so that no run finds its names already
hashed by an earlier one.

- **ours**: ``votes.tally.tally(rules, questions, ballots, n)`` for a ranked
  Board vote whose rules ``votes.rules.build_rules`` made for the method: the
  function the close and ``ballot verify`` call. It takes each ballot's
  ranking, counts first preferences, and counts by the method
  (``counting.methods.count_board``: the rankings checked and merged into the
  engine's input, the count, its round-by-round report as JSON-safe values).
- **pyrankvote**: one ``Candidate`` per candidate, one ``Ballot`` per stored
  ballot (its names looked up among the candidates), then
  ``single_transferable_vote`` for the seats.

The rounds alternate: each runs pyrankvote, Meek STV, Scottish STV, Schulze
and instant runoff (one seat) in turn, so that a change in what else the
machine runs weighs on all of them alike. For each it prints the median and
the range of the wall-clock seconds, the median CPU time per 1,000 ballots,
and, for the STV methods, the ratio to pyrankvote: the median over the rounds
of the method's time over pyrankvote's in the same round, "met" when below 1.
Schulze and instant runoff are informative. It asserts nothing and exits 0.

``run()`` does the same for a caller (``bench/run.py``) and returns the rows;
importing this module runs nothing.

The ballots are generated deterministically (a seeded generator): candidate
popularity falls off with rank, each voter ranks a few candidates (one to all
twenty, three on average), drawing them in proportion to popularity
without replacement, as real preference ballots tend to look.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ballot.policy import load_policy
from ballot.votes import rules as vote_rules
from ballot.votes.tally import tally

SEED = 20250601
QUESTION = "board"  # the id build_questions gives a Board question
TARGET = "< pyrankvote"


@dataclass(frozen=True)
class Row:
    """One method's figures over the rounds.

    ``seconds`` is the median wall-clock time of a count, ``low`` and ``high``
    the fastest and slowest round; ``cpu_per_1000`` the median CPU seconds of
    this process per 1,000 ballots; ``ratio`` the median over the rounds of
    this method's time over pyrankvote's in the same round (``ratio_low`` and
    ``ratio_high`` its range), None for pyrankvote itself and for the
    informative rows; ``target`` is ``"< pyrankvote"`` or blank, and ``met``
    True or False where there is a target, None where there is none.
    ``elected`` lists who the last round elected; ``rounds`` every round's
    wall-clock seconds, in order.
    """

    key: str
    label: str
    target: str
    seconds: float
    low: float
    high: float
    cpu_per_1000: float
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    met: bool | None
    elected: tuple[str, ...]
    rounds: tuple[float, ...]


def generate(ballots: int, candidates: int, rng: random.Random) -> tuple[list[str], list[list[str]]]:
    """Candidate names and ``ballots`` rankings drawn from a popularity model."""
    names = [f"Candidate {i:02d}" for i in range(1, candidates + 1)]
    popularity = [1.0 / (i + 2) ** 0.8 for i in range(candidates)]
    rankings = []
    for _ in range(ballots):
        length = min(candidates, 1 + int(rng.expovariate(1 / 2.5)))
        pool = list(range(candidates))
        weights = list(popularity)
        ranking = []
        for _ in range(length):
            pick = rng.choices(range(len(pool)), weights)[0]
            ranking.append(names[pool.pop(pick)])
            weights.pop(pick)
        rankings.append(ranking)
    return names, rankings


def _ours(method: str, names: list[str], seats: int) -> Callable[[list[dict]], tuple[str, ...]]:
    """Count stored ballots as the close does, for a ranked Board vote by ``method``."""
    kind = vote_rules.get_kind("board")
    rules = vote_rules.build_rules(kind, load_policy("seed"), seats=seats, method=method, candidates=names)
    questions = vote_rules.build_questions(kind, [], names)

    def count(opened: list[dict]) -> tuple[str, ...]:
        return tuple(tally(rules, questions, opened, len(opened))["questions"][0]["elected"])

    return count


def _pyrankvote(names: list[str], seats: int) -> Callable[[list[dict]], tuple[str, ...]]:
    """Count stored ballots with pyrankvote's STV, its candidates and ballots built from them."""
    import pyrankvote

    def count(opened: list[dict]) -> tuple[str, ...]:
        candidates = {name: pyrankvote.Candidate(name) for name in names}
        ballots = [
            pyrankvote.Ballot(ranked_candidates=[candidates[name] for name in ballot["answers"][QUESTION]])
            for ballot in opened
        ]
        result = pyrankvote.single_transferable_vote(list(candidates.values()), ballots, seats)
        return tuple(c.name for c in result.get_winners())

    return count


def run(ballots: int = 100_000, candidates: int = 20, seats: int = 3, rounds: int = 5) -> list[Row]:
    """Count one generated election every way in ``rounds`` alternating rounds; the rows, pyrankvote's first.

    Rows, in order (``Row.key``): ``pyrankvote``, ``meek`` and ``scottish``
    (target: faster than pyrankvote), ``schulze`` and ``irv`` (informative; instant
    runoff fills one seat). Without pyrankvote installed, its row is left out
    and the STV rows have no ratio and ``met`` None.
    """
    names, rankings = generate(ballots, candidates, random.Random(SEED))
    return _count_every_way(names, rankings, seats, rounds)


def _count_every_way(names: list[str], rankings: list[list[str]], seats: int, rounds: int) -> list[Row]:
    if rounds < 1:
        raise ValueError("at least one round")
    ballots = len(rankings)
    stored = json.dumps([{"answers": {QUESTION: ranking}} for ranking in rankings])
    methods: list[tuple[str, str, str, Callable[[list[dict]], tuple[str, ...]]]] = []
    try:
        methods.append(("pyrankvote", "STV (pyrankvote, Ballot objects built)", "", _pyrankvote(names, seats)))
    except ImportError:
        pass
    methods += [
        ("meek", "Meek STV (votes.tally)", TARGET, _ours("meek-stv", names, seats)),
        ("scottish", "Scottish STV (votes.tally)", TARGET, _ours("scottish-stv", names, seats)),
        ("schulze", "Schulze (votes.tally)", "", _ours("schulze", names, seats)),
        ("irv", "instant runoff, 1 seat (votes.tally)", "", _ours("irv", names, 1)),
    ]
    walls: dict[str, list[float]] = {key: [] for key, *_ in methods}
    cpus: dict[str, list[float]] = {key: [] for key, *_ in methods}
    elected: dict[str, tuple[str, ...]] = {}
    for _ in range(rounds):
        for key, _label, _target, count in methods:
            opened = json.loads(stored)  # a fresh copy, as the close opens the ballots
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            elected[key] = count(opened)
            walls[key].append(time.perf_counter() - wall)
            cpus[key].append(time.process_time() - cpu)
            del opened

    rows = []
    for key, label, target, _count in methods:
        ratios = (
            [ours / theirs for ours, theirs in zip(walls[key], walls["pyrankvote"], strict=True)]
            if target and "pyrankvote" in walls else None
        )
        ratio = statistics.median(ratios) if ratios else None
        rows.append(Row(
            key=key, label=label, target=target,
            seconds=statistics.median(walls[key]), low=min(walls[key]), high=max(walls[key]),
            cpu_per_1000=statistics.median(cpus[key]) / ballots * 1000,
            ratio=ratio, ratio_low=min(ratios) if ratios else None, ratio_high=max(ratios) if ratios else None,
            met=None if ratio is None else ratio < 1,
            elected=elected[key], rounds=tuple(walls[key]),
        ))
    return rows


def print_rows(rows: list[Row]) -> None:
    """The table: each method's figures beside pyrankvote's, and whether the target is met."""
    width = max(len(row.label) for row in rows) + 2
    header = (f"{'method':<{width}}{'median s':>9}  {'range s':<13}{'cpu/1,000 ballots':>18}  "
              f"{'ratio to pyrankvote (range)':<29}{'target':<14}")
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f} ({row.ratio_low:.2f}-{row.ratio_high:.2f})"
        verdict = "" if row.met is None else "met" if row.met else "NOT MET"
        print(f"{row.label:<{width}}{row.seconds:>9.3f}  {f'{row.low:.3f}-{row.high:.3f}':<13}"
              f"{f'{row.cpu_per_1000 * 1000:.2f} ms':>18}  {ratio:<29}{f'{row.target} {verdict}'.strip():<14}")
    print()
    for row in rows:
        print(f"{row.label}: elected {', '.join(row.elected)}; rounds {' '.join(f'{s:.3f}' for s in row.rounds)}")


def main(argv: list[str] | None = None) -> int:
    """Generate the election, count it every way in alternating rounds, and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--seats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (at least 3 for the target)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    names, rankings = generate(args.ballots, args.candidates, random.Random(SEED))
    rows = _count_every_way(names, rankings, args.seats, args.rounds)
    distinct = len({tuple(r) for r in rankings})
    print(
        f"counting: {args.ballots:,} stored ballots ({distinct:,} distinct rankings, "
        f"{sum(map(len, rankings)) / len(rankings):.1f} preferences on average) over {args.candidates} "
        f"candidates, {args.seats} seats; seed {SEED}; {args.rounds} alternating rounds; {os.cpu_count()} cores; "
        f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    print_rows(rows)
    if args.rounds < 3:
        print("(fewer than 3 rounds: the target asks for at least 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
