"""With the rate limits' store (Redis) unreachable, the limited pages fail closed: a plain 503, a log line,
nothing recorded, and never a traceback (the ``gunicorn`` fixture checks its log for one)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from ballot.votes.models import LinkRequest
from tests.conftest import free_port
from tests.functional.helpers import HttpBrowser, csrf_token

UNAVAILABLE = "cannot check its request limits"


@pytest.fixture
def gunicorn_settings():
    # A port on which nothing listens: every connection to the store is refused.
    return {"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0"}


def post_form(port: int, path: str, form: dict) -> tuple[int, str]:
    browser = HttpBrowser(port)
    status, page = browser.request("GET", path)  # the form itself is not limited, and shows
    assert status == 200, page
    return browser.request("POST", path, {"csrf_token": csrf_token(page), **form})


def test_sign_in_and_link_again_refuse_with_503_when_the_store_is_down(gunicorn, committed_app):
    status, page = post_form(gunicorn.port, "/admin/login",
                             {"email": "admin@example.org", "password": "correct horse battery staple"})
    assert status == 503 and UNAVAILABLE in page and "Traceback" not in page
    status, page = post_form(gunicorn.port, "/link-again", {"email": "ada@example.org"})
    assert status == 503 and UNAVAILABLE in page
    with committed_app.app_context():
        # Failing closed: nothing was done without its limit, not even a refused sign-in's audit entry.
        assert db.session.scalar(select(func.count()).select_from(LinkRequest)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        db.session.remove()
    log = gunicorn.log_path.read_text()
    assert log.count("the rate limits' store is unreachable") == 2, log[-3000:]
