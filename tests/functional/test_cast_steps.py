"""Casting step by step, as a browser without JavaScript does it: the ballot, the review and the receipt
are each a GET (POST-redirect-GET), so that reload and Back show them again. Between the review and the
cast the choices are kept in the voter's own browser alone: a signed cookie sent to that ballot link only,
read for an hour, cleared by the cast; never in a URL, never stored by the service."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest

from ballot.errors import TokenExpired
from ballot.tokens import CHOICES_KEPT, RECEIPT_KEPT, token_service
from ballot.votes.views import CHOICES_COOKIE, CHOICES_MOST_BYTES, RECEIPT_COOKIE
from tests.functional.factories import opened, run, setup
from tests.functional.helpers import RECEIPT, csrf_token, path_of

PEOPLE = [("ada", "supporting"), ("bea", "supporting")]


def charter(runner, inbox, tmp_path) -> tuple[int, dict[str, str]]:
    setup(runner, tmp_path, PEOPLE, opted_in=("ada", "bea"))
    return opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                  "--question", "Charter the Packaging WG")


def choices_set_by(response) -> str | None:
    """The Set-Cookie header of the choices cookie in a response, if any."""
    return next((c for c in response.headers.getlist("Set-Cookie") if c.startswith(CHOICES_COOKIE + "=")), None)


def value_of(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def checked(page: str, value: str) -> bool:
    return re.search(rf'value="{value}"[^>]*\bchecked\b', page) is not None


def test_the_review_is_a_page_of_its_own_and_the_cast_clears_the_choices(app, runner, client, inbox, tmp_path):
    vote_id, links = charter(runner, inbox, tmp_path)
    path = path_of(links["ada"])
    review_path = path + "/review"
    token = csrf_token(client.get(path).text)

    sent = client.post(path, data={"csrf_token": token, "q1": "no", "step": "review", "other": "x"})
    assert sent.status_code == 303 and sent.headers["Location"] == review_path, "the choices are not in the URL"
    cookie = choices_set_by(sent)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert f"Path={path};" in cookie + ";", "sent back to this ballot link alone"
    assert {"httponly", "secure"} <= attributes and "SameSite=Lax" in cookie
    assert not attributes & {"expires", "max-age"}, "dropped when the browser closes"
    service, now = token_service(app.config, CHOICES_KEPT), dt.datetime.now(dt.UTC)
    kept = service.loads(value_of(cookie), now + dt.timedelta(minutes=59))  # signed, and read for an hour
    assert kept == {"v": vote_id, "f": {"q1": ["no"]}}, "the choices, and nothing else of the form"
    with pytest.raises(TokenExpired):
        service.loads(value_of(cookie), now + dt.timedelta(hours=1, seconds=1))

    for _ in range(2):  # the redirect's target, and a reload
        review = client.get(review_path)
        assert review.status_code == 200 and "Review your ballot" in review.text
        assert re.search(r"<th scope=\"row\">Charter the Packaging WG</th>\s*<td>No</td>", review.text)
        assert '<input type="hidden" name="q1" value="no">' in review.text
        assert f'<form method="post" action="{path}" class="inline" data-cast>' in review.text
        assert f'<a href="{path}" class="button secondary">Change my choices</a>' in review.text
    # Back to the ballot, or "Change my choices": the ballot as it was filled in.
    ballot = client.get(path)
    assert ballot.status_code == 200 and checked(ballot.text, "no") and not checked(ballot.text, "yes")
    assert "Please correct your ballot" not in ballot.text

    cast = client.post(path, data={"csrf_token": csrf_token(review.text), "q1": "no", "step": "cast"})
    assert cast.status_code == 303 and cast.headers["Location"] == path
    cleared = choices_set_by(cast)
    assert value_of(cleared) == "" and "Max-Age=0" in cleared and f"Path={path}" in cleared, "cleared by the cast"
    assert client.get_cookie(CHOICES_COOKIE, domain="vote.test", path=path) is None
    receipt = RECEIPT.search(client.get(path).text).group(1)
    # After the cast, the review's address and the link both show the receipt (Back, reload).
    for shown in (client.get(review_path), client.get(path), client.get(review_path)):
        assert shown.status_code == 200 and "Your ballot is cast" in shown.text
        assert RECEIPT.search(shown.text).group(1) == receipt
    # A ballot page left open in another tab, reviewed after the cast: sent to the link, which says so.
    late = client.post(path, data={"csrf_token": token, "q1": "yes", "step": "review"})
    assert late.status_code == 303 and late.headers["Location"] == path and choices_set_by(late) is None
    # Another browser: voted, without the receipt; choices it kept for the link are forgotten.
    other = app.test_client()
    other.set_cookie(CHOICES_COOKIE, value_of(cookie), domain="vote.test", path=path)
    page = other.get(review_path)
    assert page.status_code == 200 and "You have already voted" in page.text and RECEIPT.search(page.text) is None
    assert "Max-Age=0" in choices_set_by(page)
    assert run(runner, "vote", "show", str(vote_id))["participants"] == 1


def test_a_cast_straight_from_the_ballot_page_answers_with_the_receipt_alone(app, runner, client, inbox, tmp_path):
    """A browser that keeps no choices for the link (the ballot cast from its page with JavaScript, or by a
    script) is told nothing about them: the cast's answer sets the receipt's cookie and no other."""
    _, links = charter(runner, inbox, tmp_path)
    path = path_of(links["bea"])
    cast = client.post(path, data={"csrf_token": csrf_token(client.get(path).text), "q1": "yes", "step": "cast"})
    assert cast.status_code == 303 and cast.headers["Location"] == path
    assert [c.split("=", 1)[0] for c in cast.headers.getlist("Set-Cookie")] == [RECEIPT_COOKIE]


def test_a_refused_ballot_is_named_on_the_ballot_page_until_corrected(app, runner, client, inbox, tmp_path):
    vote_id, links = charter(runner, inbox, tmp_path)
    path = path_of(links["ada"])
    token = csrf_token(client.get(path).text)

    refused = client.post(path, data={"csrf_token": token, "step": "review"})  # nothing chosen
    assert refused.status_code == 303 and refused.headers["Location"] == path
    for _ in range(2):  # the redirect's target, and a reload: the refusal again, a 4xx, focused
        page = client.get(path)
        assert page.status_code == 400 and "Please correct your ballot" in page.text
        assert 'id="problems" role="alert" tabindex="-1" autofocus' in page.text
        assert '<a href="#question-q1">Charter the Packaging WG: choose one of yes, no, abstain.</a>' in page.text
        assert 'aria-describedby="q1-error"' in page.text
    nothing = client.get(path + "/review")
    assert nothing.status_code == 303 and nothing.headers["Location"] == path, "nothing to review"

    corrected = client.post(path, data={"csrf_token": token, "q1": "abstain", "step": "review"})
    assert corrected.status_code == 303 and corrected.headers["Location"] == path + "/review"
    page = client.get(path)
    assert page.status_code == 200 and checked(page.text, "abstain") and "Please correct" not in page.text
    # A refused cast (a review page's form altered) is kept and named the same way; nothing is recorded.
    bad = client.post(path, data={"csrf_token": token, "q1": "maybe", "step": "cast"})
    assert bad.status_code == 303 and bad.headers["Location"] == path
    page = client.get(path)
    assert page.status_code == 400 and "&#39;maybe&#39; is not one of the choices" in page.text
    assert run(runner, "vote", "show", str(vote_id))["participants"] == 0


def test_kept_choices_expire_and_altered_ones_are_refused_plainly(app, runner, client, inbox, tmp_path):
    vote_id, links = charter(runner, inbox, tmp_path)
    path = path_of(links["ada"])
    service = token_service(app.config, CHOICES_KEPT)
    now = dt.datetime.now(dt.UTC)

    def browser_with(value: str):
        browser = app.test_client()
        browser.set_cookie(CHOICES_COOKIE, value, domain="vote.test", path=path)
        return browser

    fresh = service.dumps({"v": vote_id, "f": {"q1": ["yes"]}}, now + dt.timedelta(minutes=5))
    assert "Review your ballot" in browser_with(fresh).get(path + "/review").text

    # Past their hour: forgotten, and the ballot page says so once.
    browser = browser_with(service.dumps({"v": vote_id, "f": {"q1": ["yes"]}}, now - dt.timedelta(seconds=1)))
    review = browser.get(path + "/review")
    assert review.status_code == 303 and review.headers["Location"] == path
    page = browser.get(path)
    assert page.status_code == 200 and "they are forgotten now" in page.text and not checked(page.text, "yes")
    assert "Max-Age=0" in choices_set_by(page)
    assert "forgotten" not in browser.get(path).text

    # Altered, signed for another vote, or another kind of token: a plain 400 that forgets the cookie,
    # after which the link opens an empty ballot.
    payload = fresh.split(".")[0]
    altered = ("B" if payload[5] == "A" else "A").join((payload[:5], fresh[6:]))
    for value in (altered, service.dumps({"v": vote_id + 1, "f": {"q1": ["yes"]}}, now + dt.timedelta(hours=1)),
                  token_service(app.config, RECEIPT_KEPT).dumps({"v": vote_id, "f": {"q1": ["yes"]}}), "forged"):
        for where in (path, path + "/review"):
            browser = browser_with(value)
            page = browser.get(where)
            assert page.status_code == 400, (value, where)
            assert "The choices this browser kept for your ballot were altered" in page.text
            assert "Nothing was recorded" in page.text and "Reload this page" in page.text
            assert "Max-Age=0" in choices_set_by(page)
            again = browser.get(path)
            assert again.status_code == 200 and not checked(again.text, "yes")
    assert run(runner, "vote", "show", str(vote_id))["participants"] == 0


def test_the_reviews_address_of_an_ended_vote_says_where_to_go(app, runner, client, inbox, tmp_path):
    vote_id, links = charter(runner, inbox, tmp_path)
    run(runner, "vote", "close", str(vote_id))
    page = client.get(path_of(links["ada"]) + "/review")
    assert page.status_code == 409 and "Voting has ended" in page.text
    assert client.get(f"/votes/{vote_id}/ballot/not-a-token/review").status_code == 400


def board(runner, inbox, tmp_path, method: str, candidates: list[str]) -> tuple[int, str]:
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=("ada", "bea"))
    args = ["--kind", "board", "--title", "Board", "--seats", "1", "--method", method]
    for name in candidates:
        args += ["--candidate", name]
    vote_id, links = opened(runner, inbox, *args)
    return vote_id, path_of(links["ada"])


def test_a_large_ranked_ballot_is_kept(app, runner, client, inbox, tmp_path):
    """Thirty candidates, every one ranked: well within what a browser keeps in a cookie."""
    names = [f"Candidate with a longish name {n:02}" for n in range(30)]
    vote_id, path = board(runner, inbox, tmp_path, "meek-stv", names)
    token = csrf_token(client.get(path).text)
    ranks = {f"board-rank-{n}": str(n + 1) for n in range(30)}
    sent = client.post(path, data={"csrf_token": token, "step": "review", **ranks})
    assert sent.status_code == 303 and sent.headers["Location"] == path + "/review"
    assert len(value_of(choices_set_by(sent))) < CHOICES_MOST_BYTES / 3
    assert all(f"<li>{name}</li>" in client.get(path + "/review").text for name in names)


def test_choices_too_large_for_a_cookie_are_reviewed_without_being_kept(app, runner, client, inbox, tmp_path):
    names = [secrets.token_urlsafe(75) for _ in range(60)]  # 100 random characters each: nothing to compress
    vote_id, path = board(runner, inbox, tmp_path, "approval", names)
    token = csrf_token(client.get(path).text)

    review = client.post(path, data={"csrf_token": token, "step": "review", "board": names})
    assert review.status_code == 200 and "Review your ballot" in review.text, "the review is the POST's answer"
    assert choices_set_by(review) is None
    assert "too many for this browser to keep" in review.text
    refused = client.post(path, data={"csrf_token": token, "step": "review", "board": names, "board-abstain": "1"})
    assert refused.status_code == 400 and "Please correct your ballot" in refused.text
    assert choices_set_by(refused) is None

    cast = client.post(path, data={"csrf_token": csrf_token(review.text), "step": "cast", "board": names})
    assert cast.status_code == 303 and RECEIPT.search(client.get(path).text)
    assert run(runner, "vote", "show", str(vote_id))["participants"] == 1
