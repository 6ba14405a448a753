"""Rate limits hold across app processes when their counters are in Redis, as in production.

The production configuration (config/production.example.py) keeps the
limiter's counters in Redis; the service runs here under gunicorn with
several worker processes against the machine's Redis on 127.0.0.1, and the
per-client limit of "send me my links again" is reached by requests that
different processes answered.
"""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from tests.functional.conftest import WORKERS
from tests.functional.helpers import HttpBrowser, csrf_token

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def gunicorn_settings():
    prefix = f"ballot-test-{uuid.uuid4().hex}"
    yield {"RATELIMIT_STORAGE_URI": REDIS, "RATELIMIT_KEY_PREFIX": prefix}
    store = redis.Redis.from_url(REDIS)
    keys = list(store.scan_iter(f"*{prefix}*"))
    if keys:
        store.delete(*keys)
    store.close()


def ask(port: int, address: str) -> tuple[int, str]:
    browser = HttpBrowser(port)
    status, page = browser.request("GET", "/link-again")
    assert status == 200
    return browser.request("POST", "/link-again", {"csrf_token": csrf_token(page), "email": address})


def test_the_per_client_limit_is_shared_by_every_app_process(gunicorn, committed_app):
    limit = int(committed_app.config["BALLOT_LINK_AGAIN_RATE_LIMIT"].split()[0])
    statuses = [ask(gunicorn.port, f"someone{n}@example.org")[0] for n in range(limit)]
    assert statuses == [200] * limit
    # Every process that counted those requests dies; the next request is answered by one that never saw them.
    counted = {int(pid) for pid in gunicorn.workers("POST /link-again")}
    for pid in counted:
        gunicorn.kill_worker(pid)
    deadline = time.monotonic() + 20
    while len(set(gunicorn.worker_pids()) - counted) < WORKERS:
        assert time.monotonic() < deadline, "gunicorn did not start new workers"
        time.sleep(0.05)
    status, page = ask(gunicorn.port, "one-more@example.org")
    assert status == 429 and "wait an hour" in page
    # gunicorn writes the access log line after the answer: wait for the new process's line.
    deadline = time.monotonic() + 20
    while not gunicorn.workers("POST /link-again") - {str(pid) for pid in counted}:
        assert time.monotonic() < deadline, "a new process answered"
        time.sleep(0.05)
