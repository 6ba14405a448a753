"""Casting through gunicorn, beside a bare endpoint under the same settings (bench/bare_app.py)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import bare_app
from harness import BENCH, Database, Figure, Results, Server, cpu_split, load, load_measured, log, statuses
from sqlalchemy import func, select

from ballot.extensions import db
from ballot.tokens import BALLOT_LINK, token_service
from ballot.votes.models import ParticipationRecord, Vote

ROUNDS = 4  # turns taken by the bare inserts and the casts


def bench_http(app, results: Results, args, vote: Vote, electorate: list[int], workdir: Path,
                database: Database, port: int, bare_port: int) -> None:
    casts, pairs, warm = args.casts, max(args.casts // 2, 1), 20
    rng = random.Random(11)
    voters = rng.sample(electorate, min(len(electorate), warm + casts + pairs))
    vote_id, closes_at, choices = vote.id, vote.closes_at, {q["id"]: q["choices"] for q in vote.questions}
    db.session.rollback()  # reading the vote began a transaction: on SQLite it holds the write lock
    links = token_service(app.config, BALLOT_LINK)
    paths = [f"/votes/{vote_id}/ballot/{links.dumps({'v': vote_id, 'r': r}, closes_at)}" for r in voters]
    warm_paths, cast_paths, pair_paths = paths[:warm], paths[warm:warm + casts], paths[warm + casts:]
    bare_app.create_table(database.url)
    common = {"threads": args.threads, "seconds": args.seconds, "choices": choices}

    log(f"[{results.backend}] casting through gunicorn: starting the service and the bare endpoint")
    ballot_server = bare_server = None
    try:
        ballot_server = Server("ballot", "ballot:create_app()", port, {"BALLOT_CONFIG": os.environ["BALLOT_CONFIG"]},
                               workdir / "gunicorn-ballot.log")
        bare_server = Server("bare", "bare_app:create_app()", bare_port, {"BENCH_BARE_DATABASE_URL": database.url},
                             workdir / "gunicorn-bare.log", ["--pythonpath", str(BENCH)])
        # Warm up both (workers booted, connections pooled, templates compiled).
        warm_up = load({**common, "mode": "pair", "port": port, "paths": warm_paths, "threads": 2})
        if not warm_up["ok"].get("post"):
            raise RuntimeError(f"no ballot could be cast: {statuses(warm_up)}; log: {ballot_server.tail()}")
        load({**common, "mode": "insert", "port": bare_port, "path": "/insert", "count": 50, "threads": 2})

        log(f"[{results.backend}]   ballot pages, up to {casts:,} GETs")
        got = load_measured({**common, "mode": "get", "port": port, "paths": cast_paths}, ballot_server, database)
        # The casts and the bare inserts take turns, a slice of each per round, so that a change in
        # what else the machine runs weighs on both sides alike.
        bare_runs, post_runs = [], []
        for k in range(ROUNDS):
            pages = got["pages"][k::ROUNDS]
            log(f"[{results.backend}]   round {k + 1} of {ROUNDS}: {len(pages):,} bare inserts, then as many casts")
            bare_runs.append(load_measured({**common, "mode": "insert", "port": bare_port, "path": "/insert",
                                            "count": len(pages)}, bare_server, database))
            post_runs.append(load_measured({**common, "mode": "post", "port": port, "pages": pages},
                                           ballot_server, database))
        log(f"[{results.backend}]   whole casts, up to {pairs:,} GET+POST pairs")
        paired = load_measured({**common, "mode": "pair", "port": port, "paths": pair_paths}, ballot_server, database)
    finally:
        for server in (ballot_server, bare_server):
            if server is not None:
                server.stop()

    bare_ok, bare_rate, bare_cpu = rate_and_cpu(bare_runs, "insert")
    post_ok, post_rate, post_cpu = rate_and_cpu(post_runs, "post")
    get_cpu = rate_and_cpu([got], "get")[2]
    get_rate = got["ok"].get("get", 0) / got["elapsed"]
    pair_rate = paired["ok"].get("post", 0) / paired["elapsed"]
    ratios = " ".join(f"{rate_and_cpu([p], 'post')[1] / rate_and_cpu([b], 'insert')[1]:.2f}"
                      for b, p in zip(bare_runs, post_runs, strict=True))
    threads = f"{args.threads} client threads"
    results.add(Figure("bare", "bare endpoint: one INSERT, requests/s", "", bare_rate, f"{bare_rate:.0f} /s",
                       note=f"{bare_ok:,} inserts in {ROUNDS} rounds, {threads}; p50 "
                            f"{bare_runs[0]['latency_ms']['insert']['p50']:.0f} ms"))
    results.add(Figure("cast_post", "ballot: cast POSTs/s (the cast)", ">= 0.5 x bare", post_rate,
                       f"{post_rate:.0f} /s", post_rate >= 0.5 * bare_rate,
                       note=f"{post_ok:,} casts in {ROUNDS} rounds; p50 "
                            f"{post_runs[0]['latency_ms'].get('post', {}).get('p50', 0):.0f} ms"))
    results.add(Figure("ratio", "  ratio cast POSTs / bare inserts", ">= 0.50", post_rate / bare_rate,
                       f"{post_rate / bare_rate:.2f}", post_rate / bare_rate >= 0.5,
                       note=f"round by round: {ratios}"))
    results.add(Figure("cpu_ratio", "  ratio by CPU: bare ms / cast ms", ">= 0.50", bare_cpu / post_cpu,
                       f"{bare_cpu / post_cpu:.2f} ({bare_cpu:.1f} / {post_cpu:.1f} ms)", bare_cpu / post_cpu >= 0.5,
                       note=f"CPU ms per request: bare {cpu_split(bare_runs, 'insert')}; "
                            f"cast {cpu_split(post_runs, 'post')}"))
    results.add(Figure("cast_get", "ballot: ballot page GETs/s", "", get_rate, f"{get_rate:.0f} /s",
                       note=f"{got['ok'].get('get', 0):,} pages in {got['elapsed']:.1f} s; {get_cpu:.1f} ms CPU each"))
    results.add(Figure("cast_pair", "ballot: whole casts (GET+POST pairs)/s", "", pair_rate, f"{pair_rate:.0f} /s",
                       note=f"{paired['ok'].get('post', 0):,} pairs in {paired['elapsed']:.1f} s; "
                            f"{pair_rate / bare_rate:.2f} x bare"))
    problems = [f"{name}: {statuses(outcome)}" for name, outcome in
                [("GET", got), ("pairs", paired)]
                + [(f"bare, round {k + 1}", o) for k, o in enumerate(bare_runs)]
                + [(f"POST, round {k + 1}", o) for k, o in enumerate(post_runs)]
                if outcome["statuses"]]
    if problems:
        results.notes.append("HTTP requests that failed: " + "; ".join(problems))
    recorded = db.session.scalar(
        select(func.count()).select_from(ParticipationRecord).where(ParticipationRecord.vote_id == vote_id)
    )
    sent = warm_up["ok"].get("post", 0) + post_ok + paired["ok"].get("post", 0)
    if recorded != sent:
        results.notes.append(f"the client saw {sent} receipts but {recorded} participation records exist")
    db.session.commit()


def rate_and_cpu(outcomes: list[dict], kind: str) -> tuple[int, float, float]:
    """Successful requests of ``kind`` over several runs, their rate, and CPU milliseconds
    (workers and database) each."""
    ok = sum(o["ok"].get(kind, 0) for o in outcomes)
    seconds = sum(o["elapsed"] for o in outcomes)
    cpu = sum(o["cpu_app"] + o["cpu_db"] for o in outcomes)
    return ok, ok / seconds, 1000 * cpu / max(ok, 1)
