""""Send me my links again": the same answer for every address, the links only to the roster's address."""

from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import event, func, select

from ballot.extensions import db
from ballot.votes.models import LinkRequest
from tests.functional.factories import YEAR, asked_to_opt_in, create
from tests.functional.helpers import ask_for_links, cast, csrf_token, opt_in, path_of, run

THIS_YEAR = f"{YEAR}-01-01:{YEAR}-12-31"
MEMBERS = (
    f"ada,Ada,Lovelace,ada@example.org,supporting:{THIS_YEAR};sponsor:{THIS_YEAR},,ACME Corp",
    f"brian,Brian,Kernighan,brian@example.org,contributing:{YEAR - 1}-06-01:,,",
    "basic,Basic,Member,basic@example.org,basic::,,",
)


@pytest.fixture
def year(app, runner, client, inbox, tmp_path):
    """Ada enrolled (as an individual and as ACME's delegate), Brian not yet; one open vote."""
    asked_to_opt_in(runner, tmp_path, *MEMBERS)
    for link in inbox.links("ada@example.org"):
        assert "You are enrolled" in opt_in(client, link).text
    vote = create(runner, "--kind", "charter", "--title", "Packaging WG", "--question", "Charter the Packaging WG?")
    run(runner, "vote", "open", str(vote["id"]))
    run(runner, "mail", "send")
    inbox.clear()
    return vote["id"]


def sent_to(runner, inbox, address: str) -> list[str]:
    run(runner, "mail", "send")
    return [message["Subject"] for message in inbox.to(address)]


def test_the_answer_is_the_same_for_known_and_unknown_addresses(year, client, runner, inbox):
    known = ask_for_links(client, "ada@example.org")
    unknown = ask_for_links(client, "nobody@example.org")
    basic = ask_for_links(client, "basic@example.org")  # on the roster, without a voting right
    assert known.status_code == unknown.status_code == basic.status_code == 200
    same = [r.text.replace(address, "ADDRESS")
            for r, address in ((known, "ada@example.org"), (unknown, "nobody@example.org"),
                               (basic, "basic@example.org"))]
    assert same[0] == same[1] == same[2]
    assert "a message with your links is on its way" in known.text
    assert sent_to(runner, inbox, "nobody@example.org") == []
    assert sent_to(runner, inbox, "basic@example.org") == []


@contextlib.contextmanager
def statements():
    """Every SQL statement the database is sent meanwhile (savepoint names made alike)."""
    seen: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        seen.append(re.sub(r"sa_savepoint_\d+", "sa_savepoint", statement))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def requests_waiting() -> int:
    return db.session.scalar(select(func.count()).select_from(LinkRequest))


def test_the_page_does_the_same_work_for_known_and_unknown_addresses(year, client):
    """No lookup while the asker waits: what the page does cannot tell whether an address is known."""
    work, pages = [], []
    for address in ("ada@example.org", "nobody@example.org", "basic@example.org", "brian@example.org"):
        page = client.get("/link-again")
        with statements() as seen:
            response = client.post("/link-again", data={"csrf_token": csrf_token(page.text), "email": address})
        assert response.status_code == 200
        work.append(seen)
        pages.append(response.text.replace(address, "ADDRESS"))
    assert work[0] and all(w == work[0] for w in work), work
    assert all(p == pages[0] for p in pages)
    assert not any("member" in statement.lower() for statement in work[0])
    assert requests_waiting() == 4


def test_the_worker_sends_the_links_and_forgets_the_request(year, client, runner, inbox):
    assert ask_for_links(client, "ada@example.org").status_code == 200
    assert ask_for_links(client, "nobody@example.org").status_code == 200
    assert requests_waiting() == 2
    assert inbox.to("ada@example.org") == []
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert requests_waiting() == 0  # the addresses asked for are kept no longer than needed
    assert sorted(str(m["Subject"]).strip() for m in inbox.to("ada@example.org")) == [
        "Your PSF voting standing as an individual member, " + str(YEAR),
        "Your PSF voting standing as delegate of ACME Corp, " + str(YEAR),
        "Your ballot (as an individual member): Packaging WG",
        "Your ballot (as delegate of ACME Corp): Packaging WG"]
    assert "nobody@example.org" not in result.output and "ada@example.org" not in result.output


def test_a_ballot_link_for_each_right_that_has_not_voted(year, client, runner, inbox):
    assert ask_for_links(client, " Ada@Example.ORG ").status_code == 200  # as typed, in any case
    run(runner, "mail", "send")
    ballots = [m for m in inbox.to("ada@example.org") if m["Subject"].startswith("Your ballot")]
    texts = [inbox.text(m) for m in ballots]
    assert len(texts) == 2
    assert sorted("as delegate of ACME Corp" in t for t in texts) == [False, True]
    links = [link for link in inbox.links("ada@example.org") if "/ballot/" in link]
    assert len(links) == 2 and all(f"/votes/{year}/ballot/" in link for link in links)

    # The fresh link works; once that right has voted, only the other one is sent again.
    individual = next(link for link, t in zip(links, texts, strict=True) if "as an individual member" in t)
    assert cast(client, individual, {"q1": "yes"}).status_code == 200
    inbox.clear()
    ask_for_links(client, "ada@example.org")
    run(runner, "mail", "send")
    assert ["as delegate of ACME Corp" in inbox.text(m) for m in inbox.to("ada@example.org")
            if m["Subject"].startswith("Your ballot")] == [True]


def test_the_opt_in_link_while_enrolment_is_open(year, client, runner, inbox):
    ask_for_links(client, "brian@example.org")
    assert sent_to(runner, inbox, "brian@example.org") == [
        f"Do you want to vote in the PSF in {YEAR}, as an individual member?",
        f"Your PSF voting standing as an individual member, {YEAR}"]
    link = inbox.links("brian@example.org")[0]
    assert "/opt-in/" in link and client.get(path_of(link)).status_code == 200

    inbox.clear()
    run(runner, "period", "close-enrolment", str(YEAR))
    assert ask_for_links(client, "brian@example.org").status_code == 200
    assert sent_to(runner, inbox, "brian@example.org") == [f"Your PSF voting standing as an individual member, {YEAR}"]


def test_nothing_for_a_closed_vote(year, client, runner, inbox):
    run(runner, "vote", "close", str(year))
    assert ask_for_links(client, "ada@example.org").status_code == 200
    assert not [s for s in sent_to(runner, inbox, "ada@example.org") if s.startswith("Your ballot")]


def test_the_standing_link_of_each_right(year, client, runner, inbox):
    """Whoever asks for their links also gets each right's standing page, one message per right,
    the subjects telling the rights apart."""
    ask_for_links(client, "ada@example.org")
    run(runner, "mail", "send")
    standing = [m for m in inbox.to("ada@example.org") if "standing" in m["Subject"]]
    assert sorted(m["Subject"] for m in standing) == [
        f"Your PSF voting standing as an individual member, {YEAR}",
        f"Your PSF voting standing as delegate of ACME Corp, {YEAR}"]
    for message in standing:
        (link,) = [link for link in inbox.links("ada@example.org") if link in inbox.text(message)]
        page = client.get(path_of(link))
        assert page.status_code == 200 and "Your voting standing" in page.text
        assert "Packaging WG" in page.text


def test_an_address_that_is_not_one_is_refused_with_the_reason(year, client):
    for bad in ("", "ada", "ada@", "a da@example.org"):
        response = ask_for_links(client, bad)
        assert response.status_code == 400
        assert "Enter the email address" in response.text and 'aria-invalid="true"' in response.text


def test_rate_limited_per_address_known_or_not(year, client, app, runner, inbox):
    limit = int(app.config["BALLOT_LINK_AGAIN_ADDRESS_RATE_LIMIT"].split()[0])
    for address in ("ada@example.org", "nobody@example.org"):
        statuses = [ask_for_links(client, address).status_code for _ in range(limit + 1)]
        assert statuses == [200] * limit + [429]
    assert ask_for_links(client, "Nobody@Example.org").status_code == 429  # the same address, differently typed
    assert ask_for_links(client, "brian@example.org").status_code == 200  # another address is not held back
    assert len([s for s in sent_to(runner, inbox, "ada@example.org") if s.startswith("Your ballot")]) == 2 * limit


def test_rate_limited_per_client(year, client, app):
    limit = int(app.config["BALLOT_LINK_AGAIN_RATE_LIMIT"].split()[0])
    statuses = [ask_for_links(client, f"someone{n}@example.org").status_code for n in range(limit + 1)]
    assert statuses == [200] * limit + [429]
    refused = ask_for_links(client, "ada@example.org")
    assert refused.status_code == 429 and "wait an hour" in refused.text


def test_linked_from_the_home_page_and_from_a_bad_link(client):
    assert 'href="/link-again"' in client.get("/").text
    response = client.get("/votes/1/ballot/not-a-token")
    assert response.status_code == 400 and 'href="/link-again"' in response.text


def test_without_a_trusted_proxy_a_forwarded_address_changes_nothing(client, app):
    limit = int(app.config["BALLOT_LINK_AGAIN_RATE_LIMIT"].split()[0])
    statuses = [ask_for_links(client, f"someone{n}@example.org", forwarded_for=f"203.0.113.{n}").status_code
                for n in range(limit + 1)]
    assert statuses == [200] * limit + [429], "a client cannot pose as many by forging the header"


def test_the_opt_in_sent_again_is_the_campaigns_message_word_for_word(app, runner, client, inbox, tmp_path):
    """The campaign queues its messages in bulk, "send me my links again" one at a time: the same
    subject, text and HTML for each right (a delegate's, a name outside ASCII), but for the link's signature."""
    asked_to_opt_in(runner, tmp_path, *MEMBERS, "zoe,Zoë,Ångström,zoe@example.org,supporting::,,")

    def opt_in_messages(address: str) -> dict[str, tuple[str, str]]:
        unsigned = [(re.sub(r"/opt-in/\S+", "/opt-in/LINK", inbox.text(m)),
                     re.sub(r"/opt-in/[^\"<\s]+", "/opt-in/LINK", inbox.html(m))) for m in inbox.to(address)]
        return {m["Subject"]: body for m, body in zip(inbox.to(address), unsigned, strict=True)
                if m["Subject"].startswith("Do you want to vote")}

    campaign = {address: opt_in_messages(address) for address in ("ada@example.org", "zoe@example.org")}
    assert sorted(campaign["ada@example.org"]) == [
        f"Do you want to vote in the PSF in {YEAR}, as an individual member?",
        f"Do you want to vote in the PSF in {YEAR}, as delegate of ACME Corp?"]
    assert "Zoë Ångström" in next(iter(campaign["zoe@example.org"].values()))[0]
    for address, messages in campaign.items():
        inbox.clear()
        ask_for_links(client, address)
        run(runner, "mail", "send")
        assert opt_in_messages(address) == messages
