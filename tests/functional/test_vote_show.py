"""`ballot vote show` on a draft: the electorate it would have if it opened now (issue 10, item 16)."""

from __future__ import annotations

from tests.functional.factories import create, invoke, run, setup

PEOPLE = [("ada", "supporting"), ("bea", "supporting"), ("cy", "supporting")]


def test_show_on_a_draft_gives_the_would_be_electorate(app, runner, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea"])
    vote_id = create(runner, "--kind", "charter", "--title", "Draft", "--question", "Q?")["id"]
    shown = run(runner, "vote", "show", str(vote_id))
    assert (shown["status"], shown["electorate"]) == ("draft", 2)
    text = invoke(runner, "vote", "show", str(vote_id)).output
    assert "2 voting rights would take part if it opened now" in text and "Electorate: 2 voting rights." in text
    run(runner, "vote", "open", str(vote_id))
    text = invoke(runner, "vote", "show", str(vote_id)).output
    assert "0 of 2 have voted." in text
