"""Breaking ties by lot, reproducibly by anyone.

The procedure is the PSF's published one for Board elections, the
``break-ties.py`` script of the PSF's election repository (its last version,
"Create deterministic but unpredictable ordering", June 2017), run as
``python3 break-ties.py -c NAME -c NAME ... -n K``:

1. sort the tied names (Python's ``str`` order: by code point);
2. seed Python's generator with the sorted names joined with no separator,
   ``random.seed(''.join(names))`` (Python 3 seeds from the text's UTF-8 bytes
   followed by their SHA-512 digest);
3. print ``random.sample(names, K)``: ``K`` names, in the order drawn
   (``-n``, one when not given).

:func:`draw_lots` does exactly that on a private ``random.Random`` seeded the
same way (the module's functions are methods of one such instance, so the draw
is identical and no global state is touched). It depends only on the set of
tied names and on ``K``: neither the administrator nor the order of candidates
or ballots can change it, and nobody can re-roll it.

**Every draw is for exactly the number of places at stake, never a longer draw
cut short.** ``random.sample`` picks from a pool for few names and from a set
of indices for many, switching with both the number of names and ``K``; once
more than 21 names are tied, the first ``j`` names of a draw of ``K > j`` are in
general not what the script prints for ``-n j``. So the counting methods call
the draw thus:

- **seats for a tied group** (approval voting, a tier of the Schulze ranking):
  when the tied candidates cannot all be seated, for want of seats or because
  the affiliation cap will not let them all in, the lot draws
  ``K = min(seats left, tied candidates the cap still admits)`` of those the cap
  still admits. They are seated in the order drawn, each passed over if an
  earlier one drawn took their affiliation's last place. If that leaves seats,
  the tied candidates not drawn compete for them in a new draw among
  themselves (another run of the script, with their names only), and so on.
  Without a cap, one draw of ``-n`` seats left is the whole story.
- **one candidate** (single transferable vote and instant runoff): ``K = 1``;
  the name drawn is the candidate whose surplus is transferred first, the one
  excluded, or, under an affiliation cap, the one elected first among
  candidates with equal votes whom the cap will not let in together.

Each drawing is recorded with its ``command``: the script's command line that
prints its ``drawn`` names.
"""

import random
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

SCRIPT = "break-ties.py"


@dataclass(frozen=True)
class Lot:
    """One drawing of lots: who was tied (sorted), the seed used, and who was drawn, in order."""

    tied: tuple[str, ...]
    seed: str
    drawn: tuple[str, ...]

    @property
    def command(self) -> str:
        """The PSF script's command line that prints exactly ``drawn``.

        ``--candidate=NAME`` rather than ``-c NAME`` so that a name starting
        with a dash is still read as a name.
        """
        words = ["python3", SCRIPT, *(f"--candidate={name}" for name in self.tied), f"--number={len(self.drawn)}"]
        return shlex.join(words)

    def as_dict(self) -> dict[str, Any]:
        """The drawing as JSON-safe values, enough to repeat it with the PSF's script or by hand."""
        return {
            "tied": list(self.tied),
            "seed": self.seed,
            "drawn": list(self.drawn),
            "number": len(self.drawn),
            "recipe": "random.seed(''.join(sorted(tied))); random.sample(sorted(tied), number)",
            "command": self.command,
        }


def draw_lots(tied: Collection[str], k: int) -> Lot:
    """Draw ``k`` of the ``tied`` names: exactly what ``break-ties.py`` prints for them with ``-n k``.

    Draw the number of places at stake and no more: a longer draw cut short
    is not the script's answer once more than 21 names are tied (see the
    module docstring). A name given twice raises ValueError.
    """
    names = sorted(set(tied))
    if len(names) != len(tied):
        raise ValueError("a name appears twice among the tied candidates")
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= len(names):
        raise ValueError(f"cannot draw {k!r} of {len(names)} tied candidates")
    seed = "".join(names)
    drawn = random.Random(seed).sample(names, k)
    return Lot(tied=tuple(names), seed=seed, drawn=tuple(drawn))
