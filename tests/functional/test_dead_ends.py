"""Every dead end says where to go: a closed vote's link leads to its results or says when they come,
a cancelled vote gives its reason, errors offer links again only where that helps, and the home page
lists the open votes and offers "check my standing"."""

from __future__ import annotations

import datetime as dt
import re

from ballot.tokens import BALLOT_LINK, token_service
from tests.functional.factories import YEAR, closes, opened, run, setup
from tests.functional.helpers import cast, path_of

PEOPLE = [("ada", "supporting"), ("bea", "supporting")]


def charter(runner, inbox, title: str = "Charter the Packaging WG") -> tuple[int, dict[str, str]]:
    return opened(runner, inbox, "--kind", "charter", "--title", title, "--question", title)


def test_a_closed_votes_link_says_when_the_results_come_then_leads_to_them(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea"))
    vote_id, links = charter(runner, inbox)
    cast(client, links["ada"], {"q1": "yes"})
    run(runner, "vote", "close", str(vote_id))
    page = client.get(path_of(links["bea"]))
    assert page.status_code == 409
    assert "Voting has ended" in page.text and "ballots can no longer be cast" in page.text
    assert "The results are published once the ballots are counted" in page.text
    assert "ask for your links again" not in page.text, "new links cannot help"

    run(runner, "vote", "publish", str(vote_id))
    page = client.get(path_of(links["bea"]))
    assert f'href="/votes/{vote_id}/results"' in page.text and "its results are published" in page.text
    # A link that has expired with its vote (links expire when voting ends) leads there too.
    right = token_service(app.config, BALLOT_LINK).loads(path_of(links["bea"]).rsplit("/", 1)[1])["r"]
    expired = token_service(app.config, BALLOT_LINK).dumps({"v": vote_id, "r": right},
                                                           dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    page = client.get(f"/votes/{vote_id}/ballot/{expired}")
    assert page.status_code == 410 and "This link has expired." in page.text
    assert f'href="/votes/{vote_id}/results"' in page.text


def test_a_cancelled_vote_gives_its_reason(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea"))
    vote_id, links = charter(runner, inbox)
    run(runner, "vote", "cancel", str(vote_id), "--reason", "The charter was withdrawn by its authors.")
    page = client.get(path_of(links["ada"]))
    assert page.status_code == 409 and "This vote was cancelled" in page.text
    assert "The charter was withdrawn by its authors." in page.text and "counts for nobody" in page.text


def test_errors_offer_links_again_only_where_they_help(app, client):
    broken = client.get("/votes/1/ballot/not-a-token")
    assert broken.status_code == 400 and 'href="/link-again"' in broken.text
    missing = client.get("/votes/999/results")
    assert missing.status_code == 404 and 'href="/link-again"' not in missing.text
    assert "There is no vote 999." in missing.text, "a full sentence"
    assert 'href="/"' in missing.text and "mailto:elections@127.0.0.1" in missing.text


def test_the_home_page_lists_open_votes_and_offers_the_standing(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea"))
    later, _ = charter(runner, inbox, "Charter the Typing WG")
    sooner = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Charter the Docs WG",
                 "--question", "Charter the Docs WG", "--closes-at", closes(2))["id"]
    run(runner, "vote", "open", str(sooner))
    run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Charter the Secret WG",
        "--question", "Charter the Secret WG", "--closes-at", closes(9))  # a draft
    page = client.get("/").text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    opened_list = text[text.index("Open votes"):text.index("Published results")]
    assert opened_list.index("Charter the Docs WG") < opened_list.index("Charter the Typing WG"), "soonest first"
    assert re.search(r"Charter the Docs WG closes \w+day \d\d \w+ \d{4} at \d\d:\d\d UTC", opened_list)
    assert "Charter the Secret WG" not in text
    assert "Check my standing" in text and 'href="/link-again"' in page
    run(runner, "vote", "close", str(later))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/").text))
    assert re.search(r"Being counted Charter the Typing WG voting ended", text)
