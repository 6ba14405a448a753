"""Steps for the console's tests: an administrator account, signing in, posting forms."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import time

from flask import g

from ballot.admin import credentials
from tests.functional.factories import CURRENT, YEAR, member_row, roster_text
from tests.functional.helpers import csrf_token, run

PASSWORD = "correct horse battery staple"


def create_admin(runner, tmp_path, email: str = "admin@example.org", password: str = PASSWORD) -> dict:
    """`ballot admin create` with a password file; returns the account's email, password and TOTP secret."""
    path = tmp_path / f"{email}.password"
    path.write_text(password + "\n")
    created = run(runner, "admin", "create", email, "--password-file", str(path))
    return {"email": created["email"], "password": password, "secret": base64.b32decode(created["totp_secret"]),
            "uri": created["totp_uri"]}


def code(account: dict, steps_ahead: int = 0) -> str:
    return credentials.totp_code(account["secret"], time.time() + 30 * steps_ahead)


def sign_in(client, account: dict, steps_ahead: int = 0):
    """Both steps; returns the response to the code (a redirect to the console when accepted)."""
    response = password_step(client, account["email"], account["password"])
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login/code"), response.text
    return code_step(client, code(account, steps_ahead))


def fresh_page(client, path: str):
    """A page with a form, fetched by ``client`` with its own CSRF token.

    The tests' requests run in the test's app context, and so share Flask-WTF's
    per-request cache of the token (in ``g``): a page fetched just after another
    client's would carry that client's token.
    """
    g.pop("csrf_token", None)
    return client.get(path)


def password_step(client, email: str, password: str):
    page = fresh_page(client, "/admin/login")
    return client.post("/admin/login", data={"csrf_token": csrf_token(page.text), "email": email, "password": password})


def code_step(client, value: str):
    page = fresh_page(client, "/admin/login/code")
    assert page.status_code == 200, page.text
    return client.post("/admin/login/code", data={"csrf_token": csrf_token(page.text), "code": value})


def post(client, path: str, data: dict | None = None, page: str = "/admin/"):
    """A console form: the CSRF token from a console page, then the POST (redirects not followed)."""
    token = csrf_token(fresh_page(client, page).text)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def follow(client, response):
    """The page a console action redirected to, with its flash message."""
    assert response.status_code == 303, (response.status_code, response.text)
    return client.get(response.headers["Location"])


def upload(client, year: int, text: str, filename: str = "roster.csv"):
    token = csrf_token(client.get(f"/admin/periods/{year}").text)
    return client.post(f"/admin/periods/{year}/roster", content_type="multipart/form-data",
                       data={"csrf_token": token, "roster": (io.BytesIO(text.encode()), filename)})


roster = roster_text


def member(key: str, classes: str = "supporting", email: str | None = None) -> str:
    """A roster line: ``key`` in one class, current."""
    return member_row(key, f"{classes}:{CURRENT}", email=email)


def when(days: float = 7) -> str:
    """A console date and time field (UTC), ``days`` from now."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).strftime("%Y-%m-%d %H:%M")


def submit_vote_form(console, form_name: str, **fields):
    """Fill in the console's form for a new vote; returns the draft's page (or the form again, when refused)."""
    data = {"title": f"A {form_name} vote", "closes_at": when(7), **fields}
    response = post(console, f"/admin/periods/{YEAR}/votes/new/{form_name}", data,
                    page=f"/admin/periods/{YEAR}/votes/new/{form_name}")
    return follow(console, response) if response.status_code == 303 else response


def vote_id_of(page) -> int:
    """The vote a console page is about, from its forms' actions."""
    return int(re.search(r'action="/admin/votes/(\d+)/', page.text).group(1))
