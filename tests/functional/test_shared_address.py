"""Many members behind one address (an office, a conference network) can all enrol and vote.

Ballot and opt-in links are signed capabilities that act once; a limit per
client address would protect nothing and would turn away members who share
one (docs/DOMAIN.md, "Rate limits"). Every request here comes from the same
client address, with the limiter on as configured by default.
"""

from __future__ import annotations

import datetime as dt

from tests.functional.factories import roster_file
from tests.functional.helpers import cast, csrf_token, path_of, receipt_of, run

YEAR = dt.datetime.now(dt.UTC).year
MEMBERS = 40  # more than any per-address limit a ballot page used to have (30 a minute)


def test_forty_members_on_one_network_enrol_and_vote(app, runner, client, inbox, tmp_path):
    assert app.config["RATELIMIT_ENABLED"]
    roster = roster_file(tmp_path, *(f"m{n},Member,Number {n},m{n}@example.org,fellow:2010-01-01:,,"
                                     for n in range(MEMBERS)))
    run(runner, "period", "open", str(YEAR))
    run(runner, "roster", "import", str(roster), "--period", str(YEAR))
    run(runner, "period", "send-opt-in", str(YEAR))
    run(runner, "mail", "send")

    for n in range(MEMBERS):
        (link,) = inbox.links(f"m{n}@example.org")
        page = client.get(path_of(link))
        enrolled = client.post(path_of(link), data={"csrf_token": csrf_token(page.text)})
        assert enrolled.status_code == 200 and "You are enrolled" in enrolled.text, n
    inbox.clear()

    closes_at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "governance",
               "--title", "Amend the bylaws", "--closes-at", closes_at, "--question", "Adopt the amendment?")
    run(runner, "vote", "open", str(vote["id"]))
    run(runner, "mail", "send")
    receipts = set()
    for n in range(MEMBERS):
        (link,) = [link for link in inbox.links(f"m{n}@example.org") if "/ballot/" in link]
        response = cast(client, link, {"q1": "yes"})
        assert response.status_code == 200, (n, response.status_code)
        receipts.add(receipt_of(response))

    closed = run(runner, "vote", "close", str(vote["id"]))
    assert closed["ballots"] == MEMBERS == len(receipts)
    assert closed["result"]["questions"][0]["counts"]["yes"] == MEMBERS
