"""The receipt after a cast: the browser lands on the ballot link (POST-redirect-GET), which shows the
receipt again on reload and Back from a cookie kept in that browser alone; never emailed."""

from __future__ import annotations

import datetime as dt

from ballot.tokens import RECEIPT_KEPT, token_service
from ballot.votes.views import RECEIPT_COOKIE
from tests.functional.factories import opened, run, setup
from tests.functional.helpers import RECEIPT, csrf_token, path_of

PEOPLE = [("ada", "supporting"), ("bea", "supporting")]


def cast_answering(client, path: str, answer: str = "yes"):
    page = client.get(path)
    data = {"csrf_token": csrf_token(page.text), "q1": answer}
    review = client.post(path, data={**data, "step": "review"}, follow_redirects=True)
    assert review.status_code == 200 and "Review your ballot" in review.text
    return client.post(path, data={**data, "step": "cast"})


def test_a_cast_redirects_to_the_link_which_shows_the_receipt_on_reload(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea"))
    vote_id, links = opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                           "--question", "Charter the Packaging WG")
    path = path_of(links["ada"])
    token = csrf_token(client.get(path).text)  # a review page left open in another tab, for Cast again below

    cast = cast_answering(client, path)
    assert cast.status_code == 303 and cast.headers["Location"] == path
    cookie = next(c for c in cast.headers.getlist("Set-Cookie") if c.startswith(RECEIPT_COOKIE + "="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert f"Path={path}" in cookie, "sent back to this ballot link alone"
    assert {"httponly", "secure", "samesite"} <= attributes and "SameSite=Lax" in cookie
    assert not attributes & {"expires", "max-age"}, "dropped when the browser closes"

    shown = client.get(path)  # the redirect's target, and every reload
    assert shown.status_code == 200 and "Your ballot is cast" in shown.text
    receipt = RECEIPT.search(shown.text).group(1)
    assert RECEIPT.search(client.get(path).text).group(1) == receipt
    assert "Charter the Packaging WG" in shown.text

    # Cast again from a review page left open in another tab: refused, and the first ballot's receipt shown.
    again = client.post(path, data={"csrf_token": token, "q1": "no", "step": "cast"})
    assert again.status_code == 409 and "already been cast" in again.text
    assert RECEIPT.search(again.text).group(1) == receipt

    # Another browser with the same link: voted, and no receipt.
    other = app.test_client()
    page = other.get(path)
    assert page.status_code == 200 and "You have already voted" in page.text and receipt not in page.text
    assert RECEIPT.search(page.text) is None

    # The receipt goes in no message.
    run(runner, "mail", "send")
    assert all(receipt not in message.as_string() and receipt.replace("-", "") not in message.as_string()
               for message in inbox.messages)
    closed = run(runner, "vote", "close", str(vote_id))
    assert closed["ballots"] == 1


def test_a_kept_receipt_is_shown_only_for_its_vote_and_for_an_hour(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea"))
    vote_id, links = opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                           "--question", "Charter the Packaging WG")
    path = path_of(links["ada"])
    assert cast_answering(client, path).status_code == 303
    service = token_service(app.config, RECEIPT_KEPT)
    now = dt.datetime.now(dt.UTC)

    def shown_with(value: str) -> str:
        browser = app.test_client()
        browser.set_cookie(RECEIPT_COOKIE, value, domain="vote.test", path=path)
        return browser.get(path).text

    assert "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF" in shown_with(
        service.dumps({"v": vote_id, "t": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}, now + dt.timedelta(minutes=5)))
    for value in (service.dumps({"v": vote_id, "t": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}, now - dt.timedelta(seconds=1)),
                  service.dumps({"v": vote_id + 1, "t": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}, now + dt.timedelta(hours=1)),
                  token_service(app.config, "standing").dumps({"v": vote_id, "t": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}),
                  "forged"):
        page = shown_with(value)
        assert "You have already voted" in page and "AAAA-BBBB" not in page


def test_a_receipt_is_found_however_it_is_typed(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea"))
    vote_id, links = opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                            "--question", "Charter the Packaging WG")
    cast_answering(client, path_of(links["ada"]), "no")
    receipt = RECEIPT.search(client.get(path_of(links["ada"])).text).group(1)
    run(runner, "vote", "close", str(vote_id))
    run(runner, "vote", "publish", str(vote_id))
    results = f"/votes/{vote_id}/results"
    token = csrf_token(client.get(results).text)
    compact = receipt.replace("-", "")
    for typed in (receipt.lower(), compact, receipt.replace("-", " "), receipt.replace("O", "0").replace("I", "1")):
        page = client.post(results, data={"csrf_token": token, "receipt": typed})
        assert page.status_code == 200
        assert f"Receipt {receipt} is among the counted ballots" in page.text, typed
        assert "Charter the Packaging WG: no" in page.text
        assert 'id="receipt-answer" tabindex="-1" autofocus' in page.text
    assert f'action="{results}#receipt-answer"' in page.text  # the answer is where the page lands

    wrong = compact[:-1] + ("A" if compact[-1] != "A" else "B")
    page = client.post(results, data={"csrf_token": token, "receipt": wrong})
    assert "We did not find receipt" in page.text and "does not mean that your ballot was not counted" in page.text
    assert "Check each of the 24 letters and digits" in page.text and "elections@127.0.0.1" in page.text
