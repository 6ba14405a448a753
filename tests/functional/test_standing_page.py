"""A right's standing page lists this period's votes: which it could vote in, which it took part in, which it
missed, which are still open and which were cancelled; what forfeiture means under the policy; whom to ask."""

from __future__ import annotations

import re

from ballot.eligibility import services as eligibility
from tests.functional.factories import YEAR, opened, run, setup
from tests.functional.helpers import cast, path_of


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def charter(runner, inbox, title: str):
    return opened(runner, inbox, "--kind", "charter", "--title", title, "--question", title)


def test_the_standing_lists_the_periods_votes_and_what_missing_means(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting"), ("bea", "supporting")], policy="seed", opted_in=("ada", "bea"))
    took_part, links = charter(runner, inbox, "Charter the Docs WG")
    cast(client, links["ada"], {"q1": "yes"})
    run(runner, "vote", "close", str(took_part))
    run(runner, "vote", "publish", str(took_part))
    missed, _ = charter(runner, inbox, "Charter the Typing WG")
    run(runner, "vote", "close", str(missed))
    cancelled, _ = charter(runner, inbox, "Charter the Secret WG")
    run(runner, "vote", "cancel", str(cancelled), "--reason", "Withdrawn.")
    charter(runner, inbox, "Charter the Packaging WG")  # still open

    (ada,) = [r for r in eligibility.rights_of(eligibility.get_period(YEAR)) if r.member.key == "ada"]
    page = client.get(path_of(eligibility.standing_link(ada.id, YEAR)))
    assert page.status_code == 200
    text = text_of(page.text)
    assert "You could vote in 4 votes this period: you took part in 1, missed 1, and 1 is still open for you." in text
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", page.text, re.S)
    said = {re.sub(r"<[^>]+>", "", title).strip(): re.sub(r"<[^>]+>", "", what) for title, _, what in rows}
    assert said == {
        "Charter the Docs WG": "took part",
        "Charter the Typing WG": "missed",
        "Charter the Secret WG": "cancelled: counts for nobody",
        "Charter the Packaging WG": "not voted yet: use the link in the email about it",
    }
    assert f'href="/votes/{took_part}/results"' in page.text, "a published vote links to its results"
    assert "Votes missed this period 1: Charter the Typing WG." in text
    assert "Missing 2 votes in the eligibility period ends your voting rights until the next period." in text
    assert "left out of the votes opened afterwards, until the next eligibility period" in text
    assert "mailto:elections@127.0.0.1" in page.text and 'href="/link-again"' in page.text


def test_a_forfeiture_under_the_calendar_year_ends_with_the_year(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting"), ("bea", "supporting")], opted_in=("ada", "bea"))
    for n in range(4):  # psf-bylaws 4.11: four missed votes in a calendar year
        vote_id, links = charter(runner, inbox, f"Charter {n}")
        cast(client, links["bea"], {"q1": "yes"})
        run(runner, "vote", "close", str(vote_id))
    (ada,) = [r for r in eligibility.rights_of(eligibility.get_period(YEAR)) if r.member.key == "ada"]
    text = text_of(client.get(path_of(eligibility.standing_link(ada.id, YEAR))).text)
    assert "Voting rights forfeited until 1 January" in text
    assert "Missing 4 votes in a calendar year ends your voting rights for the rest of that year." in text
    assert "you took part in 0, missed 4." in text
