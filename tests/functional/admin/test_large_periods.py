"""Work over a whole period (who is at risk, the affirmation waiver's preview, a close that forfeits many rights)
sends statements whose size does not grow with the period: a list of every right at risk, of every voter's key
and address, or of every forfeiture, as parameters of one statement broke on PostgreSQL past 65,535 of them (a
close that 70,000 rights missed), and on SQLite past its build's limit (32,766 in many)."""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from ballot.extensions import db
from tests.functional.factories import YEAR, closes, opened, run, setup
from tests.functional.helpers import cast

MEMBERS = 60
MOST_PARAMETERS = 20  # what any one statement of these reads may carry, however many rights there are


@contextlib.contextmanager
def largest_statement():
    """The most parameters any single statement is sent with meanwhile (an executemany counted per row)."""
    largest = [0]

    def record(connection, cursor, statement, parameters, context, executemany):
        if not executemany:
            largest[0] = max(largest[0], len(parameters or ()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield largest
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_who_is_at_risk_after_a_vote_everyone_missed(app, runner, inbox, tmp_path):
    people = [(f"m{n:02}", "supporting") for n in range(MEMBERS)]
    setup(runner, tmp_path, people, policy="seed", opted_in=[key for key, _ in people])
    vote_id, _ = opened(runner, inbox, "--kind", "charter", "--title", "Charter", "--question", "Q?")
    run(runner, "vote", "close", str(vote_id))
    with largest_statement() as largest:
        rows = run(runner, "period", "at-risk", str(YEAR))
    assert len(rows) == MEMBERS and {r["standing"] for r in rows} == {"near the limit"}
    assert [r["member_key"] for r in rows] == [key for key, _ in people]  # by name, as the page lists them
    assert largest[0] <= MOST_PARAMETERS


def test_the_affirmation_waivers_preview_after_a_well_attended_election(app, runner, client, inbox, tmp_path):
    people = [(f"m{n:02}", "supporting") for n in range(MEMBERS)]
    setup(runner, tmp_path, people, opted_in=[key for key, _ in people], year=YEAR - 1)
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", f"Board {YEAR - 1}", "--seats", "1",
                               "--candidate", "Guido", "--candidate", "Brett", "--election", "regular",
                               "--board-size", "1", year=YEAR - 1)
    for key, _ in people[:-1]:  # all but the last vote
        assert cast(client, by_voter[key], {"board": "Guido"}).status_code == 200
    run(runner, "vote", "close", str(vote_id))
    setup(runner, tmp_path, people)
    with largest_statement() as largest:
        preview = run(runner, "period", "waive-affirmation", str(YEAR), "--dry-run")
    assert (preview["voters"], preview["enrolled"]) == (MEMBERS - 1, MEMBERS - 1)
    assert largest[0] <= MOST_PARAMETERS


def test_a_close_that_forfeits_every_right_at_once(app, runner, inbox, tmp_path):
    """Under the seed policy a second missed vote forfeits: here every right at once (a list of 4 parameters a
    right in one statement broke on PostgreSQL past 16,383 rights), each told by mail."""
    people = [(f"m{n:02}", "supporting") for n in range(20)] + [("fay", "fellow")]
    setup(runner, tmp_path, people, policy="seed", opted_in=[key for key, _ in people])
    for number in (1, 2):
        vote_id, _ = opened(runner, inbox, "--kind", "charter", "--title", f"Charter {number}", "--question", "Q?")
        closed = run(runner, "vote", "close", str(vote_id))
    assert (closed["missed"], closed["forfeited"]) == (21, 21)
    assert {r["standing"] for r in run(runner, "period", "at-risk", str(YEAR))} == {"forfeited"}
    inbox.clear()
    run(runner, "mail", "send")
    lapsed = [m for m in inbox.messages if "have lapsed" in m["Subject"]]
    assert sorted(m["To"] for m in lapsed) == sorted(f"{key}@example.org" for key, _ in people)
    assert "M00 Tester" in inbox.text(next(m for m in lapsed if m["To"] == "m00@example.org"))


FORFEITING = 16_400  # past 16,383: four parameters a right in one statement would pass PostgreSQL's 65,535


def test_a_close_that_forfeits_sixteen_thousand_rights(app, runner, inbox, tmp_path):
    run(runner, "period", "open", str(YEAR), "--policy", "seed")
    path = tmp_path / "pythonorg.csv"  # enrolled from the roster: they affirmed on python.org this year
    path.write_text("membership_type,creator,email_address,votes,last_vote_affirmation\n" + "".join(
        f"3,m{n},m{n}@example.org,True,{YEAR}-02-01 10:00:00+00:00\n" for n in range(FORFEITING)))
    run(runner, "roster", "import", str(path), "--period", str(YEAR))
    for number in (1, 2):
        vote_id = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title",
                      f"Charter {number}", "--question", "Q?", "--closes-at", closes())["id"]
        run(runner, "vote", "open", str(vote_id))
        closed = run(runner, "vote", "close", str(vote_id))
    assert (closed["missed"], closed["forfeited"]) == (FORFEITING, FORFEITING)
    assert run(runner, "period", "show", str(YEAR))["can_vote"] == 0
