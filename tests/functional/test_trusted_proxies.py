"""Behind a reverse proxy (BALLOT_TRUSTED_PROXIES): the client's address comes from X-Forwarded-For.

These tests make an app of their own (the setting is read when the app is
made), on the session's database, outside any test transaction.
"""

from __future__ import annotations

import pytest

from ballot.errors import PolicyInvalid
from ballot.extensions import db, limiter
from tests.conftest import make_app
from tests.functional.test_link_again import ask_from


@pytest.fixture
def proxied(backend, smtp_server):
    app = make_app(backend[1], smtp_server[0].port, BALLOT_TRUSTED_PROXIES=1)
    limiter.reset()
    yield app
    limiter.reset()
    with app.app_context():
        db.engine.dispose()


def test_each_client_behind_the_proxy_is_limited_on_its_own(proxied):
    limit = int(proxied.config["BALLOT_LINK_AGAIN_RATE_LIMIT"].split()[0])
    client = proxied.test_client()
    statuses = [ask_from(client, "203.0.113.7", f"someone{n}@example.org") for n in range(limit + 1)]
    assert statuses == [200] * limit + [429]
    assert ask_from(client, "198.51.100.9", "another@example.org") == 200, "another client behind the proxy"


@pytest.mark.parametrize("value", ["1", -1, 1.5, True])
def test_a_bad_proxy_count_stops_the_service_from_starting(backend, smtp_server, value):
    with pytest.raises(PolicyInvalid, match="BALLOT_TRUSTED_PROXIES"):
        make_app(backend[1], smtp_server[0].port, BALLOT_TRUSTED_PROXIES=value)
