"""Fixtures for the console: an administrator, a signed-in client."""

from __future__ import annotations

import pytest

from tests.functional.admin.console import create_admin, sign_in


@pytest.fixture
def account(app, runner, tmp_path) -> dict:
    return create_admin(runner, tmp_path)


@pytest.fixture
def console(client, account):
    """A client signed in to the console."""
    response = sign_in(client, account)
    assert response.status_code == 303, response.text
    return client
