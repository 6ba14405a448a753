"""The load client: HTTP requests from several threads, bounded in count and time.

Run by ``bench/run.py`` as a process of its own, so that the client's work
is not mixed with the benchmark's: it reads a job as JSON on stdin and
writes the outcome as JSON on stdout. It only ever connects to 127.0.0.1.

Jobs (``mode``):

``insert``
    POST ``path`` ``count`` times (the bare endpoint: one INSERT each).
``get``
    GET each ballot page in ``paths``; returns, for each page served, its
    session cookie and CSRF token, which a later ``post`` job uses.
``post``
    POST ``step=cast`` with valid answers for each prepared page; a request
    counts when the receipt page comes back.
``pair``
    The whole cast of one voter: GET the page, then POST from it.

Each job stops after ``seconds`` even if items are left. The outcome gives
how many requests of each kind succeeded (``ok``), the statuses of the
others (negative: a page without its CSRF token or cookie, a cast without its receipt), the
elapsed time from the first request to the last answer, and latency
percentiles by kind.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import sys
import threading
import time
from urllib.parse import urlencode

HOST = "127.0.0.1"
CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
RECEIPT_COOKIE = "ballot_receipt"  # ballot.votes.views.RECEIPT_COOKIE


class Client:
    def __init__(self, port: int, timeout: float = 30.0):
        self.port = port
        self.timeout = timeout

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        # gunicorn's sync workers close the connection after each response, so one connection each.
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers={"Host": f"{HOST}:{self.port}", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.msg, response.read()
        finally:
            conn.close()

    def get_ballot(self, path: str) -> tuple[int, dict | None]:
        status, headers, body = self.request("GET", path)
        found = CSRF.search(body)
        cookies = [c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or []]
        if status != 200 or not found or not cookies:
            return status, None
        return status, {"path": path, "cookie": "; ".join(cookies), "csrf": found.group(1).decode()}

    def cast(self, page: dict, answers: dict) -> int:
        body = urlencode({"csrf_token": page["csrf"], "step": "cast", **answers}).encode()
        status, headers, _ = self.request("POST", page["path"], body, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": page["cookie"],
        })
        # A cast answers 303 back to the ballot link, with the receipt in a cookie for that link alone
        # (the page it leads to shows it): the POST is the cast, and is what is measured.
        receipt = any(c.startswith(RECEIPT_COOKIE + "=") for c in headers.get_all("Set-Cookie") or [])
        if status == 303:
            return 200 if receipt else -303  # a redirect without a receipt
        return status

    def insert(self, path: str, n: int) -> int:
        body = urlencode({"value": f"row {n}"}).encode()
        status, _, _ = self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        return status


def run(job: dict) -> dict:
    client = Client(job["port"])
    mode = job["mode"]
    rng = random.Random(job.get("seed", 1))
    choices = job.get("choices", {})
    if mode == "insert":
        items = list(range(job["count"]))
    elif mode == "post":
        items = job["pages"]
    else:
        items = job["paths"]
    # Answers are drawn up front, so the threads share no random generator.
    answers = [{q: rng.choice(c) for q, c in choices.items()} for _ in items]
    work = iter(enumerate(items))
    lock = threading.Lock()
    deadline = time.perf_counter() + job["seconds"]
    outcome = {"ok": {}, "requests": 0, "statuses": {}, "latencies": {}, "pages": [], "last": 0.0}

    def record(kind: str, status: int | str, started: float, page: dict | None = None) -> None:
        finished = time.perf_counter()
        with lock:
            outcome["requests"] += 1
            outcome["last"] = max(outcome["last"], finished)
            outcome["latencies"].setdefault(kind, []).append(finished - started)
            if status == 200:
                outcome["ok"][kind] = outcome["ok"].get(kind, 0) + 1
                if page is not None:
                    outcome["pages"].append(page)
            else:
                key = f"{kind} {status}"
                outcome["statuses"][key] = outcome["statuses"].get(key, 0) + 1

    def worker() -> None:
        while time.perf_counter() < deadline:
            with lock:
                item = next(work, None)
            if item is None:
                return
            n, value = item
            started = time.perf_counter()
            try:
                if mode == "insert":
                    record("insert", client.insert(job["path"], n), started)
                elif mode == "get":
                    status, page = client.get_ballot(value)
                    record("get", status if page else -status, started, page)
                elif mode == "post":
                    record("post", client.cast(value, answers[n]), started)
                else:  # pair: the GET and the POST of one voter
                    status, page = client.get_ballot(value)
                    record("get", status if page else -status, started)
                    if page is not None:
                        started = time.perf_counter()
                        record("post", client.cast(page, answers[n]), started)
            except OSError as exc:
                record(mode, type(exc).__name__, started)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(job["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome["elapsed"] = max(outcome.pop("last") - start, 1e-9)
    outcome["latency_ms"] = {
        kind: {"p50": 1000 * times[len(times) // 2], "p95": 1000 * times[int(len(times) * 0.95)]}
        for kind, times in ((kind, sorted(times)) for kind, times in outcome.pop("latencies").items())
    }
    return outcome


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
