"""Fixtures for the console: rate limits reset around each test, an administrator, a signed-in client."""

from __future__ import annotations

import pytest

from ballot.extensions import limiter
from tests.functional.admin.console import create_admin, sign_in


@pytest.fixture(autouse=True)
def fresh_limits(app):
    # The limiter's memory storage outlives a test; sign-ins of one test must not count against another.
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def account(app, runner, tmp_path) -> dict:
    return create_admin(runner, tmp_path)


@pytest.fixture
def console(client, account):
    """A client signed in to the console."""
    response = sign_in(client, account)
    assert response.status_code == 303, response.text
    return client
