"""Casting through gunicorn, beside a bare endpoint under the same settings (bench/bare_app.py).

The load comes from wrk, a compiled client, with the Lua scripts in bench/wrk/
(one connection per wrk thread, so that each thread carries its voter from
one request to the next): the client takes little CPU from the two cores, and
does not set the pace. Two pairs of sides take turns, round by round:

- the cast POST (pages fetched beforehand, one distinct ballot each) beside
  the bare endpoint's one-INSERT POST;
- the whole cast of a voter (GET a distinct ballot link, POST the cast from
  that page) beside the bare voter (GET a row by its token: one SELECT; then
  POST one INSERT).

Only successes count: a cast is a 303 with the receipt cookie, a bare request
a 2xx. Every other outcome is listed under the table.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import bare_app
from harness import BENCH, Database, Figure, Results, Server, alternate, load_measured, log
from sqlalchemy import func, select

from ballot.extensions import db
from ballot.tokens import BALLOT_LINK, token_service
from ballot.votes.models import ParticipationRecord, Vote

ROUNDS = 4  # turns taken by each pair of sides
WRK_SCRIPTS = BENCH / "wrk"
BARE_ROWS = 20_000  # rows the bare voter reads, by token
POST_TARGET, WHOLE_TARGET = 0.75, 0.5
CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')


def bench_http(app, results: Results, args, vote: Vote, electorate: list[int], workdir: Path,
               database: Database, port: int, bare_port: int) -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (Debian's wrk), or apt-get install wrk")
    warm = 4 * args.threads
    per_round = {"post": args.casts, "whole": max(args.casts // 2, 1)}
    needed = warm + ROUNDS * (per_round["post"] + per_round["whole"])
    if needed > len(electorate):
        scale = (len(electorate) - warm) / (needed - warm)
        per_round = {side: max(int(count * scale), 1) for side, count in per_round.items()}
    rng = random.Random(11)
    voters = rng.sample(electorate, warm + ROUNDS * (per_round["post"] + per_round["whole"]))
    vote_id, closes_at = vote.id, vote.closes_at
    choices = {q["id"]: q["choices"] for q in vote.questions}
    db.session.rollback()  # reading the vote began a transaction: on SQLite it holds the write lock
    links = token_service(app.config, BALLOT_LINK)

    def ballot_lines(rights: list[int]) -> list[str]:
        """A ballot link per right, as the outbox mints them, with valid answers drawn at random."""
        return [f"/votes/{vote_id}/ballot/{links.dumps({'v': vote_id, 'r': r}, closes_at)}\t"
                + urlencode({q: rng.choice(c) for q, c in choices.items()}) for r in rights]

    lines = ballot_lines(voters)
    warm_lines, lines = lines[:warm], lines[warm:]
    post_lines = lines[:ROUNDS * per_round["post"]]
    whole_lines = lines[ROUNDS * per_round["post"]:]
    bare_app.create_table(database.url, BARE_ROWS)
    threads = args.threads

    log(f"[{results.backend}] casting through gunicorn (wrk, {threads} threads of one connection each)")
    ballot_server = bare_server = None
    seen: list[dict] = []  # every run that cast, for the check against the participation records
    try:
        ballot_server = Server("ballot", "ballot:create_app()", port, {"BALLOT_CONFIG": os.environ["BALLOT_CONFIG"]},
                               workdir / "gunicorn-ballot.log")
        bare_server = Server("bare", "bare_app:create_app()", bare_port, {"BENCH_BARE_DATABASE_URL": database.url},
                             workdir / "gunicorn-bare.log", ["--pythonpath", str(BENCH)])

        def run(script: str, server: Server, items: list[str] | int, *extra) -> dict:
            if isinstance(items, int):
                given = [str(items), *map(str, extra)]
            else:
                path = workdir / f"{script}.items"
                path.write_text("".join(line + "\n" for line in items))
                given = [str(path)]
            outcome = load_measured(lambda: run_wrk(wrk, script, server.port, threads, args.seconds, given),
                               server, database)
            if script.startswith("cast"):
                seen.append(outcome)
            return outcome

        # Warm up both (workers booted, connections pooled, templates compiled).
        warm_up = run("cast_whole", ballot_server, warm_lines)
        if not warm_up["ok"]:
            raise RuntimeError(f"no ballot could be cast: {failures(warm_up)}; log: {ballot_server.tail()}")
        run("bare_select_insert", bare_server, warm, BARE_ROWS)

        log(f"[{results.backend}]   {len(post_lines):,} ballot pages fetched for the cast POSTs (not timed)")
        pages = prepare_pages(port, post_lines)
        outcomes: dict[str, list[dict]] = {"bare": [], "post": [], "bare_pair": [], "whole": []}

        def side(name: str, script: str, server: Server, items_of_round, *extra):
            def one_round() -> float:
                k = len(outcomes[name])
                outcome = run(script, server, items_of_round(k), *extra)
                outcomes[name].append(outcome)
                return rate(outcome)
            return one_round

        post_count, whole_count = per_round["post"], per_round["whole"]
        log(f"[{results.backend}]   {ROUNDS} rounds: {post_count:,} bare INSERTs and {post_count:,} cast POSTs each")
        posts = alternate({
            "bare": side("bare", "bare_insert", bare_server, lambda k: post_count),
            "post": side("post", "cast_post", ballot_server, lambda k: pages[k::ROUNDS]),
        }, ROUNDS)
        log(f"[{results.backend}]   {ROUNDS} rounds: {whole_count:,} bare SELECT+INSERT pairs and "
            f"{whole_count:,} whole casts each")
        wholes = alternate({
            "bare_pair": side("bare_pair", "bare_select_insert", bare_server, lambda k: whole_count, BARE_ROWS),
            "whole": side("whole", "cast_whole", ballot_server, lambda k: whole_lines[k::ROUNDS]),
        }, ROUNDS)
    finally:
        for server in (ballot_server, bare_server):
            if server is not None:
                server.stop()

    sides = {**posts, **wholes}
    for name, label in [("bare", "bare endpoint: POST, one INSERT; requests/s"),
                        ("post", "cast POSTs/s (ballot pages fetched beforehand)"),
                        ("bare_pair", "bare voter: GET one SELECT, POST one INSERT; pairs/s"),
                        ("whole", "whole casts/s (GET the ballot link, POST the cast)")]:
        runs = outcomes[name]
        app_ms, db_ms = cpu_ms(runs, "cpu_app"), cpu_ms(runs, "cpu_db")
        values = sides[name].values
        results.add(Figure(
            f"web_{name}", label, "", sides[name].median,  # median/s (range), CPU ms app + database
            f"{sides[name].median:,.0f}/s ({min(values):,.0f}-{max(values):,.0f}) cpu {app_ms:.2f}+{db_ms:.2f}",
            note=f"{sum(o['ok'] for o in runs):,} in {ROUNDS} rounds; CPU ms each: app (gunicorn workers) "
                 f"{app_ms:.2f} + database {db_ms:.2f}; p50 latency "
                 f"{statistics.median(o['latency_ms']['p50'] for o in runs):.1f} ms"))
        if name == "post":
            add_ratio(results, "web_post_ratio", "  ratio cast POST / bare INSERT", POST_TARGET,
                      sides["post"].values, sides["bare"].values, runs, outcomes["bare"])
        if name == "whole":
            add_ratio(results, "web_whole_ratio", "  ratio whole cast / bare SELECT+INSERT", WHOLE_TARGET,
                      sides["whole"].values, sides["bare_pair"].values, runs, outcomes["bare_pair"])

    problems = [f"{name}, round {k + 1}: {failures(o)}" for name, runs in outcomes.items()
                for k, o in enumerate(runs) if o["failed"] or o["limit_reached"] or any(o["errors"].values())]
    if problems:
        results.notes.append("HTTP requests that failed: " + "; ".join(problems))
    recorded = db.session.scalar(
        select(func.count()).select_from(ParticipationRecord).where(ParticipationRecord.vote_id == vote_id)
    )
    cast = sum(o["ok"] for o in seen)
    results.notes.append(f"casting: {cast:,} casts seen by the client, {recorded:,} participation records"
                         + ("" if recorded == cast else " - THEY DIFFER"))
    db.session.commit()


def add_ratio(results: Results, key: str, label: str, target: float, ours: list[float], bare: list[float],
              our_runs: list[dict], bare_runs: list[dict]) -> None:
    """The ratio of the medians, beside the target; the round-by-round ratios and the CPU ratio as notes."""
    ratio = statistics.median(ours) / statistics.median(bare)
    by_round = [o / b for o, b in zip(ours, bare, strict=True)]
    cpu = sum(cpu_ms(bare_runs, part) for part in CPU) / sum(cpu_ms(our_runs, part) for part in CPU)
    busy = min(cpu_busy(bare_runs), cpu_busy(our_runs))
    results.add(Figure(key, label, f">= {target} x", ratio, f"{ratio:.2f} x ({min(by_round):.2f}-{max(by_round):.2f})",
                       ratio >= target,
                       note="round by round: " + " ".join(f"{r:.2f}" for r in by_round)
                            + f"; by CPU per request (bare / ours): {cpu:.2f}"
                            + ("" if busy >= 0.7 else f"; the servers kept the cores only {busy:.0%} busy, so waits "
                               "(the commits' fsync) set the pace, not CPU: the CPU ratio is what a quiet disk "
                               "would show")))


# The load client -------------------------------------------------------------------------

def run_wrk(wrk: str, script: str, port: int, threads: int, seconds: float, args: list[str]) -> dict:
    """One run of a script of bench/wrk/ against 127.0.0.1:``port``, until each thread has used its
    items (or ``seconds``, the time limit, have passed); the script's outcome (see bench/wrk/common.lua)."""
    command = [wrk, "-t", str(threads), "-c", str(threads), "-d", f"{math.ceil(seconds)}s", "--timeout", "30s",
               "-s", str(WRK_SCRIPTS / f"{script}.lua"), f"http://127.0.0.1:{port}", "--", str(threads), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finished, result, output = 0, None, []
    assert process.stdout is not None
    for line in process.stdout:
        if line == "exhausted\n":
            finished += 1
            if finished == threads:  # every request has been answered: end wrk's wait for its time limit
                process.send_signal(signal.SIGINT)
        elif line.startswith("result "):
            result = json.loads(line.removeprefix("result "))
        else:
            output.append(line)
    error = process.stderr.read() if process.stderr else ""
    process.wait()
    if result is None:
        raise RuntimeError(f"wrk gave no result ({process.returncode}): {error.strip() or ''.join(output)[-500:]}")
    result["limit_reached"] = finished < threads
    return result


def rate(outcome: dict) -> float:
    return outcome["ok"] / outcome["elapsed"] if outcome["elapsed"] else 0.0


CPU = ("cpu_app", "cpu_db")  # the gunicorn workers' and the database backends' CPU seconds of a run


def cpu_ms(runs: list[dict], part: str) -> float:
    """Milliseconds of CPU per success over ``runs``: ``part`` is cpu_app or cpu_db."""
    return 1000 * sum(o[part] for o in runs) / max(sum(o["ok"] for o in runs), 1)


def cpu_busy(runs: list[dict]) -> float:
    """How busy the workers and the database kept the machine's cores during ``runs`` (1: all of them)."""
    return sum(o["cpu_app"] + o["cpu_db"] for o in runs) / sum(o["elapsed"] for o in runs) / (os.cpu_count() or 1)


def failures(outcome: dict) -> str:
    parts = [f"{n} x {reason}" for reason, n in sorted(outcome["failed"].items())]
    parts += [f"{n} socket {kind} errors" for kind, n in outcome["errors"].items() if n]
    if outcome.get("limit_reached"):
        parts.append("stopped by the time limit, answers in flight not seen")
    return ", ".join(parts)


# The ballot pages the cast POSTs are sent from (not timed) ---------------------------------------

def prepare_pages(port: int, lines: list[str], workers: int = 4) -> list[str]:
    """GET each ballot link of ``lines`` (path TAB answers); for each page served, a line for
    bench/wrk/cast_post.lua: the path, the session cookie, and the form body of the cast."""
    def fetch(line: str) -> str:
        path, answers = line.split("\t")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
            response = connection.getresponse()
            body = response.read()
            cookies = [c.split(";", 1)[0] for c in response.msg.get_all("Set-Cookie") or []]
        finally:
            connection.close()
        found = CSRF.search(body)
        if response.status != 200 or not found or not cookies:
            raise RuntimeError(f"a ballot page could not be fetched: {response.status}")
        return f"{path}\t{'; '.join(cookies)}\tcsrf_token={found.group(1).decode()}&step=cast&{answers}"

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fetch, lines))
