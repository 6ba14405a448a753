"""Mail: the outbox's sending rate beside smtplib's, over one connection to the same local SMTP server.

The server is aiosmtpd in a process of its own (bench/smtp_sink.py): both
sides talk to it over a socket, as to a real mail server, and its work (a
large share of each message's cost) takes no CPU or interpreter lock from
either side. On PostgreSQL a second, informative figure has two worker
processes send at once (``python bench/mail.py send N`` is one of them).
"""

from __future__ import annotations

import json
import smtplib
import statistics
import subprocess
import sys
import time

from harness import BENCH, Database, Figure, Results, alternate, log, process_cpu
from sqlalchemy import select

from ballot.extensions import db
from ballot.outbox.models import PENDING, OutboxMessage
from ballot.outbox.services import render, sender
from ballot.outbox.tasks import send_due
from ballot.outbox.wire import wire_message
from ballot.timestamps import utcnow


class SmtpSink:
    """The local SMTP server both mail figures send to: it takes every message and keeps none."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(BENCH / "smtp_sink.py")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        self.taken: int | None = None

    def cpu(self) -> float:
        return process_cpu(self.process.pid)

    def stop(self) -> None:
        """Stop it; ``taken`` is then how many messages it took in all."""
        if self.process.poll() is None:
            self.process.stdin.close()
            self.taken = int(self.process.stdout.readline() or 0)
            self.process.wait(timeout=20)


def bench_mail(app, results: Results, queued: int, database: Database, sink: SmtpSink, rounds: int = 3) -> None:
    """The outbox's send rate beside smtplib's over one connection: the same messages, alternating rounds.

    Round k takes the k-th slice of the due opt-in messages. smtplib sends
    them already written out, exactly as the outbox writes them (not timed),
    over one connection; ``send_due`` sends the same messages as the worker
    does: claim a batch and write it out, send it over one connection, record
    the outcomes, batch after batch. Which side goes first changes each round.
    """
    size = min(2000, queued // (rounds + 1))
    if size < 50:
        return
    batch = app.config["BALLOT_MAIL_BATCH"]
    log(f"[{results.backend}] mail: {rounds} alternating rounds of {size:,} messages, smtplib and the outbox "
        f"(batches of {batch})")
    slices = [[(envelope.sender, envelope.recipient, data) for envelope, data in written]
              for written in _written(size, rounds)]
    host, port = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    cpu = {"smtplib": [], "outbox": [], "database": [], "server": []}

    def with_smtplib() -> float:
        messages = slices[len(cpu["smtplib"])]
        process, server, wall = time.process_time(), sink.cpu(), time.perf_counter()
        with smtplib.SMTP(host, port) as smtp:
            for envelope_from, to, data in messages:
                smtp.sendmail(envelope_from, [to], data)
        elapsed = time.perf_counter() - wall
        cpu["smtplib"].append((time.process_time() - process) / size * 1000)
        cpu["server"].append((sink.cpu() - server) / size * 1000)
        return size / elapsed

    def with_the_outbox() -> float:
        backends, process, wall = database.server_cpu(), time.process_time(), time.perf_counter()
        counts = send_due(limit=size)
        elapsed = time.perf_counter() - wall
        if counts != {"sent": size, "retry": 0, "failed": 0}:
            raise RuntimeError(f"the outbox did not send the round's {size} messages: {counts}")
        cpu["outbox"].append((time.process_time() - process) / size * 1000)
        cpu["database"].append(sum(seconds - backends.get(pid, 0.0)
                                   for pid, seconds in database.server_cpu().items()) / size * 1000)
        return size / elapsed

    rates = alternate({"smtplib": with_smtplib, "outbox": with_the_outbox}, rounds)
    ours, theirs = rates["outbox"], rates["smtplib"]
    ratio = ours.median / theirs.median
    by_round = [o / t for o, t in zip(ours.values, theirs.values, strict=True)]
    figure = results.add(Figure(
        "mail", f"mail: outbox / smtplib, one connection, {size:,} msgs x {rounds}", ">=0.5x aim 0.8",
        ratio, f"{ratio:.2f} x (rounds {min(by_round):.2f}-{max(by_round):.2f})", ratio >= 0.5))
    median = {side: statistics.median(values) for side, values in cpu.items()}
    database_cpu = f" + database {median['database']:.2f}" if database.backend == "postgresql" else ""
    figure.note = (f"outbox {ours.text('{:,.0f}', ' msg/s')}, smtplib {theirs.text('{:,.0f}', ' msg/s')}; "
                   f"CPU ms/message: outbox {median['outbox']:.2f}{database_cpu}, smtplib {median['smtplib']:.2f}, "
                   f"the SMTP server {median['server']:.2f} (its own process); batches of {batch}; "
                   f"{'aim 0.8 x met' if ratio >= 0.8 else 'aim 0.8 x not met'}")
    try:
        bench_two_workers(results, queued - size * rounds, database)
    except Exception as exc:  # noqa: BLE001 - a failure is a figure too
        results.failed("mail_two", "mail: two worker processes", "", exc)


def _written(size: int, rounds: int) -> list[list]:
    """The next ``rounds`` slices of ``size`` due messages, each written out as the outbox writes it."""
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == PENDING)
                                  .order_by(OutboxMessage.id).limit(size * rounds)).all()
    from_, now = sender(), utcnow()
    written = [wire_message(from_, m.to_address, m.subject, *render(m), now) for m in messages]
    db.session.rollback()  # reading began a transaction: on SQLite it holds the write lock
    return [written[k * size:(k + 1) * size] for k in range(rounds)]


def bench_two_workers(results: Results, queued_left: int, database: Database, rounds: int = 3) -> None:
    """Informative, PostgreSQL: two worker processes sending at once (claims skip each other's rows),
    beside one, the same number of messages per round, alternating rounds."""
    size = min(2000, queued_left // (2 * rounds))
    if database.backend != "postgresql" or size < 100:
        return
    log(f"[{results.backend}] mail: {rounds} alternating rounds of {size:,} messages, one worker process, then two")
    rates = alternate({"one": lambda: _workers(1, size), "two": lambda: _workers(2, size)}, rounds)
    one, two = rates["one"], rates["two"]
    results.add(Figure(
        "mail_two", f"mail: two worker processes / one, {size:,} msgs x {rounds}", "", two.median / one.median,
        f"{two.median / one.median:.2f} x",
        note=f"two workers {two.text('{:,.0f}', ' msg/s')}, one {one.text('{:,.0f}', ' msg/s')}; "
             "each worker a process of its own, timed from a common start"))


def _workers(count: int, total: int) -> float:
    """Messages per second of ``count`` worker processes sending ``total`` due messages between them."""
    workers = [subprocess.Popen([sys.executable, str(BENCH / "mail.py"), "send", str(total // count)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    try:
        for worker in workers:
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker process did not start")
        for worker in workers:  # all at once
            worker.stdin.write("go\n")
            worker.stdin.flush()
        done = [json.loads(worker.stdout.readline()) for worker in workers]
    finally:
        for worker in workers:
            worker.stdin.close()
            worker.wait(timeout=60)
    sent = sum(d["sent"] for d in done)
    if sent != total // count * count:
        raise RuntimeError(f"the worker processes sent {sent} of {total}: {done}")
    return sent / max(d["seconds"] for d in done)


def _send(limit: int) -> None:
    """One worker process (BALLOT_CONFIG names the benchmark's configuration): ready, then on "go" send
    ``limit`` messages as `ballot worker` does, and print how many and in how many seconds."""
    from ballot import create_app

    app = create_app()
    with app.app_context():
        print("ready", flush=True)
        sys.stdin.readline()
        wall = time.perf_counter()
        counts = send_due(limit=limit)
        print(json.dumps({"sent": counts["sent"], "seconds": time.perf_counter() - wall}), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["send"]:
    _send(int(sys.argv[2]))
