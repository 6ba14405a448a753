"""The BLT format: reading, writing, and errors that name the line."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.counting.ballots import RankedBallot
from ballot.counting.blt import BltError, format_blt, parse_blt

EXAMPLE = '''# a comment
4 2
-4
3 1 3 4 0
2 2=3 1 0

1 4 0
0
"Alice"
"Bob \\"the builder\\""
"Carol # not a comment"
"Dave"
"Board election 2025"
'''


def test_reads_weights_equal_rankings_withdrawn_names_and_title() -> None:
    election = parse_blt(EXAMPLE)
    assert election.candidates == ("Alice", 'Bob \\"the builder\\"', "Carol # not a comment", "Dave")
    assert election.seats == 2
    assert election.withdrawn == frozenset({"Dave"})
    assert election.title == "Board election 2025"
    assert election.ballots == (
        RankedBallot.of("Alice", "Carol # not a comment", "Dave", weight=3),
        RankedBallot.of(('Bob \\"the builder\\"', "Carol # not a comment"), "Alice", weight=2),
        RankedBallot.of("Dave"),
    )


def test_title_is_optional() -> None:
    assert parse_blt('2 1\n1 1 0\n0\n"A"\n"B"\n').title is None


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "empty"),
        ("2\n", 1, "number of candidates and of seats"),
        ("2 3\n", 1, "3 seats but only 2 candidates"),
        ("2 1\n1 1 2\n0\n", 2, "must end with 0"),
        ("2 1\n1 1 3 0\n0\n", 2, "'3' is not a candidate number from 1 to 2"),
        ("2 1\n1 1 1 0\n0\n", 2, "candidate 1 is ranked twice"),
        ("2 1\nx 1 0\n0\n", 2, "weight 'x'"),
        ("2 1\n-3\n0\n", 2, "withdrawn candidate -3"),
        ("2 1\n1 1 0\n0\n\"A\"\n", 4, "ends before the names of all 2 candidates"),
        ("2 1\n1 1 0\n0\n\"A\"\nB\n", 5, "expected a name in double quotes"),
        ("2 1\n1 1 0\n0\n\"A\"\n\"A\"\n", 5, "more than once"),
        ("2 1\n1 1 0\n0\n\"A\"\n\"B\"\n\"T\"\n\"U\"\n", 7, "after the title"),
    ],
)
def test_errors_name_the_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(BltError, match=problem) as caught:
        parse_blt(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")


def test_refuses_names_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="line break"):
        format_blt(["A", "B\nC"], 1, [])


names = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=10).filter(
        lambda s: s.strip() == s and s.strip() != ""
    ),
    min_size=1,
    max_size=6,
    unique=True,
)


@settings(max_examples=60)
@given(names, st.data())
def test_writing_then_reading_gives_the_election_back(candidates: list[str], data: st.DataObject) -> None:
    ballots = data.draw(
        st.lists(
            st.builds(
                lambda chosen, weight: RankedBallot.of(*chosen, weight=weight),
                st.lists(
                    st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True).map(tuple),
                    min_size=1,
                    max_size=3,
                ).filter(lambda tiers: len({n for t in tiers for n in t}) == sum(len(t) for t in tiers)),
                st.integers(1, 50),
            ),
            max_size=8,
        )
    )
    withdrawn = data.draw(st.sets(st.sampled_from(candidates)))
    title = data.draw(st.none() | st.sampled_from(["Board 2025", 'The "annual" vote']))
    seats = data.draw(st.integers(1, len(candidates)))
    text = format_blt(candidates, seats, ballots, withdrawn=withdrawn, title=title)
    election = parse_blt(text)
    assert election.candidates == tuple(candidates)
    assert election.seats == seats
    assert election.ballots == tuple(ballots)
    assert election.withdrawn == withdrawn
    assert election.title == title
