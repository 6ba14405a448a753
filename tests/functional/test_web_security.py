"""The voters' pages: security headers, CSRF, plain error pages, bad links, hidden results, redacted logs."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from ballot import RedactTokens
from ballot.eligibility import services as eligibility
from ballot.tokens import BALLOT_LINK, OPT_IN, token_service
from tests.functional.factories import CURRENT, roster_file, run
from tests.functional.helpers import CSRF, path_of


def assert_plain(response, status: int, *phrases: str) -> None:
    """A plain error page: the status, our own page, the explanation, and nothing of the internals."""
    assert response.status_code == status, response.text
    assert response.mimetype == "text/html"
    text = response.text
    assert "We could not do that" in text
    for phrase in phrases:
        assert phrase in text, (phrase, text)
    for leak in ("Traceback", "Werkzeug", "werkzeug", "File \"", "sqlalchemy", "itsdangerous", "BadSignature"):
        assert leak not in text, leak


@pytest.fixture
def open_vote(app, runner, inbox, tmp_path) -> dict:
    """An open charter vote with two enrolled voters and their ballot links."""
    run(runner, "period", "open", "2026")
    roster = roster_file(tmp_path, f"ada,Ada,,ada@example.org,supporting:{CURRENT},,",
                         f"bea,Bea,,bea@example.org,supporting:{CURRENT},,")
    run(runner, "roster", "import", str(roster), "--period", "2026")
    for right in eligibility.rights_of(eligibility.get_period(2026)):
        eligibility.confirm_opt_in(right)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    ids = []
    for title in ("Charter the Packaging WG", "Charter the Education WG"):
        vote = run(runner, "vote", "create", "--period", "2026", "--kind", "charter", "--title", title,
                   "--closes-at", closes, "--question", "Charter it?")
        ids.append(vote["id"])
    run(runner, "vote", "open", str(ids[0]))
    inbox.clear()
    run(runner, "mail", "send")
    links = {address: inbox.links(address)[0] for address in ("ada@example.org", "bea@example.org")}
    return {"id": ids[0], "draft_id": ids[1], "links": links}


# --- Headers -------------------------------------------------------------------------------

def check_headers(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    hsts = headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 24 * 3600


def test_every_kind_of_response_carries_the_security_headers(open_vote, client):
    ballot = client.get(path_of(open_vote["links"]["ada@example.org"]))
    assert ballot.status_code == 200
    for response in (client.get("/"), ballot, client.get("/nope"), client.get("/static/style.css"),
                     client.get(f"/votes/{open_vote['id']}/results.json")):
        check_headers(response)
        response.close()
    assert ballot.headers["Cache-Control"] == "no-store"  # ballot pages are never cached
    assert '<meta name="referrer" content="no-referrer">' in ballot.text


def test_pages_need_nothing_the_policy_forbids(open_vote, client):
    # Without 'unsafe-inline', inline scripts, styles and handlers would be blocked.
    ballot = client.get(path_of(open_vote["links"]["ada@example.org"])).text
    review = client.post(path_of(open_vote["links"]["ada@example.org"]),
                         data={"csrf_token": CSRF.search(ballot).group(1), "q1": "yes", "step": "review"},
                         follow_redirects=True).text
    for page in (ballot, review, client.get("/").text):
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", page)
        assert not re.search(r"(src|href)=\"https?://(?!vote\.test/)", page)


def test_the_session_cookie_is_secure(open_vote, client):
    client.get(path_of(open_vote["links"]["ada@example.org"]))
    cookie = client.get_cookie("session", domain="vote.test")
    assert cookie is not None
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"


# --- CSRF ------------------------------------------------------------------------------------

def test_a_ballot_post_without_the_csrf_token_is_refused_plainly(open_vote, client, runner):
    path = path_of(open_vote["links"]["ada@example.org"])
    client.get(path)
    for data in ({"q1": "yes", "step": "cast"}, {"q1": "yes", "step": "cast", "csrf_token": "forged"}):
        assert_plain(client.post(path, data=data), 400, "This form has expired or was not sent from this site.")
    assert run(runner, "vote", "show", str(open_vote["id"]))["participants"] == 0


def test_a_csrf_token_from_another_browser_is_refused(open_vote, app, client, runner):
    path = path_of(open_vote["links"]["ada@example.org"])
    token = CSRF.search(app.test_client().get(path).text).group(1)  # another browser's session
    assert_plain(client.post(path, data={"q1": "yes", "step": "cast", "csrf_token": token}), 400,
                 "This form has expired")
    assert run(runner, "vote", "show", str(open_vote["id"]))["participants"] == 0


def test_an_opt_in_post_without_the_csrf_token_is_refused_plainly(app, runner, client, tmp_path):
    run(runner, "period", "open", "2026")
    roster = roster_file(tmp_path, f"ada,Ada,,ada@example.org,supporting:{CURRENT},,")
    run(runner, "roster", "import", str(roster), "--period", "2026")
    (right,) = eligibility.rights_of(eligibility.get_period(2026))
    with app.test_request_context():
        token = token_service(app.config, OPT_IN).dumps({"r": right.id}, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    assert_plain(client.post(f"/opt-in/{token}"), 400, "This form has expired or was not sent from this site.")
    assert run(runner, "period", "enrolled", "2026") == []


# --- Plain error pages ---------------------------------------------------------------------------

def test_an_unknown_page_is_a_plain_404(client):
    assert_plain(client.get("/no/such/page"), 404)
    assert_plain(client.get("/votes/notanumber/results"), 404)


@pytest.mark.parametrize("vote_id", ["0", "999999", "2147483648", "99999999999999999999"])
def test_results_of_a_vote_that_does_not_exist_are_a_plain_404(app, client, vote_id):
    assert_plain(client.get(f"/votes/{vote_id}/results"), 404)
    assert client.get(f"/votes/{vote_id}/results.json").status_code == 404


def test_the_wrong_method_is_a_plain_405(client):
    assert_plain(client.delete("/"), 405)
    assert_plain(client.post("/standing/whatever"), 405)


# --- Bad links ----------------------------------------------------------------------------------

def altered(token: str) -> str:
    """One character of the signature changed (not the last: base64 ignores its low bits)."""
    return token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]


def test_a_tampered_ballot_link_gets_a_plain_400(open_vote, client):
    link = path_of(open_vote["links"]["ada@example.org"])
    prefix, token = link.rsplit("/", 1)
    for bad in (altered(token), token[:-10], token[: len(token) // 2], "x", "%00", "..", "é" * 40):
        assert_plain(client.get(f"{prefix}/{bad}"), 400, "This link is not valid")


def test_a_ballot_link_for_another_vote_gets_a_plain_400(open_vote, client):
    link = path_of(open_vote["links"]["ada@example.org"])
    other = link.replace(f"/votes/{open_vote['id']}/", f"/votes/{open_vote['draft_id']}/")
    assert_plain(client.get(other), 400, "This link is for a different vote.")


def test_an_expired_ballot_link_gets_a_plain_explanation(open_vote, app, client):
    with app.test_request_context():
        token = token_service(app.config, BALLOT_LINK).dumps(
            {"v": open_vote["id"], "r": 1}, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    response = client.get(f"/votes/{open_vote['id']}/ballot/{token}")
    assert_plain(response, 410, "This link has expired.")


def test_an_opt_in_link_used_as_a_ballot_link_gets_a_plain_400(open_vote, app, client):
    with app.test_request_context():
        token = token_service(app.config, OPT_IN).dumps({"v": open_vote["id"], "r": 1}, None)
    assert_plain(client.get(f"/votes/{open_vote['id']}/ballot/{token}"), 400, "This link is not valid")
    assert_plain(client.get(f"/standing/{token}"), 400, "This link is not valid")


# --- No results before they are published ---------------------------------------------------------

def test_results_are_hidden_until_published(open_vote, runner, client):
    vote_id = open_vote["id"]
    urls = [f"/votes/{vote_id}/results", f"/votes/{vote_id}/results.json", f"/votes/{vote_id}/record.json"]

    def hidden():
        for url in urls:
            response = client.get(url)
            assert response.status_code == 404, url
            assert "yes" not in response.text.lower().replace("yes > no", "")
        assert_plain(client.get(urls[0]), 404, "The results of this vote are not published.")
        assert f"/votes/{vote_id}/results" not in client.get("/").text  # listed as open or being counted

    for url in (f"/votes/{open_vote['draft_id']}/results", f"/votes/{open_vote['draft_id']}/record.json"):
        assert client.get(url).status_code == 404  # a draft
    hidden()  # open
    page = client.get(path_of(open_vote["links"]["ada@example.org"])).text
    done = client.post(path_of(open_vote["links"]["ada@example.org"]),
                       data={"csrf_token": CSRF.search(page).group(1), "q1": "yes", "step": "cast"},
                       follow_redirects=True)
    assert done.status_code == 200
    hidden()  # open, with a ballot in the box
    run(runner, "vote", "close", str(vote_id))
    hidden()  # closed, not yet published
    run(runner, "vote", "publish", str(vote_id))
    assert all(client.get(url).status_code == 200 for url in urls)
    assert f"/votes/{vote_id}/results" in client.get("/").text


def test_results_of_a_cancelled_vote_are_not_shown(open_vote, runner, client):
    run(runner, "vote", "cancel", str(open_vote["id"]), "--reason", "Wrong question")
    assert_plain(client.get(f"/votes/{open_vote['id']}/results"), 404)


# --- Request logs ----------------------------------------------------------------------------------

def test_the_redacting_filter_is_on_the_request_loggers(app):
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        assert any(isinstance(f, RedactTokens) for f in logging.getLogger(name).filters), name


@pytest.fixture
def server(app):
    """The app behind werkzeug's own server, which writes the request log lines."""
    httpd = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()
    httpd.server_close()


def fetch(url: str) -> int:
    request = urllib.request.Request(url, headers={"Host": "vote.test"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_tokens_are_redacted_in_the_request_log(app, server, caplog):
    link_token = token_service(app.config, BALLOT_LINK).dumps({"v": 1, "r": 1}, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    opt_in_token = altered(token_service(app.config, OPT_IN).dumps({"r": 1}, None))
    paths = [f"/votes/1/ballot/{link_token}", f"/opt-in/{opt_in_token}", f"/standing/{opt_in_token}?from=mail"]
    caplog.set_level(logging.INFO, logger="werkzeug")
    for path in paths:
        assert fetch(server + path) in (400, 410)
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert len(lines) == 3, lines
    logged = "\n".join(lines) + caplog.text
    for token in (link_token, opt_in_token, link_token[:20], opt_in_token.split(".")[-1]):
        assert token not in logged
    assert "/votes/1/ballot/[redacted]" in lines[0]
    assert "/opt-in/[redacted]" in lines[1]
    assert "/standing/[redacted]" in lines[2]
    assert all(" 400 " in line or " 410 " in line for line in lines)
