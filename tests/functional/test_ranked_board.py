"""Ranked Board elections (issue 3) through the commands, the ballot page and the results."""

from __future__ import annotations

import pytest

from ballot.counting.blt import parse_blt
from ballot.counting.stv import count_meek
from tests.functional.factories import YEAR, enrolled_fellows, later, links
from tests.functional.helpers import cast, csrf_token, path_of, run

CANDIDATES = ["Alice", "Bob", "Carol", "Dave"]


def board(runner, method: str, seats: int) -> int:
    args = ["vote", "create", "--period", str(YEAR), "--kind", "board", "--title", f"Board by {method}",
            "--method", method, "--seats", str(seats), "--closes-at", later(hours=1)]
    for name in CANDIDATES:
        args += ["--candidate", name]
    vote = run(runner, *args)
    run(runner, "vote", "open", str(vote["id"]))
    return vote["id"]


def ranks(*names: str) -> dict[str, str]:
    """Form fields giving rank 1 to the first name, 2 to the next..."""
    return {f"board-rank-{CANDIDATES.index(name)}": str(i) for i, name in enumerate(names, 1)}


BALLOTS = [("Alice", "Bob"), ("Alice", "Carol"), ("Alice", "Bob", "Dave"), ("Bob", "Alice"),
           ("Carol", "Dave"), ("Dave", "Carol", "Bob"), ("Carol",)]


@pytest.mark.parametrize("method", ["meek-stv", "scottish-stv", "schulze"])
def test_ranked_board_election_end_to_end(method, app, runner, client, inbox, tmp_path):
    enrolled_fellows(runner, tmp_path, len(BALLOTS) + 1)
    vote_id = board(runner, method, 2)
    voters = list(links(runner, inbox, vote_id).values())
    for link, ballot in zip(voters, BALLOTS, strict=False):  # one voter more: the last abstains below
        assert cast(client, link, ranks(*ballot)).status_code == 200
    assert cast(client, voters[-1], {"board-abstain": "1"}).status_code == 200
    closed = run(runner, "vote", "close", str(vote_id))
    question = closed["result"]["questions"][0]
    assert question["counts"] == {"Alice": 3, "Bob": 1, "Carol": 2, "Dave": 1}  # first preferences
    assert question["report"]["method"] == method.removesuffix("-stv")
    run(runner, "vote", "publish", str(vote_id))

    page = client.get(f"/votes/{vote_id}/results")
    assert page.status_code == 200 and "Elected:" in page.text
    assert ("Strongest paths" in page.text) if method == "schulze" else ("Votes in each round" in page.text)

    blt = client.get(f"/votes/{vote_id}/ballots.blt")
    assert blt.status_code == 200
    election = parse_blt(blt.get_data(as_text=True))
    assert election.seats == 2 and list(election.candidates) == CANDIDATES
    assert sum(b.weight for b in election.ballots) == len(BALLOTS)  # the abstention ranks nobody
    if method == "meek-stv":
        # Anyone can recount the downloaded ballots in another program; here, the same engine.
        assert list(count_meek(election.candidates, election.ballots, election.seats).elected) == question["elected"]


def test_ranked_ballot_explains_duplicate_and_skipped_ranks(app, runner, client, inbox, tmp_path):
    enrolled_fellows(runner, tmp_path, 1)
    vote_id = board(runner, "meek-stv", 2)
    path = path_of(next(iter(links(runner, inbox, vote_id).values())))
    page = client.get(path)
    assert page.status_code == 200 and 'name="board-rank-0"' in page.text and "ranking.js" in page.text
    token = csrf_token(page.text)
    duplicate = client.post(path, data={"csrf_token": token, "step": "review",
                                        "board-rank-0": "1", "board-rank-1": "1"}, follow_redirects=True)
    assert duplicate.status_code == 400 and "you gave rank 1 to Alice and Bob" in duplicate.text
    skipped = client.post(path, data={"csrf_token": token, "step": "review",
                                      "board-rank-0": "1", "board-rank-2": "3"}, follow_redirects=True)
    assert skipped.status_code == 400 and "you skipped rank 2" in skipped.text
    empty = client.post(path, data={"csrf_token": token, "step": "review"}, follow_redirects=True)
    assert empty.status_code == 400 and "rank at least one candidate" in empty.text
    review = client.post(path, data={"csrf_token": token, "step": "review", "board-rank-3": "1", "board-rank-0": "2"},
                         follow_redirects=True)
    assert review.status_code == 200 and "<li>Dave</li><li>Alice</li>" in review.text
    assert run(runner, "vote", "show", str(vote_id))["participants"] == 0


def test_instant_runoff_fills_one_seat(app, runner, tmp_path):
    enrolled_fellows(runner, tmp_path, 1)
    result = runner.invoke(args=["vote", "create", "--period", str(YEAR), "--kind", "board", "--title", "B",
                                 "--method", "irv", "--seats", "2", "--candidate", "A", "--candidate", "B",
                                 "--closes-at", later(hours=1)])
    assert result.exit_code == 1 and "instant runoff fills one seat" in result.output
