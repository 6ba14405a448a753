"""The ranked ballot shared by the ranked methods, the stored form of many, and their preparation for counting."""

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from typing import Any, Generic, TypeVar


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


Tier = str | Collection[str]
"""Names ranked equally: one name (the stored form) or a frozenset of them (a RankedBallot's tier)."""


@dataclass(frozen=True)
class StoredRankings:
    """Ranked ballots in the form the service stores them: one list of names per ballot, most preferred first.

    The ranked methods take this wherever they take RankedBallots, and count it
    exactly as ``[RankedBallot.of(*names) for names in rankings]`` (a
    collection of names in a list is a tier): each list is one ballot, and a
    refused ballot is named by its place in ``rankings``. Identical lists are
    merged before anything else is built, so preparing a large election costs
    its distinct rankings, not an object per ballot.
    """

    rankings: Sequence[Sequence[Tier]]


Ballots = Iterable[RankedBallot] | StoredRankings
"""What the ranked methods count: RankedBallots, or the stored form."""

Preference = TypeVar("Preference", int, tuple[int, ...])


@dataclass(frozen=True)
class CountableBallots(Generic[Preference]):
    """Ballots ready to count: candidate indices, withdrawn names removed, duplicates merged.

    ``rankings`` holds one entry per distinct ranking, with the total weight of
    the ballots that cast it. A ranking is a tuple of candidate indices into
    ``candidates`` (from :func:`prepare_strict`) or of tiers, each a sorted
    tuple of indices (from :func:`prepare_ranked`). ``total`` is the number of
    ballots that rank at least one candidate still standing, and ``empty`` the
    number that rank none.
    """

    candidates: tuple[str, ...]
    rankings: tuple[tuple[tuple[Preference, ...], int], ...]
    total: int
    empty: int


def check_candidates(candidates: Sequence[str]) -> tuple[str, ...]:
    """Return the candidate names as a tuple; refuse blanks, duplicates and a bare string."""
    if isinstance(candidates, str):
        raise TypeError("candidates must be a sequence of names, not one string")
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


def prepare_strict(
    candidates: Sequence[str],
    ballots: Ballots,
    withdrawn: Collection[str] = (),
) -> CountableBallots[int]:
    """Ballots for a transfer method, where a vote goes to one candidate at a time.

    As :func:`prepare_ranked`, and a tier of equal rankings between candidates
    still standing raises ValueError.
    """
    return _prepare(candidates, ballots, withdrawn, strict=True)


def prepare_ranked(
    candidates: Sequence[str],
    ballots: Ballots,
    withdrawn: Collection[str] = (),
) -> CountableBallots[tuple[int, ...]]:
    """Validate ballots against the candidates and merge identical rankings.

    A ballot naming an unknown candidate, naming one twice, or with a weight
    below one raises ValueError. Withdrawn candidates are removed from every
    ballot, as if they had never stood. Every count built on this adds up
    integers, so the order of the merged rankings never changes a result.
    """
    return _prepare(candidates, ballots, withdrawn, strict=False)


def _prepare(
    candidates: Sequence[str],
    ballots: Ballots,
    withdrawn: Collection[str],
    *,
    strict: bool,
) -> CountableBallots[Any]:
    names = check_candidates(candidates)
    index = {name: i for i, name in enumerate(names)}
    unknown_withdrawn = sorted(set(withdrawn) - set(names))
    if unknown_withdrawn:
        raise ValueError(f"withdrawn candidate is not standing: {', '.join(unknown_withdrawn)}")
    gone = {index[name] for name in withdrawn}

    # Real elections repeat rankings a great deal: merge first (at C speed where the
    # weights allow), then check each distinct ranking once. A tier is a name, or a
    # frozenset of names (from a RankedBallot, or a collection of names in the stored form).
    rankings: Sequence[Sequence[Tier]]
    tally: dict[tuple[Tier, ...], int]
    if isinstance(ballots, StoredRankings):
        rankings, tally = _merge_stored(ballots.rankings)
    else:
        cast = list(ballots)
        rankings = ranked = [ballot.ranking for ballot in cast]
        weights = [ballot.weight for ballot in cast]
        if set(map(type, weights)) - {int} or (weights and min(weights) < 1):
            number, weight = next((n, w) for n, w in enumerate(weights, 1) if type(w) is not int or w < 1)
            raise ValueError(f"ballot {number}: weight {weight!r} is not a positive integer")
        if not weights or max(weights) == 1:
            tally = Counter(ranked)
        else:
            tally = {}
            for tiers, weight in zip(ranked, weights, strict=True):
                tally[tiers] = tally.get(tiers, 0) + weight

    # Distinct tiers are fewer still (mostly one name each): each is checked and
    # resolved the first time a ranking holds it, to None when every name in it
    # has withdrawn.
    class Resolved(dict):
        def __missing__(self, tier: Tier) -> Any:
            names_in_tier = _names_in(tier)
            unknown = sorted(name for name in names_in_tier if name not in index)
            if unknown:
                raise _refusal(rankings, tier, f"unknown candidate {unknown[0]!r}")
            standing = tuple(sorted(index[name] for name in names_in_tier if index[name] not in gone))
            if strict and len(standing) > 1:
                raise _refusal(
                    rankings, tier,
                    f"equal rankings ({'='.join(sorted(names_in_tier))}) cannot be counted by a transfer method",
                )
            self[tier] = resolved = (standing[0] if strict else standing) if standing else None
            return resolved

    resolved = Resolved()
    resolve = resolved.__getitem__
    if not gone:
        # Distinct rankings resolve to distinct keys: nothing to merge.
        merged = {tuple(map(resolve, ranking)): weight for ranking, weight in tally.items()}
        empty = merged.pop((), 0)
    else:
        merged, empty = {}, 0
        for ranking, weight in tally.items():
            key = tuple(p for p in map(resolve, ranking) if p is not None)
            if key:
                merged[key] = merged.get(key, 0) + weight
            else:
                empty += weight
    total = sum(merged.values())

    # A name ranked twice: with one name to a tier (as nearly always), two equal tiers.
    if all(type(tier) is str or len(tier) == 1 for tier in resolved):
        twice = [ranking for ranking in tally if len(set(ranking)) != len(ranking)]
    else:
        twice = [ranking for ranking in tally if len(frozenset().union(*ranking)) != sum(map(len, ranking))]
    if twice:
        number, first = next((n, r) for n, r in enumerate(map(tuple, rankings), 1) if r in twice)
        name = next(name for name, n in Counter(chain.from_iterable(map(_names_in, first))).items() if n > 1)
        raise ValueError(f"ballot {number}: candidate {name!r} ranked twice")

    return CountableBallots(candidates=names, rankings=tuple(merged.items()), total=total, empty=empty)


def _merge_stored(stored: Sequence[Sequence[Tier]]) -> tuple[Sequence[Sequence[Tier]], dict[tuple[Tier, ...], int]]:
    """The stored rankings as tiers (for naming a ballot), and each distinct ranking with its number of ballots.

    Lists of names are counted as they are; should any list hold a collection
    of names, every ranking is made into RankedBallot's tiers instead.
    """
    try:
        tally = Counter(map(tuple, stored))
        plain = all(type(p) is str for p in set(chain.from_iterable(tally)))
    except TypeError:  # a tier given as a list
        plain = False
    if plain:
        return stored, tally
    rankings: list[tuple[Tier, ...]] = [RankedBallot.of(*names).ranking for names in stored]
    return rankings, Counter(rankings)


def _names_in(tier: Tier) -> Collection[str]:
    """The names a tier ranks equally: one name, or several."""
    return (tier,) if type(tier) is str else tier


def _refusal(rankings: Sequence[Sequence[Tier]], tier: Tier, problem: str) -> ValueError:
    """The error for a tier no ballot may hold, naming the first ballot that holds it."""
    number = next(n for n, ranking in enumerate(rankings, 1) if tier in ranking)
    return ValueError(f"ballot {number}: {problem}")


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
