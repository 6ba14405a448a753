"""Board candidates and Fellow nominees can have a statement link, shown on the ballot and the results;
web addresses in a vote's description are links."""

from __future__ import annotations

from tests.functional.factories import YEAR, opened, refused, run, setup
from tests.functional.helpers import cast, path_of

PEOPLE = [("ada", "supporting"), ("bea", "supporting")]
LONG = "https://example.org/elections/2026/candidates/" + "a-very-long-statement-address-" * 4 + "end"


def test_a_board_candidates_statement_on_the_ballot_and_the_results(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=("ada", "bea"))
    vote_id, links = opened(
        runner, inbox, "--kind", "board", "--title", "Board 2026", "--seats", "1", "--method", "approval",
        "--candidate", "Amy First", "--candidate", "Bob Second",
        "--statement", f"Amy First={LONG}", "--affiliation", "Bob Second=ACME; Python Software Foundation",
        "--description", "The candidates are listed at https://example.org/elections/2026. Vote!")
    ballot = client.get(path_of(links["ada"])).text
    assert f'<a href="{LONG}">statement<span class="visually-hidden"> of Amy First</span></a>' in ballot
    assert '<a href="https://example.org/elections/2026">https://example.org/elections/2026</a>. Vote!' in ballot
    assert ballot.count("statement<span") == 1, "Bob Second gave no statement"
    # Declared affiliations, where no cap applies (the seed policy): shown, applied to nothing.
    assert "Bob Second <span class=\"affiliations\">(affiliations: ACME; Python Software Foundation)</span>" in ballot
    cast(client, links["ada"], {"board": ["Amy First"]})
    run(runner, "vote", "close", str(vote_id))
    run(runner, "vote", "publish", str(vote_id))
    results = client.get(f"/votes/{vote_id}/results").text
    assert f'<a href="{LONG}">statement<span class="visually-hidden"> of Amy First</span></a>' in results
    assert '<span class="affiliations">(ACME; Python Software Foundation)</span>' in results
    assert run(runner, "vote", "show", str(vote_id))["rules"]["statements"] == {"Amy First": LONG}


def test_a_fellow_nominees_statement_and_affiliations(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE + [("fay", "fellow")], policy="seed", opted_in=("fay",))
    vote_id, links = opened(runner, inbox, "--kind", "fellow", "--title", "Fellows 2026",
                            "--question", "Katherine Johnson", "--question", "Dennis Ritchie",
                            "--statement", "Dennis Ritchie=https://example.org/nominations/dmr",
                            "--affiliation", "Dennis Ritchie=Bell Labs; Lucent")
    statement = ('<a href="https://example.org/nominations/dmr">Read the statement<span class="visually-hidden"> of '
                 'Dennis Ritchie</span></a>')
    ballot = client.get(path_of(links["fay"])).text
    assert f"Affiliations: Bell Labs; Lucent. {statement}" in ballot
    assert ballot.count("Read the statement") == 1 and ballot.count("Affiliations:") == 1
    cast(client, links["fay"], {"q1": "agree", "q2": "agree"})
    run(runner, "vote", "close", str(vote_id))
    run(runner, "vote", "publish", str(vote_id))
    assert f"Affiliations: Bell Labs; Lucent. {statement}" in client.get(f"/votes/{vote_id}/results").text


def test_statements_are_checked(app, runner, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=("ada",))
    board = ["vote", "create", "--period", str(YEAR), "--kind", "board", "--title", "Board", "--seats", "1",
             "--candidate", "Amy First", "--closes-at", "2099-01-01T00:00Z"]
    assert "Mallory is not one of the candidates (Amy First)" in refused(
        runner, *board, "--statement", "Mallory=https://example.org/m")
    assert "someone who is not a candidate: Mallory" in refused(runner, *board, "--affiliation", "Mallory=ACME")
    assert "must be a web address starting with https://" in refused(
        runner, *board, "--statement", "Amy First=javascript:alert(1)")
    assert "Mallory is not one of the nominees (Katherine Johnson)" in refused(
        runner, "vote", "create", "--period", str(YEAR), "--kind", "fellow", "--title", "F",
        "--question", "Katherine Johnson", "--closes-at", "2099-01-01T00:00Z", "--affiliation", "Mallory=ACME")
    assert "statements are for Board candidates and Fellow nominees" in refused(
        runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "C", "--question", "C",
        "--closes-at", "2099-01-01T00:00Z", "--statement", "C=https://example.org/c")
