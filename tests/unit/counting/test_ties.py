"""The public drawing of lots reproduces the PSF's published draws."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ties import draw_lots


def test_reproduces_the_psf_2017_board_election_draws() -> None:
    # Published by David Mertz on psf-community, 11 June 2017, as printed by the
    # PSF's break-ties.py for the tie between Trey Hunner and Paola Katherine Pacheco.
    lot = draw_lots(["Trey Hunner", "Paola Katherine Pacheco"], 1)
    assert lot.drawn == ("Trey Hunner",)
    assert lot.seed == "Paola Katherine PachecoTrey Hunner"

    three = draw_lots(["Paola Katherine Pacheco", "Trey Hunner", "Lorena Mesa"], 2)
    assert three.drawn == ("Paola Katherine Pacheco", "Lorena Mesa")


names = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=21, unique=True)


@settings(max_examples=60)
@given(names, st.data())
def test_follows_the_documented_recipe_and_ignores_input_order(tied: list[str], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(tied)))
    shuffled = data.draw(st.permutations(tied))
    lot = draw_lots(shuffled, k)
    ordered = sorted(tied)
    assert lot.drawn == tuple(random.Random("".join(ordered)).sample(ordered, k))
    # Up to 21 tied names, a full order starts with exactly the names a smaller draw picks.
    assert draw_lots(tied, len(tied)).drawn[:k] == lot.drawn
