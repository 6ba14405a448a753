"""The outbox: opt-in mail to a real SMTP server, links from SERVER_NAME, retries, never twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import socket
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.eligibility import services as eligibility
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import FAILED, PENDING, SENDING, SENT, OutboxMessage
from ballot.outbox.tasks import send_due
from ballot.timestamps import utcnow
from ballot.tokens import OPT_IN
from tests.conftest import Inbox, free_port, mail_server_for
from tests.functional.factories import CURRENT, roster_file, run
from tests.functional.helpers import (
    CSRF,
    ballot_process,
    left_half_sent,
    open_vote,
    path_of,
    start_process,
    write_config,
)

OPT_IN_LINK = re.compile(r"https://vote\.test/opt-in/[A-Za-z0-9_.\-]+")


def messages(status: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.scalars(query))


@pytest.fixture
def opt_ins(app, runner, tmp_path) -> int:
    """The 2026 period with three rights queued for opt-in: Ada twice (individual, delegate), Tom once."""
    run(runner, "period", "open", "2026")
    roster = roster_file(
        tmp_path,
        f"ada,Ada,Lovelace,ada@example.org,fellow:2015-05-01;sponsor:{CURRENT},,ACME & Sons",
        f'tom,"Tom <b>&</b>",Jerry,tom@example.org,supporting:{CURRENT},,',
        "bas,Basic,Member,basic@example.org,basic,,",
    )
    run(runner, "roster", "import", str(roster), "--period", "2026")
    queued = run(runner, "period", "send-opt-in", "2026")["queued"]
    assert queued == 3
    return queued


# --- Delivery -----------------------------------------------------------------

def test_opt_in_messages_are_delivered_with_text_and_html_and_a_link_from_server_name(opt_ins, runner, inbox):
    assert not inbox.messages  # queued in the outbox, not sent by the command that queued them
    assert run(runner, "mail", "send") == {"sent": 3, "retry": 0, "failed": 0}

    assert sorted(m["To"] for m in inbox.messages) == ["ada@example.org", "ada@example.org", "tom@example.org"]
    for message in inbox.messages:
        assert message["Subject"].startswith("Do you want to vote in the PSF in 2026, as ")
        assert message["From"] == "PSF Elections <elections@127.0.0.1>"
        assert "multipart/alternative" in {part.get_content_type() for part in message.walk()}
        text, html = inbox.text(message), inbox.html(message)
        (link,) = OPT_IN_LINK.findall(text)
        assert f'href="{link}"' in html
        assert "Opening the link alone does not enrol you." in text
        assert "the link must start with https://vote.test/" in text
        assert "localhost" not in text + html and "127.0.0.1/" not in text + html

    ada = [inbox.text(m) for m in inbox.to("ada@example.org")]
    assert sum("in the PSF as delegate of ACME & Sons in the 2026" in text for text in ada) == 1
    assert sum("in the PSF as an individual member in the 2026" in text for text in ada) == 1
    (tom,) = inbox.to("tom@example.org")
    assert "Dear Tom <b>&</b> Jerry," in inbox.text(tom)
    assert "Dear Tom &lt;b&gt;&amp;&lt;/b&gt; Jerry," in inbox.html(tom)  # escaped in HTML
    assert "basic@example.org" not in {m["To"] for m in inbox.messages}


def test_each_message_is_sent_once(opt_ins, runner, inbox):
    assert run(runner, "mail", "send")["sent"] == 3
    assert run(runner, "mail", "send") == {"sent": 0, "retry": 0, "failed": 0}
    assert len(inbox.messages) == 3
    assert run(runner, "mail", "status") == {"sent": 3}
    # Asking again for opt-ins already sent queues nothing new.
    assert run(runner, "period", "send-opt-in", "2026")["queued"] == 0
    # Unless asked to send them again.
    assert run(runner, "period", "send-opt-in", "2026", "--resend")["queued"] == 3
    assert run(runner, "mail", "send")["sent"] == 3


def test_after_sending_the_links_are_no_longer_stored(opt_ins, runner, inbox):
    # Waiting messages say what their link is for; the signed link is made only when sending.
    waiting = [m.context for m in messages()]
    assert all(c["link"]["signed_link"]["endpoint"] == "eligibility.opt_in" for c in waiting)
    assert "https://" not in json.dumps(waiting)
    run(runner, "mail", "send")
    tokens = [link.rsplit("/", 1)[1] for m in inbox.messages for link in OPT_IN_LINK.findall(inbox.text(m))]
    assert len(tokens) == 3
    assert not any(token in json.dumps(waiting) for token in tokens)
    for message in messages():
        assert (message.status, message.context, message.attempts) == (SENT, None, 1)
        assert message.sent_at is not None
        stored = json.dumps([message.to_address, message.subject, message.template, message.last_error])
        assert not any(token in stored for token in tokens)


def test_a_message_being_sent_is_not_picked_up_again(opt_ins, app, runner, inbox):
    claimed = messages()[0]
    claimed.status = SENDING  # a worker claimed it and died mid-send: it may have gone out
    claimed.next_attempt_at = utcnow()
    db.session.commit()
    assert run(runner, "mail", "send") == {"sent": 2, "retry": 0, "failed": 0}
    assert run(runner, "mail", "send")["sent"] == 0
    assert len(inbox.messages) == 2
    assert [m.id for m in messages(SENDING)] == [claimed.id]
    assert claimed.id not in {m.id for m in messages(SENT)}
    assert claimed.context is not None  # never marked sent: an operator decides
    # An operator can find it; it is never retried by itself.
    assert [m.id for m in outbox.stuck(now=utcnow() + dt.timedelta(minutes=11))] == [claimed.id]
    assert outbox.stuck(now=utcnow()) == []
    assert "stuck" not in run(runner, "mail", "status")
    claimed.next_attempt_at = utcnow() - dt.timedelta(minutes=11)
    db.session.commit()
    assert run(runner, "mail", "status")["stuck"] == [claimed.id]
    assert "never finished" in runner.invoke(args=["mail", "status"]).output


def test_the_console_transport_prints_each_message_with_its_link_whole(opt_ins, app, runner, inbox, monkeypatch):
    """The demo's transport (`make run`): each message printed, its plain text as the voter reads it."""
    monkeypatch.setitem(app.config, "BALLOT_MAIL_TRANSPORT", "console")
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "Sent 3," in result.output
    assert inbox.messages == []
    assert result.output.count("--- mail to ada@example.org: Do you want to vote in the PSF in 2026, as ") == 2
    assert "\nDear Tom <b>&</b> Jerry," in result.output
    links = OPT_IN_LINK.findall(result.output)
    assert len(set(links)) == 3
    assert all(outbox.read_link_token(OPT_IN, link.rsplit("/", 1)[1]) for link in links)  # whole, as signed


def test_addresses_outside_ascii_are_delivered(app, runner, tmp_path, monkeypatch):
    """A domain outside ASCII goes in its IDNA form, which every server takes; a mailbox name outside ASCII
    needs a server that offers SMTPUTF8, and is then written in UTF-8 (RFC 6531, 6532)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=True)
    controller.start()
    try:
        point_mail_at(app, monkeypatch, controller.port)
        run(runner, "period", "open", "2026")
        roster = roster_file(tmp_path, f"ana,Ana,Ñúñez,ana@exämple.org,supporting:{CURRENT},,",
                             f"jur,Jürgen,Groß,jürgen@example.org,supporting:{CURRENT},,")
        run(runner, "roster", "import", str(roster), "--period", "2026")
        run(runner, "period", "send-opt-in", "2026")
        assert run(runner, "mail", "send") == {"sent": 2, "retry": 0, "failed": 0}
    finally:
        controller.stop()
    assert sorted(m["To"] for m in inbox.messages) == ["ana@xn--exmple-cua.org", "jürgen@example.org"]
    assert all(OPT_IN_LINK.search(inbox.text(m)) for m in inbox.messages)


# --- Failures: retries with backoff, then failed ---------------------------------

def point_mail_at(app, monkeypatch, port: int) -> None:
    """Send through the real SMTP path to another port (Flask-Mail reads its settings at start)."""
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setattr(app.extensions["mail"], "port", port)


def retries_then_fails(app, monkeypatch, count: int, error: str, max_attempts: int = 3) -> None:
    """``count`` messages tried, each retried with backoff until BALLOT_MAIL_MAX_ATTEMPTS (set here to
    ``max_attempts``) attempts have failed, then marked failed."""
    monkeypatch.setitem(app.config, "BALLOT_MAIL_MAX_ATTEMPTS", max_attempts)
    start = utcnow()
    assert send_due(now=start) == {"sent": 0, "retry": count, "failed": 0}
    now = start
    for attempt in range(1, max_attempts):
        pending = messages(PENDING)
        assert len(pending) == count
        delay = dt.timedelta(minutes=2 ** attempt)
        for message in pending:
            assert message.attempts == attempt
            assert error in message.last_error
            assert message.next_attempt_at == now + delay
            assert message.context is not None  # kept for the next attempt
        # Not due yet: nothing is tried before the backoff has passed.
        assert send_due(now=now + delay - dt.timedelta(seconds=1)) == {"sent": 0, "retry": 0, "failed": 0}
        now += delay
        expected = {"sent": 0, "retry": 0, "failed": count} if attempt + 1 == max_attempts else \
            {"sent": 0, "retry": count, "failed": 0}
        assert send_due(now=now) == expected
    failed = messages(FAILED)
    assert len(failed) == count
    assert all(m.attempts == max_attempts and error in m.last_error for m in failed)
    assert send_due(now=now + dt.timedelta(days=30)) == {"sent": 0, "retry": 0, "failed": 0}


def test_an_unreachable_smtp_server_is_retried_with_backoff_then_marked_failed(
    opt_ins, app, runner, inbox, monkeypatch
):
    point_mail_at(app, monkeypatch, free_port())  # nothing listens there
    retries_then_fails(app, monkeypatch, opt_ins, "ConnectionRefusedError")
    assert run(runner, "mail", "status") == {"failed": 3}
    # Once the server is back, failed messages stay failed: nothing is sent twice or late.
    monkeypatch.undo()
    assert run(runner, "mail", "send") == {"sent": 0, "retry": 0, "failed": 0}
    assert inbox.messages == []


class Refusing:
    """An SMTP server that refuses every message."""

    def __init__(self):
        self.seen = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.seen += 1
        return "554 5.7.1 Message refused"


@pytest.fixture
def refusing_server():
    handler = Refusing()
    with mail_server_for(handler) as controller:
        yield controller, handler


def test_a_refusing_smtp_server_is_retried_then_marked_failed(opt_ins, app, inbox, monkeypatch, refusing_server):
    controller, handler = refusing_server
    point_mail_at(app, monkeypatch, controller.port)
    retries_then_fails(app, monkeypatch, opt_ins, "554", max_attempts=4)
    assert handler.seen == opt_ins * 4
    assert inbox.messages == []


class Counting:
    """An SMTP server that counts its connections and accepts messages; with ``drop_after`` it drops the
    connection after that many messages (as a server restarting would)."""

    def __init__(self, drop_after: int | None = None):
        self.connections = 0
        self.accepted: list[str] = []
        self.drop_after = drop_after
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.accepted.append(envelope.rcpt_tos[0])
            if self.drop_after is not None and len(self.accepted) % self.drop_after == 0:
                server.transport.close()  # the reply never arrives: the client sees the connection drop
                return "250 OK"
        return "250 OK"


def test_a_batch_goes_over_one_connection(opt_ins, app, monkeypatch):
    handler = Counting()
    with mail_server_for(handler) as controller:
        point_mail_at(app, monkeypatch, controller.port)
        assert send_due() == {"sent": 3, "retry": 0, "failed": 0}
        assert handler.connections == 1 and len(handler.accepted) == 3
        assert {m.status for m in messages()} == {SENT}


def test_a_dropped_connection_ends_the_batch_and_the_rest_go_out_on_a_new_one(opt_ins, app, monkeypatch):
    handler = Counting(drop_after=1)
    with mail_server_for(handler) as controller:
        point_mail_at(app, monkeypatch, controller.port)
        counts = send_due()
        # The server took each message but dropped the line before saying so: each counts a failed attempt
        # and is retried later; the messages after it were sent over a new connection each.
        assert counts == {"sent": 0, "retry": 3, "failed": 0}
        assert handler.connections == 3
        assert all(m.status == PENDING and m.attempts == 1 for m in messages())


def test_a_mail_server_that_never_answers_is_given_up_on_and_retried(opt_ins, app, monkeypatch):
    """A server that takes the connection and says nothing must not hold the worker: each exchange has a time
    limit (BALLOT_SMTP_TIMEOUT), after which the message counts a failed attempt and waits for its retry."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        point_mail_at(app, monkeypatch, silent.getsockname()[1])
        monkeypatch.setitem(app.config, "BALLOT_SMTP_TIMEOUT", 0.5)
        counts = send_due()
    # The first message waited out the time limit; the connection was then let go, and each message after it
    # waited out its own (a new connection each): all are retried later, none is left "sending".
    assert counts == {"sent": 0, "retry": opt_ins, "failed": 0}
    assert all(m.status == PENDING and "timed out" in m.last_error for m in messages())


def test_a_message_that_cannot_be_sent_fails_without_stopping_the_others(opt_ins, app, runner, inbox):
    first = messages()[0]
    first.subject = "Your ballot: a title\nBcc: everyone@example.org"  # a header no SMTP server may get
    db.session.commit()
    result = runner.invoke(args=["mail", "send", "--json"])
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sent": 2, "retry": 0, "failed": 1}
    assert len(inbox.messages) == 2
    assert not any("everyone@example.org" in str(m) for m in inbox.messages)
    (failed,) = messages(FAILED)
    assert failed.id == first.id and failed.attempts == 1 and "BadHeaderError" in failed.last_error
    assert run(runner, "mail", "send") == {"sent": 0, "retry": 0, "failed": 0}


# --- Several workers at once ----------------------------------------------------------

class HoldingInbox(Inbox):
    """The test's mail server: it notes over which connection each message came, and holds the messages until
    two connections are sending at once (or ``hold`` seconds have passed), so that two workers overlap."""

    def __init__(self, hold: float = 60):
        super().__init__()
        self.connections: set = set()
        self.taken_over: Counter = Counter()  # messages taken, by connection
        self.deadline = time.monotonic() + hold

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.connections.add(session.peer)
        while len(self.connections) < 2 and time.monotonic() < self.deadline:
            await asyncio.sleep(0.01)
        answer = await super().handle_DATA(server, session, envelope)
        with self.lock:
            self.taken_over[session.peer] += 1
        return answer


def test_two_worker_processes_over_one_outbox_send_each_message_once(committed_app, tmp_path):
    """Two `ballot worker` processes at once (PostgreSQL: claims skip what the other holds, FOR UPDATE SKIP
    LOCKED; SQLite: they take turns at the write lock): each message reaches the mail server once, and both
    workers send their share."""
    inbox = HoldingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        open_vote(committed_app, 90)  # a ballot link queued for each voter
        config = write_config(committed_app, tmp_path / "workers.py", MAIL_PORT=controller.port, BALLOT_MAIL_BATCH=10)
        workers = [start_process(config, tmp_path / f"worker-{n}.log", "worker", "--once") for n in range(2)]
        for n, worker in enumerate(workers):
            assert worker.wait(timeout=120) == 0, (tmp_path / f"worker-{n}.log").read_text()
    finally:
        controller.stop()
    with committed_app.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        db.session.rollback()
    assert statuses == [SENT] * 90
    received = [(m["To"], m["Subject"], inbox.text(m)) for m in inbox.messages]
    assert len(received) == len(set(received)) == 90, "a message reached the mail server twice, or not at all"
    assert len(inbox.taken_over) == 2, inbox.taken_over  # each worker sent over its own connection


def test_a_claim_skips_the_messages_another_worker_holds(committed_app, backend, inbox, tmp_path):
    """On PostgreSQL a claim takes the oldest due messages that no other worker has locked (SKIP LOCKED):
    it neither waits for them nor sends them."""
    if backend[0] != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns at the database's lock")
    open_vote(committed_app, 30)
    config = write_config(committed_app, tmp_path / "worker.py", BALLOT_MAIL_BATCH=8)
    with committed_app.app_context(), db.engine.connect() as other_worker:
        held = other_worker.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(10)
                                    .with_for_update()).all()
        assert ballot_process(config, "mail", "send", timeout=30) == {"sent": 20, "retry": 0, "failed": 0}
        other_worker.rollback()
    assert ballot_process(config, "mail", "send") == {"sent": 10, "retry": 0, "failed": 0}
    with committed_app.app_context():
        sent_first = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.sent_at, OutboxMessage.id)
                                        .limit(20)).all()
        db.session.rollback()
    assert not set(held) & set(sent_first)
    assert len(inbox.messages) == len({m["To"] for m in inbox.messages}) == 30


# --- Links come from SERVER_NAME, never from a request -----------------------------

def test_a_forged_host_header_is_refused(opt_ins, runner, client, inbox):
    run(runner, "mail", "send")
    link = OPT_IN_LINK.findall(inbox.text(inbox.to("tom@example.org")[0]))[0]
    response = client.get(path_of(link), headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "evil.example" not in response.text and "Traceback" not in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_forwarded_host_never_reaches_a_link(opt_ins, runner, client, inbox):
    run(runner, "mail", "send")
    link = OPT_IN_LINK.findall(inbox.text(inbox.to("tom@example.org")[0]))[0]
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "Forwarded": "host=evil.example"}
    page = client.get(path_of(link), headers=forged)
    assert page.status_code == 200
    sent = client.post(path_of(link), data={"csrf_token": CSRF.search(page.text).group(1)}, headers=forged)
    assert sent.status_code == 303 and sent.headers["Location"] == path_of(link)
    enrolled = client.get(path_of(link), headers=forged)
    assert enrolled.status_code == 200 and "You are enrolled" in enrolled.text
    assert "evil.example" not in enrolled.text
    assert re.search(r'href="https://vote\.test/standing/', enrolled.text)


def test_mail_queued_during_a_request_with_a_forged_host_links_to_server_name(app, runner, tmp_path):
    run(runner, "period", "open", "2026")
    roster = roster_file(tmp_path, f"tom,Tom,,tom@example.org,supporting:{CURRENT},,")
    run(runner, "roster", "import", str(roster), "--period", "2026")
    forged = {"base_url": "http://evil.example:8080", "headers": {"X-Forwarded-Host": "evil.example"}}
    with app.test_request_context("/", **forged):
        assert eligibility.send_opt_in(eligibility.get_period(2026)) == 1
    (message,) = messages()
    # The link is signed and built when the message is rendered: even inside a forged request.
    with app.test_request_context("/", **forged):
        text, html = outbox.render(message)
    assert OPT_IN_LINK.search(text) and OPT_IN_LINK.search(html)
    assert "evil.example" not in text + html


# --- Opening the link does not enrol; the POST from the page does -----------------------

def test_opening_the_opt_in_link_does_not_enrol_only_the_post_from_the_page_does(opt_ins, runner, client, inbox):
    run(runner, "mail", "send")
    (message,) = inbox.to("tom@example.org")
    path = path_of(OPT_IN_LINK.findall(inbox.text(message))[0])

    # Mail scanners fetch links, sometimes more than once and with HEAD.
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200
        assert "Do you want to vote in 2026?" in page.text
    assert client.head(path).status_code == 200
    assert run(runner, "period", "enrolled", "2026") == []

    # A POST that did not come from the page (no CSRF token) is refused, plainly.
    forged = client.post(path, data={})
    assert forged.status_code == 400
    assert "This form has expired or was not sent from this site." in forged.text
    assert "Traceback" not in forged.text
    assert client.post(path, data={"csrf_token": "made-up"}).status_code == 400
    assert run(runner, "period", "enrolled", "2026") == []

    token = CSRF.search(page.text).group(1)
    # The POST enrols and sends the browser back to the link (POST-redirect-GET), which now says so:
    # a reload or Back shows that page again, never a question about sending the form again.
    enrolled = client.post(path, data={"csrf_token": token})
    assert enrolled.status_code == 303 and enrolled.headers["Location"] == path
    rights = run(runner, "period", "enrolled", "2026")
    assert [(r["member_key"], r["capacity"], r["how"]) for r in rights] == [("tom", "individual", "link")]
    landed = client.get(path)
    assert landed.status_code == 200 and "You are enrolled" in landed.text and "Yes, enrol me" not in landed.text
    assert re.search(r'href="https://vote\.test/standing/', landed.text), "the standing link, to keep"

    again = client.post(path, data={"csrf_token": token})  # the form sent again from a page left open
    assert again.status_code == 303 and again.headers["Location"] == path
    assert len(run(runner, "period", "enrolled", "2026")) == 1
    assert "You are enrolled" in client.get(path).text


def test_a_vote_title_that_could_not_be_mailed_is_refused_when_the_vote_is_created(app, runner):
    run(runner, "period", "open", "2026")
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    for title in ("Bylaws\nBcc: everyone@example.org", "Bylaws\r2026", "Tab\tseparated"):
        result = runner.invoke(args=["vote", "create", "--period", "2026", "--kind", "charter", "--title", title,
                                     "--closes-at", closes, "--question", "Adopt?"])
        assert result.exit_code == 1
        assert "error: a vote's title must be one line of text" in result.output
    assert run(runner, "vote", "list") == []


# --- Messages left half-sent: shown, and released by an administrator ---------------

def test_an_administrator_releases_a_stuck_message_by_command(opt_ins, app, runner, inbox):
    first, second, third = messages()
    stuck = left_half_sent(first)
    recent = left_half_sent(second, minutes_ago=1)  # a worker may still be sending this one
    assert run(runner, "mail", "status")["stuck"] == [stuck]

    refused = runner.invoke(args=["mail", "release", str(recent)])
    assert refused.exit_code == 1 and f"message {recent} was not left half-sent" in refused.output
    refused = runner.invoke(args=["mail", "release", str(stuck), "999999"])
    assert refused.exit_code == 1 and "message 999999" in refused.output
    refused = runner.invoke(args=["mail", "release"])
    assert refused.exit_code == 1 and "--all-stuck" in refused.output
    assert messages(SENDING) == [first, second]  # nothing released by a refused command
    assert audited("mail.release") == []

    assert run(runner, "mail", "release", str(stuck)) == {"released": [stuck]}
    assert [(e.subject, e.detail["template"]) for e in audited("mail.release")] == [(f"message {stuck}", "opt_in")]
    assert "ada@example.org" not in str([(e.subject, e.detail) for e in audited("mail.release")])
    assert run(runner, "mail", "send")["sent"] == 2  # the released one, and the third, never claimed
    assert {m.id for m in messages(SENT)} == {stuck, third.id}
    assert len(inbox.messages) == 2


def test_all_stuck_messages_are_released_at_once(opt_ins, app, runner, inbox):
    stuck = [left_half_sent(m) for m in messages()[:2]]
    assert run(runner, "mail", "release", "--all-stuck") == {"released": stuck}
    assert "stuck" not in run(runner, "mail", "status")
    assert run(runner, "mail", "release", "--all-stuck") == {"released": []}
    assert "No message" in runner.invoke(args=["mail", "release", "--all-stuck"]).output
    assert run(runner, "mail", "send")["sent"] == 3


def audited(action: str) -> list:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
