"""Board elections, quorum, scheduled closes and the schema, through commands and pages."""

from __future__ import annotations

import datetime as dt
import random
import time

from sqlalchemy import select, update

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from ballot.votes.models import Vote
from tests.functional.factories import YEAR, enrolled_fellows, later, links, opened
from tests.functional.helpers import cast, csrf_token, path_of, run


def test_board_election_with_a_public_tie_break(app, runner, client, inbox, tmp_path):
    enrolled_fellows(runner, tmp_path, 4)
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", "Board", "--seats", "2",
                               "--candidate", "Alice", "--candidate", "Bob", "--candidate", "Carol")
    ballots = iter([{"board": ["Alice", "Bob"]}, {"board": ["Alice", "Carol"]}, {"board": "Alice"},
                    {"board-abstain": "1"}])
    assert len(by_voter) == 4
    for link in by_voter.values():
        assert cast(client, link, next(ballots)).status_code == 200
    result = run(runner, "vote", "close", str(vote_id))["result"]["questions"][0]
    assert result["counts"] == {"Alice": 3, "Bob": 1, "Carol": 1}
    assert result["elected"][0] == "Alice"
    tie = result["report"]["tie_break"]
    assert sorted(tie["tied"]) == ["Bob", "Carol"]
    # Anyone can repeat the draw from what the result records.
    rng = random.Random(tie["seed"])
    assert rng.sample(sorted(tie["tied"]), len(tie["tied"]))[: 1] == result["elected"][1:]


def test_empty_board_ballot_is_refused_until_abstaining(app, runner, client, inbox, tmp_path):
    enrolled_fellows(runner, tmp_path, 1)
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", "Board", "--seats", "1",
                               "--max-approvals", "1", "--candidate", "Alice", "--candidate", "Bob")
    link = path_of(by_voter["m0"])
    token = csrf_token(client.get(link).text)

    def review(**choices):  # refused, the ballot page names the problems
        return client.post(link, data={"csrf_token": token, "step": "review", **choices}, follow_redirects=True)

    empty = review()
    assert empty.status_code == 400 and "tick &#39;I abstain&#39;" in empty.text
    too_many = review(board=["Alice", "Bob"])
    assert too_many.status_code == 400 and "at most 1" in too_many.text
    both = review(**{"board": "Alice", "board-abstain": "1"})
    assert both.status_code == 400
    assert run(runner, "vote", "show", str(vote_id))["participants"] == 0


def test_below_quorum_is_void_and_still_missed(app, runner, client, inbox, tmp_path):
    enrolled_fellows(runner, tmp_path, 4)
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Quorate?", "--question", "Adopt?",
                               "--quorum", "1/2")
    assert cast(client, by_voter["m0"], {"q1": "yes"}).status_code == 200
    closed = run(runner, "vote", "close", str(vote_id))
    assert closed["result"]["void"] and closed["result"]["questions"][0]["outcome"] == "void"
    assert closed["missed"] == 3


def test_the_worker_closes_a_vote_at_its_time(app, runner, client, inbox, tmp_path):
    enrolled_fellows(runner, tmp_path, 2)
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "other", "--title", "Short",
               "--question", "Adopt?", "--closes-at", later(seconds=3))
    run(runner, "vote", "open", str(vote["id"]))
    link = next(iter(links(runner, inbox, vote["id"]).values()))
    assert cast(client, link, {"q1": "no"}).status_code == 200
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0
    assert run(runner, "vote", "show", str(vote["id"]))["status"] == "open"
    time.sleep(3.2)
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    shown = run(runner, "vote", "show", str(vote["id"]))
    assert shown["status"] == "closed" and shown["result"]["questions"][0]["counts"]["no"] == 1
    assert worker_audit() == [("vote.close", f"vote {vote['id']}: Short", {"scheduled": shown["closes_at"]})]


def worker_audit() -> list[tuple[str, str, dict]]:
    """What the audit log says the worker did on its own."""
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor == "worker").order_by(AuditEvent.id))
    return [(e.action, e.subject, e.detail) for e in events]


def test_votes_refuse_bad_definitions(app, runner, tmp_path):
    enrolled_fellows(runner, tmp_path, 1)
    cases = [
        (["--kind", "charter", "--question", "X", "--threshold", "2/3"], "cannot be set"),
        (["--kind", "fellow", "--question", "X", "--threshold", "1/2"], "2/3 or 3/4"),
        (["--kind", "board", "--candidate", "A"], "number of seats"),
        (["--kind", "other"], "at least one question"),
        (["--kind", "other", "--question", "X", "--quorum", "3/2"], "between 0 and 1"),
    ]
    for extra, message in cases:
        result = runner.invoke(args=["vote", "create", "--period", str(YEAR), "--title", "T",
                                     "--closes-at", later(hours=1), *extra])
        assert result.exit_code == 1 and message in result.output, (extra, result.output)
    past = runner.invoke(args=["vote", "create", "--period", str(YEAR), "--title", "T", "--kind", "other",
                               "--question", "X", "--closes-at", "2020-01-01T00:00"])
    assert past.exit_code == 1 and "time zone" in past.output
    assert run(runner, "vote", "list") == []


def test_schema_matches_the_models(database_app):
    # Outside the per-test transaction: `db check` opens its own connection.
    result = database_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_the_worker_opens_a_vote_at_its_scheduled_time(app, runner, client, inbox, tmp_path):
    enrolled_fellows(runner, tmp_path, 2)
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "other", "--title", "Later",
               "--question", "Adopt?", "--closes-at", later(hours=1))
    refused = runner.invoke(args=["vote", "schedule", str(vote["id"]), "--opens-at", later(hours=2)])
    assert refused.exit_code == 1 and "after its closing time" in refused.output
    assert run(runner, "vote", "schedule", str(vote["id"]), "--opens-at", later(seconds=2))["opens_at"]
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert run(runner, "vote", "show", str(vote["id"]))["status"] == "draft"
    time.sleep(2.2)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and f"opened vote {vote['id']}: Later" in result.output
    shown = run(runner, "vote", "show", str(vote["id"]))
    assert shown["status"] == "open"
    [(action, subject, detail)] = worker_audit()
    assert (action, subject, set(detail)) == ("vote.open", f"vote {vote['id']}: Later", {"scheduled"})
    assert len(links(runner, inbox, vote["id"])) == 2  # the ballot links went out when it opened


def test_a_scheduled_opening_that_cannot_happen_is_dropped_and_audited_with_the_reason(app, runner):
    run(runner, "period", "open", str(YEAR))  # nobody enrolled: the electorate would be empty
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "other", "--title", "Nobody",
               "--question", "Adopt?", "--closes-at", later(hours=1))
    run(runner, "vote", "schedule", str(vote["id"]), "--opens-at", later(minutes=1))
    db.session.execute(update(Vote).where(Vote.id == vote["id"])
                       .values(opens_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "could not open at its scheduled time" in result.output
    assert run(runner, "vote", "show", str(vote["id"]))["status"] == "draft"
    [(action, subject, detail)] = worker_audit()
    assert (action, subject) == ("vote.open.refused", f"vote {vote['id']}: Nobody")
    assert "nobody is in this vote's electorate" in detail["reason"]
    # The schedule is dropped, so the worker does not try again every round.
    again = runner.invoke(args=["worker", "--once"])
    assert again.exit_code == 0 and "could not open" not in again.output
    assert run(runner, "vote", "show", str(vote["id"]))["opens_at"] is None
    assert len(worker_audit()) == 1
