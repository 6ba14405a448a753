"""Closing and cancelling ask first, saying what they do (issue 10, item 9): the console's confirmation
pages and `ballot vote close/cancel`, which print the same consequences (and `--dry-run` only those)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from ballot.eligibility.models import Forfeiture, MissedVote
from ballot.extensions import db
from ballot.votes.models import Vote
from tests.functional.admin.console import follow, post
from tests.functional.factories import YEAR, invoke, opened, run, setup
from tests.functional.helpers import cast

PEOPLE = [("ada", "supporting"), ("bea", "supporting"), ("cy", "supporting"), ("dan", "supporting")]


def a_year_with_one_vote_missed(client, runner, inbox, tmp_path) -> int:
    """The seed policy (two missed votes forfeit); all four missed a first vote; a second is open,
    where Ada has voted. Returns the second vote's id."""
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=[key for key, _ in PEOPLE])
    first, _ = opened(runner, inbox, "--kind", "charter", "--title", "First", "--question", "Q?")
    run(runner, "vote", "close", str(first))
    second, found = opened(runner, inbox, "--kind", "charter", "--title", "Second", "--question", "Q?")
    assert cast(client, found["ada"], {"q1": "yes"}).status_code == 200
    return second


def test_closing_from_the_console_states_the_consequences_and_asks(console, runner, inbox, tmp_path):
    vote_id = a_year_with_one_vote_missed(console, runner, inbox, tmp_path)
    page = console.get(f"/admin/votes/{vote_id}")
    assert "Close and count now…" in page.text and f'href="/admin/votes/{vote_id}/close"' in page.text

    asked = console.get(f"/admin/votes/{vote_id}/close")
    assert asked.status_code == 200
    assert "1 of 4 voting rights have voted" in asked.text
    assert "3 voting rights have not voted: each will get a missed vote" in asked.text
    assert "3 of them would lose their voting rights until the next period" in asked.text
    assert "It is early: the vote is scheduled to close at" in asked.text
    assert "Yes, close and count it now" in asked.text
    assert db.session.get(Vote, vote_id).status == "open"  # asking changes nothing

    # A POST without the confirmation only leads to the question.
    response = post(console, f"/admin/votes/{vote_id}/close")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/votes/{vote_id}/close")
    assert db.session.get(Vote, vote_id).status == "open"

    page = follow(console, post(console, f"/admin/votes/{vote_id}/close", {"confirm": "yes"}))
    assert "The vote is closed and counted." in page.text
    db.session.expire_all()
    forfeited = db.session.scalars(select(Forfeiture.right_id).where(Forfeiture.vote_id == vote_id)).all()
    assert len(forfeited) == 3  # as the confirmation said

    closed = console.get(f"/admin/votes/{vote_id}/close")
    assert closed.status_code == 303 and "only an open vote can be closed" in follow(console, closed).text


def test_closing_after_the_scheduled_time_is_not_called_early(console, runner, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea"])
    vote_id, _ = opened(runner, inbox, "--kind", "charter", "--title", "Late", "--question", "Q?")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    db.session.execute(update(Vote).where(Vote.id == vote_id).values(closes_at=past))
    db.session.commit()
    asked = console.get(f"/admin/votes/{vote_id}/close")
    assert "It is early" not in asked.text
    assert "2 voting rights have not voted" in asked.text
    assert "Nobody would lose their voting rights by this close." in asked.text


def test_cancelling_from_the_console_asks_with_the_reason_and_what_it_destroys(console, runner, inbox, tmp_path):
    vote_id = a_year_with_one_vote_missed(console, runner, inbox, tmp_path)
    asked = post(console, f"/admin/votes/{vote_id}/cancel", {"reason": "Wrong question"})
    assert asked.status_code == 200
    assert "1 ballot already cast is destroyed unopened" in asked.text
    assert "nobody gets a missed vote" in asked.text and "“Wrong question”" in asked.text
    assert 'name="reason" value="Wrong question"' in asked.text
    assert 'name="confirm" type="hidden" value="yes"' in asked.text
    assert db.session.get(Vote, vote_id).status == "open"
    page = follow(console, post(console, f"/admin/votes/{vote_id}/cancel", {"reason": "Wrong question",
                                                                            "confirm": "yes"}))
    assert "The vote is cancelled: it counts for nobody." in page.text
    draft = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Draft",
                "--question", "Q?", "--closes-at", (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat())
    asked = post(console, f"/admin/votes/{draft['id']}/cancel", {"reason": "Not needed"})
    assert "it was never opened, nothing was sent" in asked.text


def test_the_command_line_says_the_same_and_dry_run_changes_nothing(client, runner, inbox, tmp_path):
    vote_id = a_year_with_one_vote_missed(client, runner, inbox, tmp_path)
    dry = invoke(runner, "vote", "close", str(vote_id), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "nothing is changed" in dry.output and "3 voting rights have not voted" in dry.output
    assert "3 of them would lose their voting rights" in dry.output and "It is early" in dry.output
    as_json = run(runner, "vote", "close", str(vote_id), "--dry-run")
    assert (as_json["not_voted"], as_json["would_forfeit"], as_json["early"]) == (3, 3, True)
    assert db.session.get(Vote, vote_id).status == "open"
    assert not db.session.scalars(select(MissedVote).where(MissedVote.vote_id == vote_id)).all()

    cancel = invoke(runner, "vote", "cancel", str(vote_id), "--reason", "x", "--dry-run")
    assert cancel.exit_code == 0 and "1 ballot already cast is destroyed unopened" in cancel.output
    assert db.session.get(Vote, vote_id).status == "open"

    closed = invoke(runner, "vote", "close", str(vote_id))  # scripts keep working: no prompt
    assert closed.exit_code == 0, closed.output
    assert "It is early" in closed.output
    assert "3 voting rights had not voted: each got a missed vote; 3 lost their voting rights" in closed.output
    again = invoke(runner, "vote", "close", str(vote_id), "--dry-run")
    assert again.exit_code == 1 and "only an open vote can be closed" in again.output
