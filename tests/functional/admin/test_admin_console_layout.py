"""The console uses the screen (issue 10, item 15): the audit log filtered by action, actor, vote and
day, its entries naming who and what; the dashboard and the vote list show turnout."""

from __future__ import annotations

import datetime as dt
import re

from ballot.audit import audit
from ballot.extensions import db
from tests.functional.admin.console import follow, post
from tests.functional.factories import YEAR, create, opened, run, setup
from tests.functional.helpers import cast

PEOPLE = [("ada", "supporting"), ("bea", "supporting"), ("cy", "supporting")]


def subjects(page) -> list[str]:
    return re.findall(r"<td>((?:vote|period|item) [^<]*)</td>", page.text)


def test_the_audit_log_is_filtered_by_action_actor_vote_and_day(console, runner, inbox, tmp_path, account):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea"])
    first, _ = opened(runner, inbox, "--kind", "charter", "--title", "First", "--question", "Q?")
    for n in range(11):  # vote 12 must not match vote 1
        create(runner, "--kind", "charter", "--title", f"Draft {n}", "--question", "Q?")
    follow(console, post(console, f"/admin/votes/{first}/remind"))
    audit("test.action", "item old", actor="someone@example.org", now=dt.datetime(2020, 5, 1, 12, tzinfo=dt.UTC))
    db.session.commit()

    page = console.get("/admin/audit")
    assert '<option value="vote.remind">vote.remind</option>' in page.text
    assert f'<option value="{account["email"]}">' in page.text
    assert f'<option value="{first}">{first}: First' in page.text
    assert f"<td>vote {first}: First</td>" in page.text  # a vote is named by number and title, from its creation
    assert f"<td>period {YEAR}</td>" in page.text

    by_vote = console.get(f"/admin/audit?vote={first}")
    assert set(subjects(by_vote)) == {f"vote {first}: First"}
    assert [a for a in re.findall(r'<td class="nowrap">([a-z.-]+)</td>', by_vote.text)] == [
        "vote.remind", "vote.open", "vote.create"]
    assert "3 entries match." in by_vote.text

    by_actor = console.get(f"/admin/audit?actor={account['email']}")
    assert re.findall(r'<td class="nowrap">([a-z.-]+)</td>', by_actor.text) == ["vote.remind", "sign-in"]
    by_action = console.get("/admin/audit?action=vote.create")
    assert len(subjects(by_action)) == 12 and "1 entry" not in by_action.text
    by_day = console.get("/admin/audit?since=2020-05-01&until=2020-05-01")
    assert subjects(by_day) == ["item old"] and "1 entry matches." in by_day.text
    assert subjects(console.get("/admin/audit?until=2020-04-30")) == []
    assert "Nothing matches." in console.get("/admin/audit?action=no.such").text

    refused = console.get("/admin/audit?since=May&vote=x")
    assert refused.status_code == 400
    assert '<p class="problem" id="since-error">“May” is not a day as YYYY-MM-DD.</p>' in refused.text
    assert "is not a vote&#39;s number" in refused.text or "is not a vote's number" in refused.text

    for n in range(60):
        audit("test.action", f"item {n}", actor="someone@example.org")
    db.session.commit()
    paged = console.get("/admin/audit?actor=someone%40example.org")
    assert "Page 1 of 2" in paged.text and 'href="/admin/audit?page=2&amp;actor=someone@example.org"' in paged.text


def test_the_dashboard_and_the_vote_list_show_turnout(console, runner, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea", "cy"])
    _, found = opened(runner, inbox, "--kind", "charter", "--title", "Open one", "--question", "Q?")
    assert cast(console, found["ada"], {"q1": "yes"}).status_code == 200
    create(runner, "--kind", "charter", "--title", "A draft", "--question", "Q?")
    closed, found = opened(runner, inbox, "--kind", "charter", "--title", "Closed one", "--question", "Q?")
    for who in ("ada", "bea"):
        assert cast(console, found[who], {"q1": "no"}).status_code == 200
    run(runner, "vote", "close", str(closed))

    votes = console.get("/admin/votes").text
    assert re.search(r"Open one</a></th>.*?<td>1 of 3 \(33\.3%\)</td>", votes, re.DOTALL)
    assert re.search(r"Closed one</a></th>.*?<td>2 of 3 \(66\.7%\)</td>", votes, re.DOTALL)
    assert re.search(r"A draft</a></th>.*?<td>3 would vote</td>", votes, re.DOTALL)
    assert "<td>Working-group charter</td>" in votes
    dashboard = console.get("/admin/").text
    assert "turnout 1 of 3 (33.3%)" in dashboard and "A draft</a>: 3 would vote if it opened now" in dashboard
