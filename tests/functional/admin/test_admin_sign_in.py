"""Signing in: password then code, one uniform refusal, no replayed codes, rate limits, sessions, CSRF."""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from types import SimpleNamespace

import limits.storage.memory
import pytest
from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from tests.functional.admin.console import (
    PASSWORD,
    code,
    code_step,
    password_step,
    post,
)
from tests.functional.helpers import csrf_token

EIGHT_HOURS = 8 * 3600
REFUSED = "The email address or password is not right, or the account is disabled."
CODE_REFUSED = "That code was not accepted."


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_password_and_code_make_a_session(client, account):
    response = password_step(client, account["email"], PASSWORD)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login/code")
    # The password alone opens nothing.
    assert client.get("/admin/").status_code == 302
    response = code_step(client, code(account))
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/")
    page = client.get("/admin/")
    assert page.status_code == 200 and "Signed in as admin@example.org" in page.text
    assert [(e.actor, e.detail) for e in events("sign-in")] == [("admin@example.org", {})]


def test_the_session_cookie_is_secure_and_renewed_at_sign_in(client, account):
    client.get("/admin/login")
    before = client.get_cookie("session", domain="vote.test").value
    password_step(client, account["email"], PASSWORD)
    page = client.get("/admin/login/code")
    response = client.post("/admin/login/code", data={"csrf_token": csrf_token(page.text), "code": code(account)})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The browser drops it when the session ends on the server, eight hours on.
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1)).timestamp()
    assert abs(expires - (time.time() + EIGHT_HOURS)) < 60
    assert client.get_cookie("session", domain="vote.test").value != before
    with client.session_transaction() as session:
        assert session.permanent and set(session) >= {"admin_id", "admin_since"}
        assert "pending_admin_id" not in session


@pytest.mark.parametrize("email, password", [
    ("admin@example.org", "wrong password!"),
    ("nobody@example.org", PASSWORD),
    ("nobody@example.org", "wrong password!"),
])
def test_a_wrong_password_or_unknown_address_gets_the_same_answer(client, account, email, password):
    response = password_step(client, email, password)
    assert response.status_code == 401
    assert REFUSED in response.text
    assert "nobody" not in response.text.replace('value="nobody@example.org"', "")
    assert client.get("/admin/").status_code == 302
    refused = events("sign-in.refused")
    assert [(e.actor, e.detail) for e in refused] == [(email, {"step": "password"})]
    assert password not in str([(e.actor, e.subject, e.detail) for e in refused])


def test_a_wrong_code_and_a_replayed_code_are_refused_alike(client, account):
    password_step(client, account["email"], PASSWORD)
    wrong = code_step(client, "000000" if code(account) != "000000" else "111111")
    assert wrong.status_code == 401 and CODE_REFUSED in wrong.text
    assert client.get("/admin/").status_code == 302

    used = code(account)
    assert code_step(client, used).status_code == 303
    post(client, "/admin/logout")
    password_step(client, account["email"], PASSWORD)
    replayed = code_step(client, used)
    assert replayed.status_code == 401 and CODE_REFUSED in replayed.text
    assert replayed.text.count("problem") == wrong.text.count("problem")
    assert client.get("/admin/").status_code == 302
    # The next code is good.
    assert code_step(client, code(account, steps_ahead=1)).status_code == 303
    assert [e.detail for e in events("sign-in.refused")] == [{"step": "code"}, {"step": "code"}]
    assert len(events("sign-in")) == 2 and len(events("sign-out")) == 1


def test_the_code_step_needs_the_password_step_first_and_not_long_ago(client, account):
    response = client.get("/admin/login/code")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")
    password_step(client, account["email"], PASSWORD)
    with client.session_transaction() as session:
        session["pending_since"] = time.time() - 301
    response = client.get("/admin/login/code")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")


def test_sessions_end_after_eight_hours(console):
    """README: "Sessions last at most 8 hours"."""
    with console.session_transaction() as session:
        session["admin_since"] = time.time() - EIGHT_HOURS + 60
    assert console.get("/admin/").status_code == 200
    with console.session_transaction() as session:
        session["admin_since"] = time.time() - EIGHT_HOURS - 1
    response = console.get("/admin/audit")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert console.get("/admin/").status_code == 302


def test_sign_out_is_a_post(console):
    assert console.get("/admin/logout").status_code == 405
    response = post(console, "/admin/logout")
    assert response.status_code == 303
    assert console.get("/admin/").status_code == 302


def test_after_sign_in_the_page_asked_for_is_shown_and_never_another_site(client, account):
    response = client.get("/admin/audit")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/login?next=/admin/audit")
    page = client.get("/admin/login?next=/admin/audit")
    client.post("/admin/login?next=/admin/audit",
                data={"csrf_token": csrf_token(page.text), "email": account["email"], "password": PASSWORD})
    assert code_step(client, code(account)).headers["Location"].endswith("/admin/audit")
    post(client, "/admin/logout")
    page = client.get("/admin/login")
    client.post("/admin/login?next=//evil.example/admin/",
                data={"csrf_token": csrf_token(page.text), "email": account["email"], "password": PASSWORD})
    response = code_step(client, code(account, steps_ahead=1))
    assert response.headers["Location"].endswith("/admin/") and "evil" not in response.headers["Location"]


def test_sign_in_is_rate_limited(client, account, app, monkeypatch):
    monkeypatch.setitem(app.config, "BALLOT_ADMIN_LOGIN_RATE_LIMIT", "3 per minute")
    for _ in range(3):
        assert password_step(client, account["email"], "wrong password!").status_code == 401
    response = password_step(client, account["email"], PASSWORD)
    assert response.status_code == 429
    assert "We could not do that" in response.text
    # The right password does not get through a limit reached with wrong ones.
    assert client.get("/admin/").status_code == 302
    assert len(events("sign-in.refused")) == 3


def test_the_code_step_is_rate_limited_too(client, account, app, monkeypatch):
    monkeypatch.setitem(app.config, "BALLOT_ADMIN_LOGIN_RATE_LIMIT", "3 per minute")
    password_step(client, account["email"], PASSWORD)
    for _ in range(3):
        assert code_step(client, "000000" if code(account) != "000000" else "111111").status_code == 401
    assert code_step(client, code(account)).status_code == 429
    assert client.get("/admin/").status_code == 302


class LimiterClock:
    """The clock of the limiter's in-memory store, moved on by the test instead of waited for."""

    def __init__(self, monkeypatch):
        self.now = time.time()
        monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: self.now))

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_by_default_a_step_takes_ten_tries_a_minute_and_fifty_an_hour_from_one_address(app, client, account,
                                                                                        monkeypatch):
    """The configured defaults (BALLOT_ADMIN_LOGIN_RATE_LIMIT, "10 per minute; 50 per hour"), shown on the code
    step, where a try costs no password hash; the password step has the same limit (tests above)."""
    clock = LimiterClock(monkeypatch)
    wrong = "000000" if code(account) != "000000" else "111111"
    password_step(client, account["email"], PASSWORD)
    for _ in range(5):  # ten tries a minute, for five minutes
        assert [code_step(client, wrong).status_code for _ in range(10)] == [401] * 10
        clock.advance(61)
    assert code_step(client, code(account)).status_code == 429, "the 51st try within the hour, even the right code"
    clock.advance(3600)
    assert code_step(client, code(account)).status_code == 303, "an hour later"

    # Another address: its eleventh try within a minute is refused, and the next minute's is not.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    password_step(other, account["email"], PASSWORD)
    assert [code_step(other, wrong).status_code for _ in range(10)] == [401] * 10
    assert code_step(other, code(account, steps_ahead=1)).status_code == 429
    clock.advance(61)
    assert code_step(other, code(account, steps_ahead=1)).status_code == 303


def test_every_console_page_needs_a_signed_in_administrator(app, client):
    token = csrf_token(client.get("/admin/login").text)
    values = {"year": 2026, "vote_id": 1, "upload_id": 1, "reminder_id": 1, "form_name": "board",
              "message_id": 1, "position": 1}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint in ("admin.login", "admin.login_code"):
            continue
        path = rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]
        if "GET" in rule.methods:
            response = client.get(path)
            assert response.status_code == 302, (path, response.status_code)
            assert "/admin/login" in response.headers["Location"]
        if "POST" in rule.methods:
            response = client.post(path, data={"csrf_token": token})
            assert response.status_code == 302 and "/admin/login" in response.headers["Location"], path
        checked += 1
    assert checked >= 25


def test_every_console_form_needs_its_csrf_token(console, account):
    response = console.post("/admin/periods", data={"year": "2031", "policy": "seed"})
    assert response.status_code == 400 and "This form has expired" in response.text
    response = console.post("/admin/logout")
    assert response.status_code == 400
    assert console.get("/admin/").status_code == 200  # still signed in
    assert console.get("/admin/periods/2031").status_code == 404
    assert not events("period.open")


def test_console_pages_carry_the_security_headers(console):
    response = console.get("/admin/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Cache-Control"] == "no-store"
    assert "style=" not in response.text and "<script" not in response.text


@pytest.mark.parametrize("target", [
    "/admin/%0d%0aX", "/admin/%0aLocation:%20https://evil.example/", "/admin/%09audit", "/admin/\\\\evil.example",
    "/admin/../votes", "/admin//evil.example", "/admin/audit?x=%0d%0a", "/admin/%E2%80%AE",
])
def test_a_next_page_that_is_not_a_clean_console_path_falls_back_to_the_dashboard(client, account, target):
    page = client.get(f"/admin/login?next={target}")
    response = client.post(f"/admin/login?next={target}",
                           data={"csrf_token": csrf_token(page.text), "email": account["email"], "password": PASSWORD})
    assert response.status_code == 303
    response = code_step(client, code(account))
    assert response.status_code == 303, response.text
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert len(events("sign-in")) == 1
