"""Opening a vote, tallying, and closing it: with every ballot sealed, and with every ballot missed."""

from __future__ import annotations

import base64
import datetime as dt
import os
import random

from harness import BENCH_ACTOR, Results, log, measure, seconds_figure, timed
from sqlalchemy import String, func, insert, literal, select

from ballot import sealing
from ballot.eligibility import services as eligibility
from ballot.extensions import db
from ballot.timestamps import utcnow
from ballot.tokens import BALLOT_LINK, token_service
from ballot.unit_of_work import unit_of_work
from ballot.votes import casting, lifecycle
from ballot.votes import rules as vote_rules
from ballot.votes.models import OPEN, ElectorateEntry, ParticipationRecord, SealedBallot, Vote
from ballot.votes.tally import tally

SEED_CASTS = 200  # ballots cast in-process through casting.cast_ballot before the close


def bench_open(results: Results, period, enrolled: int) -> Vote | None:
    """Create a charter vote and time its opening: the electorate frozen, a link queued per right."""
    with unit_of_work(BENCH_ACTOR):
        vote = lifecycle.create_vote(period, "charter", "Charter of the Benchmark Working Group",
                                     utcnow() + dt.timedelta(days=14),
                                     questions=["Do you approve the charter of the Benchmark Working Group?"])
    if measure(results, "open", f"open vote, {enrolled:,} rights, links queued", 30, lambda: lifecycle.open_vote(vote),
               lambda opened: f"{opened:,} in the electorate and the outbox") is None:
        return None
    return vote


def _copy(ballot: dict, key) -> dict:
    """A copy of a sealed ballot row under a fresh primary key, made as the service makes it."""
    copy = dict(ballot)
    if isinstance(key.type, String):
        copy[key.name] = os.urandom(16).hex()[: key.type.length or 32]
    else:
        copy.pop(key.name)
    return copy


def bench_tally(results: Results, vote: Vote, period, n: int) -> None:
    rng = random.Random(5)
    questions = vote.questions
    ballots = [{"answers": {q["id"]: rng.choice(q["choices"]) for q in questions}} for _ in range(n)]
    label = f"tally (pure), {n:,} yes/no ballots"
    log(f"[{results.backend}] {label}")
    result, wall, cpu = timed(lambda: tally(vote.rules, questions, ballots, n))
    results.add(seconds_figure("tally", label, 2, wall, cpu)).note = str(result["questions"][0]["counts"])

    # A Board election: approval ballots over 12 candidates for 3 seats.
    kind = vote_rules.get_kind("board")
    candidates = [f"Candidate {letter}" for letter in "ABCDEFGHIJKL"]
    rules = vote_rules.build_rules(kind, eligibility.policy_of(period), seats=3)
    board = vote_rules.build_questions(kind, [], candidates)
    weights = [12 - i for i in range(12)]
    ballots = []
    for _ in range(n):
        chosen = set(rng.choices(candidates, weights, k=rng.randrange(0, 6)))
        ballots.append({"answers": {"board": [c for c in candidates if c in chosen]}})
    label = f"tally (pure), {n:,} Board approval ballots"
    log(f"[{results.backend}] {label}")
    result, wall, cpu = timed(lambda: tally(rules, board, ballots, n))
    results.add(seconds_figure("tally_board", label, 2, wall, cpu)).note = "elected " + ", ".join(
        result["questions"][0]["elected"])


def bench_close(app, results: Results, vote: Vote, period, electorate: list[int]) -> None:
    # Ballots made by the service itself: those cast over HTTP, and a few more
    # through votes.cast. Copies of them, each a row the close opens on its own,
    # then fill the ballot box to one ballot per right (sealing 100,000 distinct
    # ballots would add half a minute to the run and nothing to the close).
    voted = set(db.session.scalars(select(ParticipationRecord.right_id).where(ParticipationRecord.vote_id == vote.id)))
    waiting = [r for r in electorate if r not in voted]
    seeds, rest = waiting[:SEED_CASTS], waiting[SEED_CASTS:]
    log(f"[{results.backend}] casting {len(seeds)} ballots with votes.cast, copying them to "
        f"{len(electorate):,} (not timed)")
    rng = random.Random(3)
    links = token_service(app.config, BALLOT_LINK)
    for right_id in seeds:
        form = {q["id"]: [rng.choice(q["choices"])] for q in vote.questions}
        with unit_of_work(BENCH_ACTOR):
            casting.cast_ballot(vote.id, links.dumps({"v": vote.id, "r": right_id}, vote.closes_at), form)
    table = SealedBallot.__table__
    pool = [dict(row) for row in db.session.execute(select(table).where(table.c.vote_id == vote.id)).mappings()]
    (key,) = table.primary_key.columns
    today = utcnow().date()
    for start in range(0, len(rest), 10_000):
        chunk = rest[start:start + 10_000]
        db.session.execute(insert(ParticipationRecord.__table__),
                           [{"vote_id": vote.id, "right_id": r, "voted_on": today} for r in chunk])
        db.session.execute(insert(table), [_copy(pool[n % len(pool)], key) for n in range(start, start + len(chunk))])
        db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(table).where(table.c.vote_id == vote.id))
    db.session.commit()

    label = f"close_vote, {count:,} sealed ballots"
    log(f"[{results.backend}] {label}")
    try:
        closed, wall, cpu = timed(lambda: lifecycle.close_vote(vote))
        figure = results.add(seconds_figure("close", label, None, wall, cpu))
        figure.note = (f"{closed['ballots']:,} ballots opened and counted ({len(pool):,} distinct), "
                       f"{closed['missed']:,} missed")
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("close", label, "", exc)

    # The same electorate in a second vote that nobody votes in: the missed-votes path at full size.
    with unit_of_work(BENCH_ACTOR):
        other = lifecycle.create_vote(period, "policy", "A vote nobody casts", utcnow() + dt.timedelta(days=14),
                                      questions=["Adopt the benchmark policy?"])
    other.public_key, other.wrapped_key = sealing.new_vote_keys(
        base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"]), other.id)
    other.status, other.opened_at, other.electorate_size = OPEN, utcnow(), len(electorate)
    db.session.execute(insert(ElectorateEntry).from_select(
        ["vote_id", "right_id"],
        select(literal(other.id), ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id),
    ))
    db.session.commit()
    label = f"close_vote, 0 ballots, {len(electorate):,} missed"
    log(f"[{results.backend}] {label}")
    try:
        closed, wall, cpu = timed(lambda: lifecycle.close_vote(other))
        figure = results.add(seconds_figure("close_missed", label, None, wall, cpu))
        figure.note = f"{closed['missed']:,} missed votes recorded, {closed['forfeited']} forfeited"
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        db.session.rollback()
        results.failed("close_missed", label, "", exc)
