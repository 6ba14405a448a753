"""A vote past its closing time shows as closing, not open, until it is closed; its missed votes are
dated at the closing time, however late the close runs (issue 10, item 10)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from ballot.eligibility.models import Forfeiture, MissedVote
from ballot.extensions import db
from ballot.votes.models import Vote
from tests.functional.factories import invoke, opened, run, setup

PEOPLE = [("ada", "supporting"), ("bea", "supporting")]


def past_its_time(vote_id: int, hours: float = 30) -> dt.datetime:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(microsecond=0)
    db.session.execute(update(Vote).where(Vote.id == vote_id).values(closes_at=when))
    db.session.commit()
    return when


def test_a_vote_past_its_time_shows_as_closing_everywhere_until_closed(console, runner, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea"])
    vote_id, _ = opened(runner, inbox, "--kind", "charter", "--title", "Late charter", "--question", "Q?")
    assert '<strong class="status status-open">open</strong>' in console.get(f"/admin/votes/{vote_id}").text
    past_its_time(vote_id)

    page = console.get(f"/admin/votes/{vote_id}").text
    assert '<strong class="status status-closing">closing</strong>' in page
    assert "casting has stopped" in page and "Extend the vote" not in page and "Close and count now…" in page
    assert "<td>closing</td>" in console.get("/admin/votes").text
    dashboard = console.get("/admin/").text
    assert "<strong>closing</strong>: its time passed at" in dashboard and "<strong>1</strong> closing" in dashboard

    shown = run(runner, "vote", "show", str(vote_id))
    assert (shown["status"], shown["shown_status"]) == ("open", "closing")
    text = invoke(runner, "vote", "show", str(vote_id)).output
    assert f"Vote {vote_id} (charter, closing)" in text and "casting has stopped" in text
    assert " closing " in invoke(runner, "vote", "list").output

    run(runner, "vote", "close", str(vote_id))
    assert run(runner, "vote", "show", str(vote_id))["shown_status"] == "closed"
    assert '<strong class="status status-closed">closed</strong>' in console.get(f"/admin/votes/{vote_id}").text


def test_missed_votes_and_forfeitures_are_dated_at_the_closing_time(app, runner, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea"])
    first, _ = opened(runner, inbox, "--kind", "charter", "--title", "First", "--question", "Q?")
    first_time = past_its_time(first, hours=50)
    second, _ = opened(runner, inbox, "--kind", "charter", "--title", "Second", "--question", "Q?")
    second_time = past_its_time(second, hours=26)
    # Closed a day or two late, as when nobody ran the worker: each close dates itself at its closing time.
    run(runner, "vote", "close", str(first))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Vote, first).closed_at == first_time
    assert db.session.get(Vote, second).closed_at == second_time
    missed = {(m.vote_id, m.closed_at) for m in db.session.scalars(select(MissedVote))}
    assert missed == {(first, first_time), (second, second_time)}
    forfeited = db.session.scalars(select(Forfeiture)).all()
    assert len(forfeited) == 2 and {f.forfeited_at for f in forfeited} == {second_time}
