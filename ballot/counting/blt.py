"""The BLT ballot format, read and written, so counts can be checked in other programs.

BLT is the format of ERS, OpenSTV, Droop and most STV counting programs::

    4 2                 candidates and seats
    -4                  optional: withdrawn candidates, as negative numbers
    3 1 3 4 0           a ballot: weight, preferences by candidate number, 0
    2 2=3 1 0           equal rankings joined by "="
    0                   end of ballots
    "Alice"             one quoted name per candidate, in number order
    "Bob"
    "Carol"
    "Dave"
    "An election"       optional title

Blank lines and ``#`` comments (outside quoted names) are ignored. A name is
everything between the first and the last double quote on its line, so names
may contain quotes but not line breaks.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from ballot.counting.ballots import RankedBallot, check_candidates


class BltError(ValueError):
    """A BLT file that cannot be read; the message names the line."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class BltElection:
    """An election as a BLT file holds it."""

    candidates: tuple[str, ...]
    seats: int
    ballots: tuple[RankedBallot, ...]
    withdrawn: frozenset[str] = frozenset()
    title: str | None = None


def parse_blt(text: str) -> BltElection:
    """Read a BLT file's text; a malformed file raises :class:`BltError` naming the line."""
    lines = [
        (number, _strip_comment(raw).strip())
        for number, raw in enumerate(text.splitlines(), start=1)
    ]
    lines = [(number, line) for number, line in lines if line]
    if not lines:
        raise BltError(1, "the file is empty")
    cursor = iter(lines)

    number, line = next(cursor)
    header = _integers(number, line)
    if len(header) != 2 or header[0] < 1 or header[1] < 1:
        raise BltError(number, "the first line must give the number of candidates and of seats")
    count, seats = header
    if seats > count:
        raise BltError(number, f"{seats} seats but only {count} candidates")

    withdrawn_numbers: set[int] = set()
    raw_ballots: list[tuple[int, int, list[list[int]]]] = []
    number, line = _next(cursor, number, "the ballots")
    if line.startswith("-"):
        for value in _integers(number, line):
            if value >= 0 or -value > count:
                raise BltError(number, f"withdrawn candidate {value} is not -1 to -{count}")
            withdrawn_numbers.add(-value)
        number, line = _next(cursor, number, "the ballots")
    while line != "0":
        raw_ballots.append(_ballot(number, line, count))
        number, line = _next(cursor, number, "the end-of-ballots line 0")

    names: list[str] = []
    for _ in range(count):
        number, line = _next(cursor, number, f"the names of all {count} candidates")
        names.append(_quoted(number, line))
    try:
        candidates = check_candidates(names)
    except ValueError as error:
        raise BltError(number, str(error)) from None

    title = None
    for number, line in cursor:
        if title is not None:
            raise BltError(number, "unexpected text after the title")
        title = _quoted(number, line)

    ballots = tuple(
        RankedBallot(
            ranking=tuple(frozenset(candidates[c - 1] for c in tier) for tier in tiers),
            weight=weight,
        )
        for _, weight, tiers in raw_ballots
    )
    return BltElection(
        candidates=candidates,
        seats=seats,
        ballots=ballots,
        withdrawn=frozenset(candidates[c - 1] for c in withdrawn_numbers),
        title=title,
    )


def format_blt(
    candidates: Iterable[str],
    seats: int,
    ballots: Iterable[RankedBallot],
    *,
    withdrawn: Iterable[str] = (),
    title: str | None = None,
) -> str:
    """Write an election as BLT text; :func:`parse_blt` reads it back unchanged.

    Names containing a line break cannot be written and raise ValueError, as
    do ballots naming an unknown candidate.
    """
    names = check_candidates(list(candidates))
    for text in (*names, *([title] if title is not None else [])):
        if "\n" in text or "\r" in text:
            raise ValueError(f"{text!r} contains a line break, which BLT cannot hold")
    number = {name: i for i, name in enumerate(names, start=1)}
    out = [f"{len(names)} {seats}"]
    gone = sorted(number[name] for name in withdrawn)
    if gone:
        out.append(" ".join(f"-{n}" for n in gone))
    for ballot in ballots:
        tiers = []
        for tier in ballot.ranking:
            unknown = sorted(set(tier) - set(number))
            if unknown:
                raise ValueError(f"ballot names unknown candidate {unknown[0]!r}")
            tiers.append("=".join(str(n) for n in sorted(number[name] for name in tier)))
        out.append(" ".join([str(ballot.weight), *tiers, "0"]))
    out.append("0")
    out.extend(f'"{name}"' for name in names)
    if title is not None:
        out.append(f'"{title}"')
    return "\n".join(out) + "\n"


def _strip_comment(line: str) -> str:
    """Drop a ``#`` comment, unless the ``#`` is inside a quoted name."""
    hash_at = line.find("#")
    if hash_at < 0 or line.lstrip().startswith('"'):
        return line
    return line[:hash_at]


def _next(cursor: Iterable[tuple[int, str]], last: int, expected: str) -> tuple[int, str]:
    for item in cursor:
        return item
    raise BltError(last, f"the file ends before {expected}")


def _integers(number: int, line: str) -> list[int]:
    try:
        return [int(token) for token in line.split()]
    except ValueError:
        raise BltError(number, f"expected whole numbers, found {line!r}") from None


def _ballot(number: int, line: str, count: int) -> tuple[int, int, list[list[int]]]:
    tokens = line.split()
    if tokens[-1] != "0":
        raise BltError(number, "a ballot line must end with 0")
    try:
        weight = int(tokens[0])
    except ValueError:
        raise BltError(number, f"ballot weight {tokens[0]!r} is not a whole number") from None
    if weight < 1:
        raise BltError(number, f"ballot weight {weight} is not positive")
    tiers: list[list[int]] = []
    seen: set[int] = set()
    for token in tokens[1:-1]:
        tier = []
        for part in token.split("="):
            if not part.isdigit() or not 1 <= int(part) <= count:
                raise BltError(number, f"{part!r} is not a candidate number from 1 to {count}")
            if int(part) in seen:
                raise BltError(number, f"candidate {part} is ranked twice")
            seen.add(int(part))
            tier.append(int(part))
        tiers.append(tier)
    return number, weight, tiers


def _quoted(number: int, line: str) -> str:
    if len(line) < 2 or not (line.startswith('"') and line.endswith('"')):
        raise BltError(number, f"expected a name in double quotes, found {line!r}")
    return line[1:-1]
