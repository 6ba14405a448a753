"""The public drawing of lots is exactly the PSF's ``break-ties.py``, for any number of names and seats."""

import json
import random
import shlex
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ties import draw_lots

# The procedure of the PSF's break-ties.py (its last version, June 2017), restated in our
# own words: sort the names given with -c, seed the *module's* generator with them joined by
# nothing, print a sample of -n of them. It uses the global random state, so it runs in a
# clean interpreter of its own (-I: no site packages, no PYTHON* variables), where nothing
# else (hypothesis, for one) has touched the random module.
RESTATED_PROCEDURE = """
import json, random, sys
answers = []
for names, number in json.load(sys.stdin):
    ordered = sorted(names)
    random.seed("".join(ordered))
    answers.append(random.sample(ordered, number))
json.dump(answers, sys.stdout)
"""

# The script's command line restated: -c/--candidate repeated, -n/--number defaulting to one.
RESTATED_COMMAND_LINE = """
import argparse, json, random
parser = argparse.ArgumentParser()
parser.add_argument("-c", "--candidate", action="append", dest="candidates")
parser.add_argument("-n", "--number", type=int, dest="number", default=1)
arguments = parser.parse_args()
ordered = sorted(arguments.candidates)
random.seed("".join(ordered))
print(json.dumps(random.sample(ordered, arguments.number)))
"""

# Names as members write them: spaces, accents, apostrophes, other scripts, a leading dash.
FIRST = ["Ada Lovelace", "Brett", "Chen Wei", "Dara Ó Briain", "Ezra", "-Flo", "Zoë", "Łukasz", "O'Neil", "李雷"]
NAMES = [f"{FIRST[i % len(FIRST)]} {i}" for i in range(40)]


def _in_clean_interpreter(program: str, *args: str, stdin: str = "") -> str:
    return subprocess.run(
        [sys.executable, "-I", "-c", program, *args], input=stdin, capture_output=True, text=True, check=True,
        encoding="utf-8",
    ).stdout


def test_reproduces_the_psf_2017_board_election_draws() -> None:
    # Published by David Mertz on psf-community, 11 June 2017, as printed by the
    # PSF's break-ties.py for the tie between Trey Hunner and Paola Katherine Pacheco.
    lot = draw_lots(["Trey Hunner", "Paola Katherine Pacheco"], 1)
    assert lot.drawn == ("Trey Hunner",)
    assert lot.seed == "Paola Katherine PachecoTrey Hunner"
    assert lot.command == (
        "python3 break-ties.py '--candidate=Paola Katherine Pacheco' '--candidate=Trey Hunner' --number=1"
    )

    three = draw_lots(["Paola Katherine Pacheco", "Trey Hunner", "Lorena Mesa"], 2)
    assert three.drawn == ("Paola Katherine Pacheco", "Lorena Mesa")


def test_every_draw_is_what_the_script_prints_for_up_to_40_names_and_every_number() -> None:
    # Names given in a scrambled order: the script sorts them itself.
    cases = [(NAMES[:n][::-1] if n % 2 else NAMES[:n], k) for n in range(1, 41) for k in range(n + 1)]
    printed = json.loads(_in_clean_interpreter(RESTATED_PROCEDURE, stdin=json.dumps(cases)))
    assert len(printed) == len(cases) == 860
    for (names, k), expected in zip(cases, printed, strict=True):
        lot = draw_lots(names, k)
        assert list(lot.drawn) == expected, (len(names), k)
        assert lot.as_dict()["number"] == k


def test_the_recorded_command_repeats_the_draw() -> None:
    for names, k in [(NAMES[:3], 1), (NAMES[:6], 2), (NAMES[:30], 3), (["-n", "--number=4", "it's me"], 2)]:
        lot = draw_lots(names, k)
        words = shlex.split(lot.command)
        assert words[:2] == ["python3", "break-ties.py"]
        printed = _in_clean_interpreter(RESTATED_COMMAND_LINE, *words[2:])
        assert json.loads(printed) == list(lot.drawn)


def test_a_longer_draw_cut_short_is_not_the_scripts_answer_beyond_21_names() -> None:
    # random.sample draws from a set of indices rather than a pool for many names and few
    # picks, so the first j of a full order differ from a draw of j: the counting methods
    # therefore always draw exactly the seats at stake.
    names = [f"Member {i:02d}" for i in range(1, 33)]
    assert draw_lots(names, 3).drawn == ("Member 08", "Member 10", "Member 12")
    assert draw_lots(names, 32).drawn[:3] == ("Member 08", "Member 05", "Member 06")
    # Up to 21 names the two agree, whatever the number drawn.
    few = names[:21]
    assert all(draw_lots(few, 21).drawn[:k] == draw_lots(few, k).drawn for k in range(22))


@pytest.mark.parametrize(("names", "k"), [(["Ada", "Ada"], 1), (["Ada", "Brett"], 3), (["Ada"], -1)])
def test_repeated_names_and_impossible_numbers_are_refused(names: list[str], k: int) -> None:
    with pytest.raises(ValueError):
        draw_lots(names, k)


names = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=40, unique=True)


@settings(max_examples=60)
@given(names, st.data())
def test_follows_the_documented_recipe_and_ignores_input_order(tied: list[str], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(tied)))
    shuffled = data.draw(st.permutations(tied))
    lot = draw_lots(shuffled, k)
    ordered = sorted(tied)
    assert lot.drawn == tuple(random.Random("".join(ordered)).sample(ordered, k))
    assert lot.tied == tuple(ordered)
    assert lot.as_dict()["recipe"] == "random.seed(''.join(sorted(tied))); random.sample(sorted(tied), number)"
