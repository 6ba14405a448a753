"""Many members behind one address (an office, a conference network) can all enrol and vote.

Ballot and opt-in links are signed capabilities that act once; a limit per
client address would protect nothing and would turn away members who share
one (docs/DOMAIN.md, "Rate limits"). Every request here comes from the same
client address, with the limiter on as configured by default.
"""

from __future__ import annotations

from tests.functional.factories import CURRENT, asked_to_opt_in, create, fellows, member_row
from tests.functional.helpers import cast, opt_in, receipt_of, run

MEMBERS = 40  # more than any per-address limit a ballot page used to have (30 a minute)


def test_forty_members_on_one_network_enrol_and_vote(app, runner, client, inbox, tmp_path):
    assert app.config["RATELIMIT_ENABLED"]
    assert asked_to_opt_in(runner, tmp_path, *(member_row(key, f"fellow:{CURRENT}") for key, _ in fellows(MEMBERS))) \
        == MEMBERS

    for n in range(MEMBERS):
        (link,) = inbox.links(f"m{n}@example.org")
        enrolled = opt_in(client, link)
        assert enrolled.status_code == 200 and "You are enrolled" in enrolled.text, n
    inbox.clear()

    vote = create(runner, "--kind", "governance", "--title", "Amend the bylaws", "--question", "Adopt the amendment?")
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
