"""The ranked ballot shared by the ranked methods, and its preparation for counting."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class RankedBallot:
    """A ranked ballot: preference tiers, most preferred first, cast by ``weight`` voters.

    A tier holding several names ranks them equally. Candidates left off the
    ballot are ranked below every candidate on it.
    """

    ranking: tuple[frozenset[str], ...]
    weight: int = 1

    @classmethod
    def of(cls, *preferences: str | Collection[str], weight: int = 1) -> "RankedBallot":
        """Build a ballot from names, most preferred first; a collection of names is a tier.

        ``RankedBallot.of("A", ("B", "C"), "D")`` reads A > B = C > D.
        """
        tiers = tuple(
            frozenset([p]) if isinstance(p, str) else frozenset(p) for p in preferences
        )
        return cls(ranking=tiers, weight=weight)

    def names(self) -> list[str]:
        """Every name on the ballot, tier by tier (names within a tier sorted)."""
        return [name for tier in self.ranking for name in sorted(tier)]


@dataclass(frozen=True)
class CountableBallots:
    """Ballots ready to count: candidate indices, withdrawn names removed, duplicates merged.

    ``rankings`` holds one entry per distinct ranking (tiers of candidate
    indices into ``candidates``) with the total weight of the ballots that cast
    it; ``total`` is the number of ballots that rank at least one candidate
    still standing, and ``empty`` the number that rank none.
    """

    candidates: tuple[str, ...]
    rankings: tuple[tuple[tuple[frozenset[int], ...], int], ...]
    total: int
    empty: int


def check_candidates(candidates: Sequence[str]) -> tuple[str, ...]:
    """Return the candidate names as a tuple; refuse blanks, duplicates and a bare string."""
    if isinstance(candidates, str):
        raise ValueError("candidates must be a sequence of names, not one string")
    names = tuple(candidates)
    if not names:
        raise ValueError("there are no candidates")
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"candidate name {name!r} is not a non-blank string")
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"candidate named more than once: {', '.join(duplicates)}")
    return names


def prepare(
    candidates: Sequence[str],
    ballots: Iterable[RankedBallot],
    withdrawn: Collection[str] = (),
    *,
    strict: bool,
) -> CountableBallots:
    """Validate ballots against the candidates and merge identical rankings.

    A ballot naming an unknown candidate, naming one twice, or with a weight
    below one raises ValueError. Withdrawn candidates are removed from every
    ballot, as if they had never stood. With ``strict`` (the transfer methods,
    where a vote goes to one candidate at a time) a tier of equal rankings
    between candidates still standing raises ValueError.
    """
    names = check_candidates(candidates)
    index = {name: i for i, name in enumerate(names)}
    unknown_withdrawn = sorted(set(withdrawn) - set(names))
    if unknown_withdrawn:
        raise ValueError(f"withdrawn candidate is not standing: {', '.join(unknown_withdrawn)}")
    gone = {index[name] for name in withdrawn}

    merged: dict[tuple[frozenset[int], ...], int] = {}
    total = empty = 0
    for number, ballot in enumerate(ballots, start=1):
        if not isinstance(ballot.weight, int) or isinstance(ballot.weight, bool) or ballot.weight < 1:
            raise ValueError(f"ballot {number}: weight {ballot.weight!r} is not a positive integer")
        seen: set[str] = set()
        tiers: list[frozenset[int]] = []
        for tier in ballot.ranking:
            for name in tier:
                if name not in index:
                    raise ValueError(f"ballot {number}: unknown candidate {name!r}")
                if name in seen:
                    raise ValueError(f"ballot {number}: candidate {name!r} ranked twice")
                seen.add(name)
            standing = frozenset(index[name] for name in tier) - gone
            if not standing:
                continue
            if strict and len(standing) > 1:
                raise ValueError(
                    f"ballot {number}: equal rankings ({'='.join(sorted(tier))}) "
                    "cannot be counted by a transfer method"
                )
            tiers.append(standing)
        if not tiers:
            empty += ballot.weight
            continue
        key = tuple(tiers)
        merged[key] = merged.get(key, 0) + ballot.weight
        total += ballot.weight
    # Sorting makes everything downstream independent of the order ballots arrived in.
    rankings = tuple(sorted(merged.items(), key=lambda item: [sorted(t) for t in item[0]]))
    return CountableBallots(candidates=names, rankings=rankings, total=total, empty=empty)


def number_json(value: Fraction | int, places: int = 6) -> dict[str, str]:
    """Render an exact number for JSON: the fraction as text and a decimal rendering.

    The decimal is rounded half to even at ``places`` digits; the fraction is
    exact, so ``Fraction(d["fraction"])`` gives the value back.
    """
    exact = Fraction(value)
    scaled = round(exact * 10**places)
    sign = "-" if scaled < 0 else ""
    whole, part = divmod(abs(scaled), 10**places)
    decimal = f"{sign}{whole}.{part:0{places}d}" if places else f"{sign}{whole}"
    return {"fraction": str(exact), "decimal": decimal}
