"""Breaking ties by lot, reproducibly by anyone.

The procedure is the PSF's published one for Board elections (the
``break-ties.py`` script of the PSF's election repository)::

    import random
    names = sorted(tied)                 # Python's str order (code points)
    random.seed("".join(names))          # the names joined with no separator
    random.sample(names, k)

Here the generator is a private ``random.Random`` instance seeded the same way,
so the draw is identical to the script's and no global state is touched. The
draw depends only on the set of tied names: neither the administrator nor the
order of candidates or ballots can change it, and nobody can re-roll it.
"""

import random
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lot:
    """One drawing of lots: who was tied, the seed used, and who was drawn, in order."""

    tied: tuple[str, ...]
    seed: str
    drawn: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The drawing as JSON-safe values, enough to repeat it by hand."""
        return {
            "tied": list(self.tied),
            "seed": self.seed,
            "drawn": list(self.drawn),
            "recipe": "random.seed(''.join(sorted(tied))); random.sample(sorted(tied), len(drawn))",
        }


def draw_lots(tied: Collection[str], k: int) -> Lot:
    """Draw ``k`` of the ``tied`` names by the PSF's public procedure.

    With ``k == len(tied)`` the draw is a full order of the tied names. For up to
    21 tied names ``random.sample`` picks by the same sequence of draws whatever
    ``k`` is, so the first ``j`` names of a full order are exactly what the PSF
    script prints for ``-n j``.
    """
    names = sorted(set(tied))
    if len(names) != len(tied):
        raise ValueError("a name appears twice among the tied candidates")
    if not 0 <= k <= len(names):
        raise ValueError(f"cannot draw {k} of {len(names)} tied candidates")
    seed = "".join(names)
    drawn = random.Random(seed).sample(names, k)
    return Lot(tied=tuple(names), seed=seed, drawn=tuple(drawn))
