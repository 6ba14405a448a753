"""Guarantee 1, one right, one ballot: under concurrent requests against several app processes.

The app runs under gunicorn (three worker processes of four threads each) on
127.0.0.1, configured like the test app through a BALLOT_CONFIG file, on a
database with real commits. Many browsers, each with its own session and CSRF
token, cast at the same moment, through real HTTP.

While a vote is open, its ballot box holds one sealed ballot per participation
record; at the close they are opened into the record and destroyed. So the
ledger is compared with the sealed ballots before the close (opened with the
installation's key, they are exactly the acknowledged ballots) and with the
record's ballots after it.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from ballot.extensions import db
from ballot.unit_of_work import unit_of_work
from ballot.votes import lifecycle, queries
from ballot.votes.models import ParticipationRecord
from tests.functional.helpers import (
    RECEIPT,
    HttpBrowser,
    after_close,
    ledger_and_box,
    mailed_ballot_paths,
    open_box,
    open_vote,
)

REQUEST_TIMEOUT = 20


class Browser(HttpBrowser):
    """One voter's browser over real HTTP."""

    def __init__(self, port: int):
        super().__init__(port, timeout=REQUEST_TIMEOUT)


def set_up(app, inbox, voters: int) -> tuple[int, dict[str, str], dict[str, int]]:
    """``voters`` enrolled Fellows, one open vote, its links mailed: its id, each voter's ballot path and right id."""
    vote_id, rights = open_vote(app, voters)
    return vote_id, mailed_ballot_paths(app, inbox, vote_id, rights), rights


def simultaneously(calls: list, timeout: float = 30) -> list:
    """Run the calls in threads released together by a barrier; returns their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=timeout)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result(timeout=timeout) for f in futures]


# The tests --------------------------------------------------------------------------------

N = 20


def test_many_simultaneous_casts_with_one_link_record_exactly_one_ballot(committed_app, gunicorn, inbox):
    vote_id, paths, rights = set_up(committed_app, inbox, voters=1)
    path = paths["race0@example.org"]
    browsers = [Browser(gunicorn.port) for _ in range(N)]
    with ThreadPoolExecutor(max_workers=N) as pool:  # every browser has its own session and CSRF token
        tokens = list(pool.map(lambda b: b.open_ballot(path), browsers))

    answers = simultaneously([
        (lambda b=b, t=t: b.request("POST", path, {"csrf_token": t, "q1": "yes", "step": "cast"}))
        for b, t in zip(browsers, tokens, strict=True)
    ])

    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 1, 409: N - 1}, statuses
    receipt = next(RECEIPT.search(page).group(1) for status, page in answers if status == 200)
    for status, page in answers:
        if status == 409:
            assert "already been cast" in page
    assert ledger_and_box(committed_app, vote_id) == (1, 1)
    assert len(gunicorn.cast_workers(N)) >= 2, "the casts raced in several processes"
    assert open_box(committed_app, vote_id) == [receipt], "the one sealed ballot is the acknowledged one"
    with committed_app.app_context(), unit_of_work("test"):
        assert db.session.scalars(select(ParticipationRecord.right_id)).all() == [rights["race0@example.org"]]
        summary = lifecycle.close_vote(queries.get_vote(vote_id))
    assert summary["ballots"] == 1
    listed, voted, missed = after_close(committed_app, vote_id)
    assert (listed, voted, missed) == ([receipt], {rights["race0@example.org"]}, set())


RACERS = 24


@pytest.mark.parametrize("close_after", [1, 6])
def test_a_close_racing_with_casts_keeps_ledger_and_ballot_box_equal(committed_app, gunicorn, inbox, close_after):
    """Every voter casts at once; the administrator closes as soon as ``close_after`` ballots are acknowledged.

    Whatever interleaving results, a ballot is counted exactly when its voter
    was told so (200 with a receipt), and then also recorded as participation;
    a refused voter (409) has neither and missed the vote. Up to the close,
    every committed state holds as many sealed ballots as participation records.
    """
    vote_id, paths, rights = set_up(committed_app, inbox, voters=RACERS)
    emails = sorted(rights)
    browsers = {email: Browser(gunicorn.port) for email in emails}
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        tokens = dict(zip(emails, pool.map(lambda e: browsers[e].open_ballot(paths[e]), emails), strict=True))
    acknowledged = threading.Semaphore(0)

    def cast(email):
        status, page = browsers[email].request(
            "POST", paths[email], {"csrf_token": tokens[email], "q1": "yes", "step": "cast"})
        if status == 200:
            acknowledged.release()
        return status, page

    snapshots = []  # (ledger, box) read while the casts run, just before the close

    def close():
        for _ in range(close_after):
            if not acknowledged.acquire(timeout=REQUEST_TIMEOUT):
                break
            snapshots.append(ledger_and_box(committed_app, vote_id))
        with committed_app.app_context(), unit_of_work("test"):
            return lifecycle.close_vote(queries.get_vote(vote_id))

    *answers, summary = simultaneously([lambda e=e: cast(e) for e in emails] + [close])

    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 409} and statuses[200] >= close_after, statuses
    for status, page in answers:
        if status == 409:
            assert "closed" in page
    cast_by = {e for e, (status, _) in zip(emails, answers, strict=True) if status == 200}
    receipts = {RECEIPT.search(page).group(1) for status, page in answers if status == 200}
    assert len(receipts) == len(cast_by)
    assert snapshots and all(ledger == box for ledger, box in snapshots), snapshots
    assert summary["ballots"] == len(cast_by)
    listed, voted, missed = after_close(committed_app, vote_id)
    assert len(listed) == len(set(listed)) == len(voted), "one ballot in the record per participation record"
    assert set(listed) == receipts, "counted exactly when acknowledged"
    assert voted == {rights[e] for e in cast_by}
    assert missed == set(rights.values()) - voted, "whoever was refused missed the vote"
