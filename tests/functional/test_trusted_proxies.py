"""Behind a reverse proxy (BALLOT_TRUSTED_PROXIES): the client's address comes from X-Forwarded-For.

These tests make an app of their own (the setting is read when the app is
made), on the session's database; what its requests write is rolled back
after the test, as for the test app.
"""

from __future__ import annotations

import pytest

from ballot.errors import PolicyInvalid
from ballot.extensions import db
from tests.conftest import make_app, rolled_back
from tests.functional.helpers import ask_for_links


@pytest.fixture
def proxied(backend, smtp_server):
    made = make_app(backend[1], smtp_server[0].port, BALLOT_TRUSTED_PROXIES=1)
    try:
        with rolled_back(made) as app:
            yield app
    finally:
        with made.app_context():
            db.engine.dispose()


def test_each_client_behind_the_proxy_is_limited_on_its_own(proxied):
    limit = int(proxied.config["BALLOT_LINK_AGAIN_RATE_LIMIT"].split()[0])
    client = proxied.test_client()
    statuses = [ask_for_links(client, f"someone{n}@example.org", forwarded_for="203.0.113.7").status_code
                for n in range(limit + 1)]
    assert statuses == [200] * limit + [429]
    another = ask_for_links(client, "another@example.org", forwarded_for="198.51.100.9")
    assert another.status_code == 200, "another client behind the proxy"


@pytest.mark.parametrize("value", ["1", -1, 1.5, True])
def test_a_bad_proxy_count_stops_the_service_from_starting(backend, smtp_server, value):
    with pytest.raises(PolicyInvalid, match="BALLOT_TRUSTED_PROXIES"):
        make_app(backend[1], smtp_server[0].port, BALLOT_TRUSTED_PROXIES=value)
