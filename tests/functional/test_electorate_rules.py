"""Who is in a vote's electorate, and when: rules of docs/DOMAIN.md, through the commands and the ballot page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ballot.eligibility.models import Forfeiture, MissedVote
from ballot.extensions import db
from tests.functional.factories import YEAR, closes, create, enrolled, links, opened, refused, roster, run, setup
from tests.functional.helpers import cast


def test_max_open_days_is_checked_when_the_vote_opens(app, runner, tmp_path):
    """psf-bylaws 14.8: "No vote ... may remain open for more than sixty (60) days": a draft may be made to close
    later (it might be opened later); opening it now is refused, and nothing is opened."""
    setup(runner, tmp_path, [("ada", "supporting")], opted_in={"ada"})
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "other", "--title", "Long",
               "--question", "Q?", "--closes-at", closes(61))
    assert "at most 60 days under PSF bylaws" in refused(runner, "vote", "open", str(vote["id"]))
    assert run(runner, "vote", "show", str(vote["id"]))["status"] == "draft"
    ok = create(runner, "--kind", "other", "--title", "Short", "--question", "Q?")
    run(runner, "vote", "open", str(ok["id"]))


def test_under_the_seed_a_vote_may_stay_open_longer_and_needs_no_quorum(app, runner, client, inbox, tmp_path):
    """The seed sets neither a longest time open nor a quorum: "A quorum is optional per vote (none in the seed)"
    (docs/DOMAIN.md). One ballot of four counts, where the bylaws' third would void the vote."""
    people = [("ada", "supporting"), ("bob", "supporting"), ("cy", "supporting"), ("dee", "supporting")]
    setup(runner, tmp_path, people, policy="seed", opted_in={key for key, _ in people})
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "other", "--title", "Long",
               "--question", "Q?", "--closes-at", closes(200))
    run(runner, "vote", "open", str(vote["id"]))
    assert cast(client, links(runner, inbox, vote["id"])["ada"], {"q1": "yes"}).status_code == 200
    result = run(runner, "vote", "close", str(vote["id"]))["result"]
    assert (result["participants"], result["electorate"], result["void"]) == (1, 4, False)
    assert result["questions"][0]["outcome"] == "passed"


def test_the_electorate_is_frozen_at_opening(app, runner, client, inbox, tmp_path):
    """Who may vote is fixed when the vote opens: a member enrolled or added to the roster later is not in it
    (only an administrator's addition, with a reason, changes it), and one removed later keeps their ballot."""
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], opted_in={"ada", "bob"})
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Frozen", "--question", "Q?")
    assert set(by_voter) == {"ada", "bob"}
    run(runner, "roster", "import", str(roster(tmp_path, YEAR, ("ada", "supporting"), ("cy", "supporting"),
                                              name="second.csv")), "--period", str(YEAR))
    assert run(runner, "vote", "show", str(vote_id))["electorate"] == 2
    assert links(runner, inbox, vote_id) == {}
    assert cast(client, by_voter["bob"], {"q1": "yes"}).status_code == 200  # removed from the roster since
    result = run(runner, "vote", "close", str(vote_id))
    assert (result["result"]["electorate"], result["result"]["participants"], result["missed"]) == (2, 1, 1)


def test_a_member_removed_by_a_reimport_drops_out_of_later_electorates(app, runner, inbox, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], opted_in={"ada", "bob"})
    run(runner, "roster", "import", str(roster(tmp_path, YEAR, ("ada", "supporting"), name="second.csv")),
        "--period", str(YEAR))
    _, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Later", "--question", "Q?")
    assert set(by_voter) == {"ada"}
    # Back on the roster, bob's right and enrolment are back too: rights are never deleted.
    run(runner, "roster", "import", str(roster(tmp_path, YEAR, ("ada", "supporting"), ("bob", "supporting"),
                                              name="third.csv")), "--period", str(YEAR))
    assert enrolled(runner) == {"ada": "link", "bob": "link"}


def test_a_member_whose_class_lapses_drops_out_of_later_electorates(app, runner, inbox, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], opted_in={"ada", "bob"})
    lapsed = tmp_path / "lapsed.csv"
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    ended = f"supporting:{yesterday - dt.timedelta(days=365)}:{yesterday}"
    lapsed.write_text(roster(tmp_path, YEAR, ("ada", "supporting"), name="x.csv").read_text()
                      + f"bob,Bob,Tester,bob@example.org,{ended},,\n")
    run(runner, "roster", "import", str(lapsed), "--period", str(YEAR))
    assert enrolled(runner) == {"ada": "link"}
    _, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Later", "--question", "Q?")
    assert set(by_voter) == {"ada"}


def test_a_forfeited_right_still_votes_in_a_vote_already_open(app, runner, client, inbox, tmp_path):
    """The seed: two missed votes in the period forfeit a right; a vote opened before that keeps it in its
    frozen electorate, and its ballot counts."""
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], policy="seed", opted_in={"ada", "bob"})
    still_open, open_links = opened(runner, inbox, "--kind", "other", "--title", "Already open", "--question", "Q?")
    for n in range(2):
        vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", f"Missed {n}", "--question", "Q?")
        cast(client, by_voter["ada"], {"q1": "yes"})
        run(runner, "vote", "close", str(vote_id))
    assert db.session.scalars(select(Forfeiture.right_id)).all() != []
    assert [r["forfeited"] for r in run(runner, "period", "enrolled", str(YEAR)) if r["member_key"] == "bob"] == [True]
    assert cast(client, open_links["bob"], {"q1": "no"}).status_code == 200
    assert run(runner, "vote", "close", str(still_open))["result"]["questions"][0]["counts"]["no"] == 1
    _, later = opened(runner, inbox, "--kind", "other", "--title", "After", "--question", "Q?")
    assert set(later) == {"ada"}


def test_the_calendar_year_window_counts_only_this_years_missed_votes(app, runner, client, inbox, tmp_path):
    """psf-bylaws 4.11: four votes missed "within a single calendar year": misses of an earlier year do not
    count towards this year's limit."""
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], opted_in={"ada", "bob"})
    earlier = [create(runner, "--kind", "other", "--title", f"Old {n}", "--question", "Q?")["id"] for n in range(3)]
    right_id = next(r["right_id"] for r in run(runner, "period", "enrolled", str(YEAR)) if r["member_key"] == "bob")
    last_year = dt.datetime(YEAR - 1, 12, 30, tzinfo=dt.UTC)
    db.session.add_all(MissedVote(right_id=right_id, vote_id=v, closed_at=last_year) for v in earlier)
    db.session.commit()
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "This year", "--question", "Q?")
    cast(client, by_voter["ada"], {"q1": "yes"})
    # Bob's fourth miss, but his first this year: no forfeiture.
    assert run(runner, "vote", "close", str(vote_id))["forfeited"] == 0
    assert enrolled(runner) == {"ada": "link", "bob": "link"}
