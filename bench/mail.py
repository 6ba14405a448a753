"""Mail: the outbox's sending rate beside smtplib's, over one connection to the same local SMTP server."""

from __future__ import annotations

import gc
import smtplib
import statistics
import time
from email.utils import parseaddr

from harness import Figure, Results, log
from sqlalchemy import select

from ballot.extensions import db
from ballot.outbox.models import PENDING, OutboxMessage
from ballot.outbox.services import mail_message, render
from ballot.outbox.tasks import send_due


class Sink:
    """The local SMTP server both mail figures send to: it takes every message and keeps none."""

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def bench_mail(app, results: Results, queued: int, rounds: int = 3) -> None:
    """The outbox's send rate beside smtplib's over one connection, the same messages, alternating rounds.

    Each round takes the next due opt-in messages: smtplib sends them first,
    already rendered (not timed), over one connection; then ``send_due``
    sends the same messages as the worker does (claim, render, send, record).
    """
    size = min(2000, queued // (rounds + 1))
    if size < 50:
        return
    log(f"[{results.backend}] mail: {rounds} rounds of {size:,} messages, smtplib then the outbox")
    host, port = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    baseline, ours, cpu_ours = [], [], []
    for _ in range(rounds):
        batch = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == PENDING)
                                   .order_by(OutboxMessage.id).limit(size)).all()
        payloads = [(m.to_address, mail_message(m, *render(m)).as_bytes()) for m in batch]
        sender = parseaddr(str(mail_message(batch[0], "", "").sender))[1]
        db.session.rollback()
        wall = time.perf_counter()
        with smtplib.SMTP(host, port) as smtp:
            for to, data in payloads:
                smtp.sendmail(sender, [to], data)
        baseline.append(size / (time.perf_counter() - wall))
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        counts = send_due(limit=size)
        elapsed = time.perf_counter() - wall
        assert counts["sent"] == size, counts
        ours.append(size / elapsed)
        cpu_ours.append((time.process_time() - cpu) / size * 1000)
    ratio = statistics.median(ours) / statistics.median(baseline)
    figure = results.add(Figure(
        "mail", f"mail: outbox vs smtplib over one connection, {size:,} messages x {rounds} rounds", ">= 0.5 x",
        ratio, f"{ratio:.2f} x", ratio >= 0.5))
    figure.note = (f"outbox {statistics.median(ours):,.0f} msg/s (range {min(ours):,.0f}-{max(ours):,.0f}), "
                   f"smtplib {statistics.median(baseline):,.0f} msg/s (range {min(baseline):,.0f}-"
                   f"{max(baseline):,.0f}); outbox CPU {statistics.median(cpu_ours):.2f} ms/message in this process")
