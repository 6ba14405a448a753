"""Shared steps for functional tests: drive the real commands, pages and processes."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from click.testing import CliRunner
from sqlalchemy import func, inspect, select

from ballot import REQUIRED_SECRETS, ROOT, sealing
from ballot.cli import main
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import Enrollment, MissedVote
from ballot.extensions import db
from ballot.outbox.models import SENDING, OutboxMessage
from ballot.outbox.tasks import send_due
from ballot.policy import load_policy
from ballot.timestamps import utcnow
from ballot.unit_of_work import unit_of_work
from ballot.votes import lifecycle
from ballot.votes.models import ParticipationRecord, SealedBallot, Vote
from tests.functional.factories import roster_text

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RECEIPT = re.compile(r'class="receipt"><strong[^>]*>([A-Z2-7-]+)</strong>')


def run(runner, *args: str) -> dict | list:
    """Invoke a `ballot` command with --json; fail the test on a non-zero exit."""
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output or "".join(traceback.format_exception(result.exception))
    return json.loads(result.output)


def path_of(link: str) -> str:
    """The path of a link to the service (links are built from SERVER_NAME, never from a request)."""
    assert link.startswith("https://vote.test/"), link
    return link.removeprefix("https://vote.test")


def csrf_token(page_html: str) -> str:
    match = CSRF.search(page_html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def cast(client, link: str, answers: dict[str, str | list[str]]):
    """Open the ballot, review, cast; returns the final response (the receipt, after the redirect)."""
    path = path_of(link)
    page = client.get(path)
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_token(page.text), **answers}
    review = client.post(path, data={**data, "step": "review"}, follow_redirects=True)
    assert review.status_code == 200, review.text
    assert "Review your ballot" in review.text
    return client.post(path, data={**data, "step": "cast"}, follow_redirects=True)


def opt_in(client, link: str):
    """Open an opt-in link and confirm on its page, as the member does; returns the page the browser lands on
    (the POST answers with a redirect to the link: POST-redirect-GET)."""
    path = path_of(link)
    page = client.get(path)
    assert page.status_code == 200, page.text
    landed = client.post(path, data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert [(r.status_code, r.headers["Location"]) for r in landed.history] in ([], [(303, path)]), landed.history
    return landed


def ask_for_links(client, email: str, forwarded_for: str | None = None):
    """"Send me my links again" for ``email``, from the page's form; through a proxy that says the request
    came from ``forwarded_for``, when given."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/link-again", headers=headers)
    assert page.status_code == 200, page.text
    return client.post("/link-again", headers=headers, data={"csrf_token": csrf_token(page.text), "email": email})


def receipt_of(response) -> str:
    match = RECEIPT.search(response.text)
    assert match, response.text
    return match.group(1)


class HttpBrowser:
    """One browser over real HTTP to 127.0.0.1: its own cookies (session, CSRF), Host: vote.test.

    Like a browser, it follows a redirect after a form (303) with a GET: a cast lands on its receipt.
    """

    def __init__(self, port: int, timeout: float = 15):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None,
                sent: Callable[[], object] | None = None) -> tuple[int, str]:
        """One request on a connection of its own; ``sent`` is called once the request has gone out."""
        headers = {"Host": "vote.test", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            if sent is not None:
                sent()
            response = conn.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value
            location = response.headers.get("Location")
        finally:
            conn.close()
        if response.status == 303 and location:
            return self.request("GET", urlsplit(location).path)
        return response.status, text

    def open_ballot(self, path: str) -> str:
        """GET a ballot page; returns its CSRF token."""
        status, page = self.request("GET", path)
        assert status == 200, page
        return csrf_token(page)


# A vote with real commits, its ballot box and its record ---------------------------

def open_vote(app, voters: int, prefix: str = "race") -> tuple[int, dict[str, int]]:
    """``voters`` enrolled Fellows and one open vote with one question: its id, and each voter's right id by email.

    Their ballot links are queued in the outbox, not sent.
    """
    with app.app_context(), unit_of_work("test"):
        now = utcnow()
        period = eligibility.open_period(now.year, load_policy("seed"))
        rows = (f"{prefix}-{i},Voter,{i},{prefix}{i}@example.org,fellow:2015-05-01:,," for i in range(voters))
        eligibility.import_roster(period, roster_text(*rows).encode(), f"{prefix}.csv")
        rights = {r.member.email: r.id for r in eligibility.rights_of(period)}
        db.session.add_all(Enrollment(right_id=right_id, confirmed_at=now, source="link")
                           for right_id in rights.values())
        vote = lifecycle.create_vote(period, "policy", "Race", now + dt.timedelta(days=7), questions=["Adopt it?"])
        lifecycle.open_vote(vote)
        return vote.id, rights


def mailed_ballot_paths(app, inbox, vote_id: int, emails) -> dict[str, str]:
    """Send the outbox (in this process) and read each voter's ballot path from the link mailed to them."""
    with app.app_context():
        inbox.clear()
        assert send_due()["sent"] == len(emails)
    paths = {}
    for email in emails:
        (link,) = inbox.links(email, rf"https://vote\.test/votes/{vote_id}/ballot/\S+")
        paths[email] = urlsplit(link).path
    return paths


def ledger_and_box(app, vote_id: int) -> tuple[int, int]:
    """(participation records, sealed ballots) of a vote, read in one statement: one snapshot, even mid-race."""
    ledger = (select(func.count()).select_from(ParticipationRecord)
              .where(ParticipationRecord.vote_id == vote_id).scalar_subquery())
    box = select(func.count()).select_from(SealedBallot).where(SealedBallot.vote_id == vote_id).scalar_subquery()
    with app.app_context():
        row = db.session.execute(select(ledger, box)).one()
        db.session.rollback()  # SQLite: release the write lock the read took
    return tuple(row)


def open_box(app, vote_id: int) -> list[str]:
    """The receipts of an open vote's sealed ballots, opened with the installation's key (as only the close does)."""
    with app.app_context():
        wrapped = db.session.scalar(select(Vote.wrapped_key).where(Vote.id == vote_id))
        private = sealing.unwrap_vote_key(base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"]), vote_id, wrapped)
        sealed = db.session.scalars(select(SealedBallot.ciphertext).where(SealedBallot.vote_id == vote_id)).all()
        db.session.rollback()
    return [sealing.receipt_for(sealing.unseal(c, private, vote_id)["token"]) for c in sealed]


def after_close(app, vote_id: int) -> tuple[list[str], set[int], set[int]]:
    """A closed vote: the receipts in its record, who participated, who missed it; its box and keys are gone."""
    with app.app_context():
        vote = db.session.get(Vote, vote_id)
        assert vote.status == "closed"
        assert (vote.public_key, vote.wrapped_key) == (None, None), "the vote's keys are destroyed at the close"
        record = json.loads(vote.record)
        voted = set(db.session.scalars(select(ParticipationRecord.right_id)
                                       .where(ParticipationRecord.vote_id == vote_id)))
        missed = set(db.session.scalars(select(MissedVote.right_id).where(MissedVote.vote_id == vote_id)))
        db.session.rollback()
    assert ledger_and_box(app, vote_id) == (len(voted), 0), "the sealed ballots are destroyed at the close"
    assert all(sealing.receipt_for(b["token"]) == b["receipt"] for b in record["ballots"])
    return [b["receipt"] for b in record["ballots"]], voted, missed


def left_half_sent(message: OutboxMessage, minutes_ago: float = 11) -> int:
    """A worker claimed ``message`` and died mid-send, ``minutes_ago``: the outbox cannot know whether it went."""
    message.status = SENDING
    message.next_attempt_at = utcnow() - dt.timedelta(minutes=minutes_ago)
    db.session.commit()
    return message.id


# The database as an adversary with a copy of it reads it --------------------------------

def dump_database(app) -> dict[str, list[dict]]:
    """Every table, every column, rows as ``SELECT *`` returns them (plus xmin, ctid on PostgreSQL)."""
    with app.app_context(), db.engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        columns = "xmin::text AS xmin, ctid::text AS ctid, *" if postgres else "*"
        dump = {
            table: [dict(row._mapping) for row in conn.exec_driver_sql(f'SELECT {columns} FROM "{table}"')]
            for table in inspect(conn).get_table_names()
        }
        conn.rollback()
    return dump


def as_text(value) -> str:
    """Every way the adversary might read a stored value as text."""
    if isinstance(value, (bytes, memoryview)):
        raw = bytes(value)
        return " ".join((raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
                         raw.decode("latin-1")))
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def byte_forms(raw: bytes) -> list[str]:
    """Every text form in which ``as_text`` could show these bytes."""
    return [raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(), raw.decode("latin-1")]



# The service in processes of its own ----------------------------------------------

# What the test app is configured with (tests/conftest.py), passed on to the service's processes.
SETTINGS = ("SQLALCHEMY_DATABASE_URI", "SERVER_NAME", "PREFERRED_URL_SCHEME", "MAIL_SERVER", "MAIL_PORT",
            "BALLOT_MAIL_TRANSPORT", "BALLOT_POLICY", *REQUIRED_SECRETS)


def write_config(app, path: Path, **settings) -> Path:
    """A BALLOT_CONFIG file for processes on the test app's database: its settings, overridden by ``settings``."""
    values = {**{name: app.config[name] for name in SETTINGS}, **settings}
    path.write_text(
        "".join(f"{name} = {value!r}\n" for name, value in values.items())
        + "SESSION_COOKIE_SECURE = False  # the tests talk plain HTTP to 127.0.0.1\n"
    )
    return path


def service_env(config: Path) -> dict[str, str]:
    """The environment of a service process: its configuration file and no other BALLOT_* setting, and
    this checkout's code (the virtualenv's editable install may point at another checkout)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BALLOT_")}
    env["BALLOT_CONFIG"] = str(config)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def ballot_process(config: Path, *args: str, json_output: bool = True, timeout: float = 60) -> dict | list | str:
    """Run a `ballot` command in a process of its own, with --json unless told not to; returns what it printed.
    Fails the test on a non-zero exit."""
    command = [sys.executable, "-m", "ballot.cli", *args, *(["--json"] if json_output else [])]
    done = subprocess.run(command, cwd=ROOT, env=service_env(config), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout) if json_output else done.stdout


def start_process(config: Path, log: Path, *args: str) -> subprocess.Popen:
    """A `ballot` command in a process of its own, as production runs it; its output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "ballot.cli", *args], cwd=ROOT, env=service_env(config),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def start_worker(config: Path, log: Path, interval: float = 0.2) -> subprocess.Popen:
    """`ballot worker` in a process of its own; its output appended to ``log``."""
    return start_process(config, log, "worker", "--interval", str(interval))

# Trustees, on their own machines -----------------------------------------------------------

TRUSTEE_PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class Machine:
    """A trustee's own machine: their key files and passphrase, nothing of the service."""

    name: str
    key: Path
    public: Path
    passphrase: Path
    fingerprint: str


def trustee_machine(home: Path, name: str) -> Machine:
    """`ballot trustee keygen` in ``home``, with the passphrase from a file; the trustee's machine."""
    home.mkdir()
    passphrase = home / "passphrase.txt"
    passphrase.write_text(f"{TRUSTEE_PASSPHRASE} of {name}\n")
    key = home / f"{name.lower()}.key"
    result = CliRunner().invoke(main, ["trustee", "keygen", str(key), "--passphrase-file", str(passphrase)])
    assert result.exit_code == 0, result.output
    return Machine(name, key, key.with_suffix(".pub"), passphrase, result.stdout.split("Fingerprint: ")[1].strip())


def answer(machine: Machine, request: Path, signer: Path) -> Path:
    """`ballot trustee answer` on the trustee's machine, checking the installation's signature."""
    out = request.with_name(request.name.replace("request", "answer"))
    result = CliRunner().invoke(main, ["trustee", "answer", str(request), "--key", str(machine.key),
                                       "--passphrase-file", str(machine.passphrase), "--signer", str(signer),
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out
