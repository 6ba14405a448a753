"""The public results page reads as results: the outcome first, in words, candidates most first, the chart,
no closing time of a closed vote, and for ranked methods the exhausted votes and every tie broken."""

from __future__ import annotations

import re

from tests.functional.factories import opened, run, setup
from tests.functional.helpers import cast

PEOPLE = [("ada", "supporting"), ("bea", "supporting"), ("cy", "supporting")]


def publish(runner, vote_id: int) -> None:
    run(runner, "vote", "close", str(vote_id))
    run(runner, "vote", "publish", str(vote_id))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_question_that_did_not_pass_says_so_first(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea", "cy"))
    vote_id, links = opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                            "--question", "Charter the Packaging WG")
    for key, answer in (("ada", "yes"), ("bea", "no"), ("cy", "no")):
        cast(client, links[key], {"q1": answer})
    publish(runner, vote_id)
    page = client.get(f"/votes/{vote_id}/results").text
    text = text_of(page)
    assert text.index("Not passed") < text.index("Turnout") < text.index("1 of 3 in favour")
    assert "failed" not in text.lower() and "Closes" not in text
    assert re.search(r'<svg role="img"[^>]*class="chart"', page), "the chart, on the public page too"
    assert "Charter the Packaging WG: ballots per answer: yes 1; no 2; abstain 0" in page


def test_a_void_vote_says_so_first(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE + [("dee", "supporting")], opted_in=("ada", "bea", "cy", "dee"))
    vote_id, links = opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                            "--question", "Charter the Packaging WG")
    cast(client, links["ada"], {"q1": "yes"})  # 1 of 4: below the bylaws' quorum of one third
    publish(runner, vote_id)
    text = text_of(client.get(f"/votes/{vote_id}/results").text)
    assert text.index("Void: the quorum was not met.") < text.index("Turnout")
    assert "1 of 4 voting rights voted; the quorum of 1/3 needed 2" in text
    assert "Passed" not in text and "Not passed" not in text


def test_candidates_most_first_in_words_with_the_tie_broken(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=("ada", "bea", "cy"))
    vote_id, links = opened(runner, inbox, "--kind", "board", "--title", "Board 2026", "--seats", "1",
                            "--method", "approval",
                            "--candidate", "Zed Last", "--candidate", "Amy First", "--candidate", "Bob Tied")
    for key, approved in (("ada", ["Amy First"]), ("bea", ["Bob Tied", "Amy First"]), ("cy", ["Bob Tied"])):
        cast(client, links[key], {"board": approved})
    publish(runner, vote_id)
    page = client.get(f"/votes/{vote_id}/results").text
    assert "Board of Directors: approvals per candidate: Amy First 2; Bob Tied 2; Zed Last 0" in page  # the chart
    text = text_of(page)
    elected = re.search(r"Elected: (Amy First|Bob Tied)", text).group(1)
    assert text.index("Elected:") < text.index("Turnout")
    table = text[text.index("Approvals, most first"):]
    assert table.index("Amy First") < table.index("Zed Last") and table.index("Bob Tied") < table.index("Zed Last")
    assert "not_elected" not in text and "skipped_for_cap" not in text
    assert "not elected: lost the drawing of lots" in text
    assert re.search(r"Tie broken: Amy First and Bob Tied were tied; the public drawing of lots .* drew " + elected,
                     text)


def test_a_ranked_count_shows_exhausted_ballots_and_each_tie(app, runner, client, inbox, tmp_path):
    people = PEOPLE + [("dee", "supporting"), ("eve", "supporting")]
    setup(runner, tmp_path, people, policy="seed", opted_in=[key for key, _ in people])
    vote_id, links = opened(runner, inbox, "--kind", "board", "--title", "Board 2026", "--seats", "1",
                            "--method", "irv", "--candidate", "A", "--candidate", "B", "--candidate", "C")
    rankings = {"ada": ["A"], "bea": ["B"], "cy": ["C"], "dee": ["A"], "eve": ["B"]}
    for key, ranking in rankings.items():
        cast(client, links[key], {f"board-rank-{'ABC'.index(name)}": str(n) for n, name in enumerate(ranking, 1)})
    publish(runner, vote_id)
    text = text_of(client.get(f"/votes/{vote_id}/results").text)
    # C is excluded and its one ballot, ranking nobody else, is exhausted; A and B tie, and a lot decides.
    elected = re.search(r"Elected: (A|B)", text).group(1)
    loser = "B" if elected == "A" else "A"
    assert text.index("Elected:") < text.index("Turnout")
    assert "ballots that rank none of the candidates still standing" in text
    rounds = text[text.index("Votes in each round"):]
    # (exhausted: counted after the round's exclusion)
    assert re.search(rf"Round A B C Exhausted What happened 1 2 2 1 1 excluded C 2 2 2 3 excluded {loser}; tie broken",
                     rounds), rounds
    assert re.search(rf"Ties broken Round 2: A and B were tied; {loser} was chosen by the public drawing of lots", text)
    assert "Closes" not in text
