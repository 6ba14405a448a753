"""Request bodies are limited: 1 MiB for ordinary forms, BALLOT_ROSTER_MAX_BYTES for the roster upload; a
larger request gets a clear 413 page and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from ballot.admin.models import RosterUpload
from ballot.extensions import db
from ballot.votes.models import LinkRequest
from tests.functional.admin.console import YEAR, fresh_page, member, post, roster
from tests.functional.helpers import csrf_token

MiB = 2**20


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def upload(client, year: int, text: str):
    """A roster upload, its multipart body made here: the test client would spool a large one to a
    temporary file that it never closes."""
    token = csrf_token(fresh_page(client, f"/admin/periods/{year}").text)
    boundary = "ballot-request-size-test"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; filename="roster.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
    return client.post(f"/admin/periods/{year}/roster", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_ordinary_forms_take_at_most_a_mebibyte(client):
    token = csrf_token(client.get("/link-again").text)
    padding = "x" * (MiB + 1)
    response = client.post("/link-again", data={"csrf_token": token, "email": "ada@example.org", "padding": padding})
    assert response.status_code == 413
    assert "This request is too large: this page accepts at most 1 MiB." in response.text
    assert count(LinkRequest) == 0
    # Just under the limit is served as usual.
    fits = "x" * (MiB - 1000)
    response = client.post("/link-again", data={"csrf_token": token, "email": "ada@example.org", "padding": fits})
    assert response.status_code == 200 and count(LinkRequest) == 1


def test_a_console_form_too_large_is_refused_too(console):
    response = post(console, "/admin/periods", {"year": str(YEAR), "policy": "seed", "padding": "x" * (2 * MiB)})
    assert response.status_code == 413 and "at most 1 MiB" in response.text
    assert console.get(f"/admin/periods/{YEAR}").status_code == 404


def test_the_roster_upload_takes_files_up_to_its_own_limit(console, app, monkeypatch):
    monkeypatch.setitem(app.config, "BALLOT_ROSTER_MAX_BYTES", 2 * MiB)
    post(console, "/admin/periods", {"year": str(YEAR), "policy": "seed"})
    # More than a mebibyte goes through to the roster's own checks (which refuse this one for its last line).
    rows = [member(f"m{n:06d}") for n in range(14_000)]
    big = roster(*rows, "bad,Bad,,not-an-address,supporting:2020-01-01:,,")
    assert MiB < len(big) < 2 * MiB
    response = upload(console, YEAR, big)
    assert response.status_code == 400, response.text[:500]
    assert "The roster was refused" in response.text and "line 14002" in response.text
    # Past the roster's limit: a clear 413, nothing kept.
    response = upload(console, YEAR, roster(*rows, *rows))
    assert response.status_code == 413
    assert "This request is too large: this page accepts at most 2 MiB." in response.text
    assert count(RosterUpload) == 0
