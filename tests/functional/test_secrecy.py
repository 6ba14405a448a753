"""Guarantee 2, secrecy at rest: the database, the logs and the mail cannot link a ballot to a voter.

The test casts real ballots through a real HTTP server (werkzeug, so that real
request log lines are written) into a database with real commits, in a known
order and with known, distinct choices, closes and publishes the votes, and
then plays an adversary who holds:

- a dump of every table, every column, in the order a plain ``SELECT *``
  returns the rows (on PostgreSQL with the system columns xmin and ctid),
  taken while the votes are open, after every ballot was cast: there, row
  order and xmin DO pair each sealed ballot with its voter's participation
  record (the control below shows it);
- the same dump taken after the votes were closed and published;
- every published record, and every voter's receipt check on the results page;
- every log record of every logger at DEBUG, from before the first ballot
  link was queued until after the result was published and the mail sent;
- the mail outbox and every message the SMTP server received.

It does not hold the installation's configuration (``BALLOT_SEALING_KEY``).

It knows (as the test does) who cast which ballot, and checks that nothing the
adversary holds pairs a ballot with a voter: after the close the ballot box is
empty and the vote's keys are gone; nothing of the published record (token,
receipt, contents) is in the mid-vote copy, whose sealed ballots open with
nothing the adversary holds; no shared value or id, no timestamp, no row
order, no PostgreSQL transaction id, no log line. It also checks the positive
side, so that storing nothing would fail: the ledger says who voted, the
mid-vote box holds exactly the ballots cast (the test opens them with the
installation's key), and every voter finds their ballot under their receipt
in the published record.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import itertools
import json
import logging
import random
import re
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import inspect
from werkzeug.serving import make_server

from ballot import sealing
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import Enrollment, VotingRight
from ballot.errors import InvalidInput
from ballot.extensions import db
from ballot.outbox.tasks import send_due
from ballot.policy import load_policy
from ballot.timestamps import utcnow
from ballot.tokens import CHOICES_KEPT, token_service
from ballot.unit_of_work import unit_of_work
from ballot.votes import lifecycle, queries
from ballot.votes import record as vote_record
from ballot.votes.rules import YES_NO
from tests.functional.factories import roster_text
from tests.functional.helpers import CSRF, RECEIPT, HttpBrowser, as_text, byte_forms, dump_database

VOTERS = 8
QUESTIONS = ["Adopt the code of conduct", "Move the conference", "Raise the dues"]
# Right ids far from every other number in the data, so that one showing up in
# a log line or a ballot cannot hide among counters and small ids.
RIGHT_ID_OFFSET = 7_340_000
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?")


# The adversary's logs --------------------------------------------------------------

class Collector(logging.Handler):
    """Keeps every record, fully formatted, as a line the adversary can read."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []
        self.reading = False
        self._formatter = logging.Formatter()

    @contextlib.contextmanager
    def adversary_reading(self):
        """The adversary's own queries are not the service's logs."""
        self.reading = True
        try:
            yield
        finally:
            self.reading = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.reading:
            return
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        self.lines.append((record.name, text))


@pytest.fixture
def adversary_logs(committed_app):
    """Every logger at DEBUG into one collector, for the whole test; restored afterwards.

    Installed after the app exists: its migrations reconfigure logging
    (migrations/alembic.ini), and the adversary's logs begin after that.
    """
    collector = Collector()
    manager = logging.root.manager
    # Loggers the run will use but that may not exist yet; werkzeug would
    # otherwise set its own level on first use.
    for name in ("werkzeug", "sqlalchemy.engine.Engine", "sqlalchemy.pool", "ballot", "flask_limiter",
                 "flask_wtf", "psycopg", "mail.log"):
        logging.getLogger(name)
    loggers = [logging.root] + [
        logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if not logger.propagate or logger is logging.root:
            logger.addHandler(collector)
    try:
        yield collector
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            if collector in logger.handlers:
                logger.removeHandler(collector)


# A real HTTP server and a voter's browser ---------------------------------------------

@pytest.fixture
def live_server(committed_app, adversary_logs):
    """The app under werkzeug's threaded server on 127.0.0.1; yields its port."""
    server = make_server("127.0.0.1", 0, committed_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Browser(HttpBrowser):
    """One voter's browser, which casts and checks receipts."""

    def cast(self, link: str, answers: dict[str, str]) -> str:
        """Open the ballot, review it, cast it; returns the receipt shown."""
        path = urlsplit(link).path
        status, page = self.request("GET", path)
        assert status == 200, page
        form = {"csrf_token": CSRF.search(page).group(1), **answers}
        status, page = self.request("POST", path, {**form, "step": "review"})
        assert status == 200 and "Review your ballot" in page, page
        status, page = self.request("POST", path, {**form, "step": "cast"})
        assert status == 200, page
        return RECEIPT.search(page).group(1)

    def check_receipt(self, vote_id: int, receipt: str) -> str:
        """Look a receipt up on the results page (by POST: never in a URL); returns the answer page."""
        path = f"/votes/{vote_id}/results"
        status, page = self.request("GET", path)
        assert status == 200, page
        status, page = self.request("POST", path, {"csrf_token": CSRF.search(page).group(1), "receipt": receipt})
        assert status == 200, page
        return page


# The election -------------------------------------------------------------------------

def roster_csv() -> bytes:
    # the last one is enrolled but never votes
    return roster_text(*(f"secrecy-{i},Voter{i},Surname{i},voter{i}@example.org,fellow:2015-05-01:,,"
                         for i in range(VOTERS + 1))).encode()


def email_of(i: int) -> str:
    return f"voter{i}@example.org"


def set_up_votes(app, count: int) -> tuple[list[int], dict[str, int]]:
    """A period, everyone enrolled, ``count`` open votes, their links mailed."""
    with app.app_context():
        now = utcnow()
        with unit_of_work("test"):
            period = eligibility.open_period(now.year, load_policy("seed"))
            eligibility.import_roster(period, roster_csv(), "secrecy.csv")
            table = VotingRight.__table__
            db.session.execute(table.update().values(id=table.c.id + RIGHT_ID_OFFSET))
        with unit_of_work("test"):
            rights = {r.member.email: r.id for r in eligibility.rights_of(period)}
            assert len(rights) == VOTERS + 1
            for right_id in rights.values():
                db.session.add(Enrollment(right_id=right_id, confirmed_at=now, source="link"))
            vote_ids = []
            for k in range(count):
                vote = lifecycle.create_vote(period, "policy", f"Motion {k + 1}", now + dt.timedelta(days=7),
                                             questions=QUESTIONS)
                lifecycle.open_vote(vote)
                vote_ids.append(vote.id)
        assert send_due()["sent"] == count * (VOTERS + 1)
    return vote_ids, rights


def choices_of(voter: int, run: int) -> dict[str, str]:
    """Distinct answers for every voter within a vote (7 is coprime to 27 combinations)."""
    combos = list(itertools.product(YES_NO, repeat=len(QUESTIONS)))
    combo = combos[(voter * 7 + run * 5) % len(combos)]
    return {f"q{n}": answer for n, answer in enumerate(combo, 1)}


def cast_orders(runs: int) -> list[list[int]]:
    """The order voters cast in, per vote: roster order, reversed, then shuffled."""
    orders = [list(range(VOTERS)), list(reversed(range(VOTERS)))]
    rng = random.Random(20260301)
    while len(orders) < runs:
        order = list(range(VOTERS))
        rng.shuffle(order)
        orders.append(order)
    return orders[:runs]


# The adversary's dump --------------------------------------------------------------------

def content_forms(contents: dict) -> list[str]:
    """A ballot's contents as the adversary might find them written: the whole, or its answers, as JSON."""
    forms = []
    for value in (contents, contents["answers"]):
        forms += [sealing.canonical_json(value).decode(), json.dumps(value), json.dumps(value, sort_keys=True)]
    return forms


def ctid_key(ctid: str) -> tuple[int, int]:
    page, offset = ctid.strip("()").split(",")
    return int(page), int(offset)


def token_payload(token: str) -> dict:
    """What anyone can read in a ballot token without its secret: its signed payload."""
    payload = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def spearman(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(xs, ys, strict=True)) / (n * (n * n - 1))


def stored_timestamps(dump: dict) -> list[tuple[str, str, dt.datetime]]:
    """Every date-and-time in the dump (columns and inside JSON), in UTC."""
    found = []
    for table, rows in dump.items():
        for row in rows:
            for column, value in row.items():
                if isinstance(value, dt.datetime):
                    when = [value]
                else:
                    when = [dt.datetime.fromisoformat(m)
                            for m in TIMESTAMP.findall(as_text(value))]
                for w in when:
                    w = w.replace(tzinfo=dt.UTC) if w.tzinfo is None else w.astimezone(dt.UTC)
                    found.append((table, column, w))
    return found


# The test --------------------------------------------------------------------------------

RUNS = 3


def test_adversary_with_database_logs_and_mail_cannot_link_ballots_to_voters(
    committed_app, adversary_logs, live_server, inbox,
):
    app = committed_app
    vote_ids, rights = set_up_votes(app, RUNS)
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    links = {}  # (vote id, email) -> the link mailed to that voter
    for i in range(VOTERS + 1):
        for link in inbox.links(email_of(i)):
            links[int(re.search(r"/votes/(\d+)/ballot/", link).group(1)), email_of(i)] = link
    assert len(links) == RUNS * (VOTERS + 1)

    # The voters cast, each vote in its own order, in separate browsers.
    orders = cast_orders(RUNS)
    receipts = {}  # (vote id, voter) -> receipt shown to the voter
    cast_started = utcnow()
    for vote_id, order, run in zip(vote_ids, orders, range(RUNS), strict=True):
        for voter in order:
            browser = Browser(live_server)
            receipts[vote_id, voter] = browser.cast(links[vote_id, email_of(voter)], choices_of(voter, run))
    cast_ended = utcnow()
    assert len(set(receipts.values())) == RUNS * VOTERS

    # The adversary's first copy: every ballot cast, every vote still open.
    with adversary_logs.adversary_reading():
        mid = dump_database(app)
        with app.app_context():
            inspector = inspect(db.engine)
            columns = {t: {c["name"]: str(c["type"]).upper() for c in inspector.get_columns(t)}
                       for t in ("sealed_ballot", "participation_record")}
            ballot_references = [fk["referred_table"] for fk in inspector.get_foreign_keys("sealed_ballot")]

    # What the test knows and the adversary does not: the installation's sealing key.
    sealing_key = base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"])
    mid_votes = {v["id"]: v for v in mid["vote"]}
    vote_keys = {  # vote id -> (public key, wrapped private key, private key unwrapped by the test)
        vote_id: (bytes(mid_votes[vote_id]["public_key"]), bytes(mid_votes[vote_id]["wrapped_key"]),
                  sealing.unwrap_vote_key(sealing_key, vote_id, bytes(mid_votes[vote_id]["wrapped_key"])))
        for vote_id in vote_ids
    }

    def opened(row: dict) -> dict:
        return sealing.unseal(bytes(row["ciphertext"]), vote_keys[row["vote_id"]][2], row["vote_id"])

    def mid_box(vote_id: int) -> list[dict]:
        return [b for b in mid["sealed_ballot"] if b["vote_id"] == vote_id]

    # --- The mid-vote copy as it is: a sealed ballot per participation record, nothing counted. ---
    assert set(columns["sealed_ballot"]) == {"id", "vote_id", "ciphertext"}
    assert ballot_references == ["vote"]
    for vote_id in vote_ids:
        vote = mid_votes[vote_id]
        assert vote["status"] == "open" and vote["record"] is None and vote["result"] is None, "no interim result"
        assert vote["public_key"] is not None and vote["wrapped_key"] is not None
        box = mid_box(vote_id)
        assert len(box) == VOTERS == len([p for p in mid["participation_record"] if p["vote_id"] == vote_id])
        assert all(re.fullmatch(r"[0-9a-f]{32}", b["id"]) for b in box)
        assert len({len(bytes(b["ciphertext"])) for b in box}) == 1, "the length of a sealed ballot says nothing"
        # Opened with the installation's key, the box holds exactly the ballots cast, tokens inside.
        contents = [opened(b) for b in box]
        assert all(set(c) == {"answers", "token"} for c in contents)
        assert {sealing.receipt_for(c["token"]) for c in contents} == {receipts[vote_id, v] for v in range(VOTERS)}
        if not postgres:  # stored without rowids, clustered on the random id
            assert [b["id"] for b in box] == sorted(b["id"] for b in box)

    # Control: in the mid-vote copy on PostgreSQL, the physical order and xmin of
    # the ballot box follow the casting order, and xmin pairs each sealed ballot
    # with its voter's participation record. Opened with the installation's key,
    # the sealed ballot so paired is that voter's own: a receipt, token or answer
    # stored in clear in that row would link the voter to their ballot, and the
    # checks below (no value of the record in the mid-vote copy) would see it.
    if postgres:
        for vote_id, order, run in zip(vote_ids, orders, range(RUNS), strict=True):
            box = sorted(mid_box(vote_id), key=lambda b: ctid_key(b["ctid"]))
            assert box == mid_box(vote_id), "SELECT * follows ctid order"
            ledger = {p["right_id"]: p["xmin"] for p in mid["participation_record"] if p["vote_id"] == vote_id}
            assert [b["xmin"] for b in box] == [ledger[rights[email_of(v)]] for v in order]
            for voter, row in zip(order, box, strict=True):
                ballot = opened(row)
                assert sealing.receipt_for(ballot["token"]) == receipts[vote_id, voter]
                assert ballot["answers"] == choices_of(voter, run)

    # The adversary holds the public and the wrapped private key of each vote, not
    # the sealing key that unwraps it: no 32 bytes of the wrapped key, nor the
    # public key, open a sealed ballot or unwrap the vote's key.
    for vote_id in vote_ids:
        public, wrapped, _ = vote_keys[vote_id]
        candidates = [wrapped[i:i + 32] for i in range(len(wrapped) - 31)] + [public]
        for row in mid_box(vote_id):
            for candidate in candidates:
                with pytest.raises(InvalidInput):
                    sealing.unseal(bytes(row["ciphertext"]), candidate, vote_id)
        for candidate in candidates:
            with pytest.raises(InvalidInput):
                sealing.unwrap_vote_key(candidate, vote_id, wrapped)

    with app.app_context():
        with unit_of_work("test"):
            for vote_id in vote_ids:
                lifecycle.close_vote(queries.get_vote(vote_id))
                lifecycle.publish(queries.get_vote(vote_id))
        send_due()  # the forfeiture notice of the voter who never votes

    # Each voter checks their receipt on the public results page.
    published = {}
    for vote_id, run in zip(vote_ids, range(RUNS), strict=True):
        status, body = Browser(live_server).request("GET", f"/votes/{vote_id}/record.json")
        assert status == 200
        published[vote_id] = json.loads(body)
        for voter in range(VOTERS):
            page = Browser(live_server).check_receipt(vote_id, receipts[vote_id, voter])
            assert "is among the counted ballots" in page
            counted = page.split("It was counted as:", 1)[1].split("</ul>", 1)[0]
            assert re.findall(r": (yes|no|abstain)</li>", counted) == list(choices_of(voter, run).values())

    with adversary_logs.adversary_reading():
        dump = dump_database(app)
    mails = [message.as_string() for message in inbox.messages]
    log_lines = list(adversary_logs.lines)
    published_texts = [json.dumps(document) for document in published.values()]

    # What the published records say of each ballot, in every form the adversary might find it.
    secrets_of_ballots = {}  # token -> {name: needle}
    contents_of_ballots = {}  # token -> forms of its contents
    for vote_id in vote_ids:
        for entry in published[vote_id]["record"]["ballots"]:
            token = entry["token"]
            payload, signature = token.split(".")
            secrets_of_ballots[token] = {
                "token": token, "token-payload": payload, "token-signature": signature,
                "receipt": entry["receipt"], "receipt-compact": entry["receipt"].replace("-", ""),
                "nonce": token_payload(token)["n"],
            }
            contents_of_ballots[token] = content_forms(entry["contents"])
    assert len(secrets_of_ballots) == RUNS * VOTERS
    link_tokens = [urlsplit(link).path.rsplit("/", 1)[1] for link in links.values()]
    right_ids = [str(r) for r in rights.values()]
    # What was in the mid-vote ballot box, and the keys.
    mid_ballots = {b["id"]: byte_forms(bytes(b["ciphertext"])) for b in mid["sealed_ballot"]}
    key_needles = {"the sealing key": byte_forms(sealing_key) + [app.config["BALLOT_SEALING_KEY"]]}
    for vote_id, (public, wrapped, private) in vote_keys.items():
        key_needles[f"vote {vote_id}'s private key"] = byte_forms(private)
        key_needles[f"vote {vote_id}'s public key"] = byte_forms(public)
        key_needles[f"vote {vote_id}'s wrapped key"] = byte_forms(wrapped)

    # --- Positive: the ledger records who voted, and every voter finds their ballot. ---
    today = cast_started.date()
    ledger = {(p["vote_id"], p["right_id"]) for p in dump["participation_record"]}
    assert ledger == {(v, rights[email_of(i)]) for v in vote_ids for i in range(VOTERS)}
    assert {str(p["voted_on"]) for p in dump["participation_record"]} <= {str(today), str(cast_ended.date())}
    absent = rights[email_of(VOTERS)]
    assert {(m["vote_id"], m["right_id"]) for m in dump["missed_vote"]} == {(v, absent) for v in vote_ids}
    for vote_id, run in zip(vote_ids, range(RUNS), strict=True):
        document = published[vote_id]
        assert vote_record.verify(document) == []
        by_receipt = {b["receipt"]: b for b in document["record"]["ballots"]}
        assert set(by_receipt) == {receipts[vote_id, v] for v in range(VOTERS)}
        for voter in range(VOTERS):  # each voter's ballot was counted as cast
            entry = by_receipt[receipts[vote_id, voter]]
            assert entry["contents"] == {"answers": choices_of(voter, run)}
            assert sealing.receipt_for(entry["token"]) == entry["receipt"]
        # The tokens published are those that travelled sealed in the mid-vote box.
        assert {b["token"] for b in document["record"]["ballots"]} == {opened(b)["token"] for b in mid_box(vote_id)}

    # --- (a) After the close the ballot box is empty and the keys are gone; the record alone remains. ---
    assert dump["sealed_ballot"] == [], "the sealed ballots of a closed vote are destroyed"
    for vote in dump["vote"]:
        assert vote["status"] == "published"
        assert vote["public_key"] is None and vote["wrapped_key"] is None, "a closed vote's keys are destroyed"
    document_keys = {"format", "vote", "questions", "rules", "ballots", "result", "protection"}
    for vote_id in vote_ids:
        assert set(published[vote_id]["record"]) == document_keys, "no key and no sealed form is published"
        assert published[vote_id]["record"]["protection"]["model"] == "sealing-key"
        for entry in published[vote_id]["record"]["ballots"]:
            assert set(entry) == {"token", "receipt", "contents"}
            assert set(entry["contents"]) == {"answers"}
            assert set(entry["contents"]["answers"]) == {"q1", "q2", "q3"}
    stored = [(table, column, as_text(value)) for table, rows in dump.items() for row in rows
              for column, value in row.items()]
    for token, forms in secrets_of_ballots.items():
        assert set(token_payload(token)) == {"v", "n"}, "a ballot token must carry nothing but the vote and a nonce"
        for name, needle in list(forms.items()) + [("contents", c) for c in contents_of_ballots[token][:1]]:
            found = {(table, column) for table, column, text in stored if needle in text}
            assert found <= {("vote", "record")}, f"the ballot's {name} is stored in {found}"
            assert name not in ("token", "receipt", "contents") or found, f"the record lacks the {name}"
    identifying = right_ids + link_tokens + [
        x for i in range(VOTERS + 1) for x in (email_of(i), f"Voter{i}", f"Surname{i}", f"secrecy-{i}")]
    for vote_id in vote_ids:
        for entry in published[vote_id]["record"]["ballots"]:
            text = json.dumps(entry) + json.dumps(token_payload(entry["token"]))
            assert not [x for x in identifying if x in text], "a published ballot carries something identifying"

    # --- (b) No timestamp: none on a ballot, only a day in the ledger, none from the casting. ---
    assert not [n for n, t in columns["sealed_ballot"].items() if "DATE" in t or "TIME" in t]
    assert columns["participation_record"] == {"vote_id": "INTEGER", "right_id": "INTEGER", "voted_on": "DATE"}
    for snapshot in (mid, dump):
        for row in snapshot["participation_record"]:
            assert not isinstance(row["voted_on"], dt.datetime) and len(str(row["voted_on"])) == 10
        during = [(t, c, w) for t, c, w in stored_timestamps(snapshot) if cast_started <= w <= cast_ended]
        assert during == [], "something stored a time at which a ballot was cast"
    for ballot in mid["sealed_ballot"]:
        assert not TIMESTAMP.search(" ".join(as_text(v) for v in ballot.values()))
    for token in secrets_of_ballots:
        assert "exp" not in token_payload(token)
    for vote_id in vote_ids:
        assert not TIMESTAMP.search(json.dumps(published[vote_id]["record"]["ballots"]))

    # --- (c) Order: the record lists ballots by receipt, whatever the casting order. ---
    correlations = []
    for vote_id, order in zip(vote_ids, orders, strict=True):
        listed = [b["receipt"] for b in published[vote_id]["record"]["ballots"]]
        assert listed == sorted(listed), "the record is in the order of its receipts, digests of random tokens"
        position = {receipt: n for n, receipt in enumerate(listed)}
        correlations.append(spearman(list(range(VOTERS)), [position[receipts[vote_id, v]] for v in order]))
    # Three casting orders (one the reverse of another) and receipt order each
    # time: the published order is not the casting order, nor systematically near it.
    assert not all(c == 1.0 for c in correlations), correlations
    assert not all(c == -1.0 for c in correlations), correlations

    # The ledger, as a dump lists it after the close, is in right order: not the order of casting.
    for vote_id in vote_ids:
        stored_order = [p["right_id"] for p in dump["participation_record"] if p["vote_id"] == vote_id]
        assert stored_order == sorted(stored_order), "the ledger's row order tells the order of casting"

    # --- (d) PostgreSQL: after the close, no row carries a cast's transaction id (the close wrote the
    # ledger again), so the ids' order cannot tell the order of casting either. ---
    if postgres:
        cast_xmins = {p["xmin"] for p in mid["participation_record"]}
        assert len(cast_xmins) == RUNS * VOTERS, "each cast is its own transaction"
        assert {b["xmin"] for b in mid["sealed_ballot"]} == cast_xmins, "each cast wrote its sealed ballot"
        carrying = {table for table, rows in dump.items() for row in rows if row["xmin"] in cast_xmins}
        assert carrying == set(), "something a cast wrote survives the close"

    # --- (e) The mid-vote copy and everything after it: nothing in common to join on. ---
    # Nothing the record says of a ballot (token, its parts, receipt, nonce, contents) is in the mid-vote copy.
    # (Compared without regard to case: base32 and hex read the same either way.)
    mid_stored = [(table, column, as_text(value)) for table, rows in mid.items() for row in rows
                  for column, value in row.items()]
    mid_lowered = [(table, column, text.lower()) for table, column, text in mid_stored]
    for token, forms in secrets_of_ballots.items():
        for name, needle in list(forms.items()) + [("contents", c) for c in contents_of_ballots[token]]:
            found = {(table, column) for table, column, text in mid_lowered if needle.lower() in text}
            assert not found, f"the published ballot's {name} is readable in the mid-vote copy, in {found}"
    # Nothing of the mid-vote box (ids, ciphertexts) survives or is published, logged or mailed.
    afterwards = [text for _, _, text in stored] + published_texts + mails + [text for _, text in log_lines]
    for ballot_id, forms in mid_ballots.items():
        for needle in [ballot_id] + forms:
            assert not [text for text in afterwards if needle in text], "a mid-vote sealed ballot is still to be found"
    # The keys: the sealing key is configuration, nowhere in what the adversary holds; each
    # vote's private key was only ever stored wrapped, and no key outlives the close.
    mid_texts = [text for _, _, text in mid_stored]
    for name, forms in key_needles.items():
        for needle in forms:
            in_mid = any(needle in text for text in mid_texts)
            in_after = [text[:80] for text in afterwards if needle in text]
            assert in_after == [], f"{name} is still to be found after the close"
            if "public" in name or "wrapped" in name:
                assert in_mid, f"{name} should be in the mid-vote copy (the test would prove nothing)"
            else:
                assert not in_mid, f"{name} is in the mid-vote copy"

    # --- (f) No token, receipt, ballot link, right id or key in any log line. ---
    # The test's SMTP server (loggers "mail.*") stands for the voters' mail
    # provider: it logs the mail it receives, links included, so it is held to
    # the rule for mail below; every other logger is the service's.
    service_lines = [(name, text) for name, text in log_lines if not name.startswith("mail.")]
    needles = [n for forms in secrets_of_ballots.values() for n in forms.values()]
    needles += [c for forms in contents_of_ballots.values() for c in forms]
    needles += link_tokens + right_ids + list(receipts.values())
    leaks = [(name, text[:300]) for name, text in service_lines for n in needles if n in text]
    assert leaks == [], leaks[:5]
    assert any(name == "werkzeug" and "POST /votes/" in text and "/ballot/[redacted]" in text
               for name, text in service_lines), "the real request log was captured"
    assert any(name.startswith("sqlalchemy.engine") for name, _ in service_lines), "SQL logging was captured"

    # --- (g) The outbox and the mail: no receipt or ballot token, no link kept once sent. ---
    assert dump["outbox_message"] and all(m["status"] == "sent" for m in dump["outbox_message"])
    # Erased: SQL NULL, or JSON null as SQLite stores it raw.
    assert all(m["context"] in (None, "null") for m in dump["outbox_message"]), "links are erased once sent"
    secret_of_ballots = [n for forms in secrets_of_ballots.values() for n in forms.values()]
    secret_of_ballots += [c for forms in contents_of_ballots.values() for c in forms]
    for mail in mails + [text for name, text in log_lines if name.startswith("mail.")]:
        assert not [n for n in secret_of_ballots if n in mail], "a mail carries a receipt or a ballot token"
    for row in dump["outbox_message"]:
        text = " ".join(as_text(v) for v in row.values())
        assert not [n for n in secret_of_ballots + link_tokens if n in text]


def test_a_receipt_is_kept_only_in_the_voters_own_browser(committed_app, adversary_logs, live_server, inbox):
    """The receipt page survives reload and Back from a cookie in the voter's browser; the server keeps
    the receipt nowhere (database, logs, mail, the session) until the close puts it in the record. The
    choices between the review and the cast are kept the same way, and in no URL; the cast clears them."""
    app = committed_app
    vote_ids, rights = set_up_votes(app, 1)
    vote_id = vote_ids[0]
    link = next(link for link in inbox.links(email_of(0)) if f"/votes/{vote_id}/ballot/" in link)
    path = urlsplit(link).path
    browser = Browser(live_server)
    # The review: the choices are kept in the browser (a cookie), not in the review page's URL.
    status, page = browser.request("GET", path)
    form = {"csrf_token": CSRF.search(page).group(1), **choices_of(0, 0)}
    status, page = browser.request("POST", path, {**form, "step": "review"})
    assert status == 200 and "Review your ballot" in page
    choices = browser.cookies["ballot_choices"]
    with app.app_context():
        kept_choices = token_service(app.config, CHOICES_KEPT).loads(choices)["f"]
    assert kept_choices == {q: [answer] for q, answer in choices_of(0, 0).items()}, "the cookie holds them"
    choices_forms = [choices, json.dumps(kept_choices, separators=(",", ":")), json.dumps(kept_choices)]
    status, page = browser.request("POST", path, {**form, "step": "cast"})
    receipt = RECEIPT.search(page).group(1)
    assert browser.cookies["ballot_choices"] in ("", '""'), "the cast clears the choices"
    for _ in range(3):  # reloads, and Back to the pages
        for where in (path, path + "/review"):
            status, page = browser.request("GET", where)
            assert status == 200 and RECEIPT.search(page).group(1) == receipt
    status, page = Browser(live_server).request("GET", path)  # the same link in another browser
    assert status == 200 and "You have already voted" in page and receipt not in page

    # In the browser: the receipt cookie holds it; the session cookie does not.
    with app.app_context():
        session = app.session_interface.get_signing_serializer(app).loads(browser.cookies["session"])
    assert receipt not in json.dumps(session)
    kept = browser.cookies["ballot_receipt"]
    assert receipt in base64.urlsafe_b64decode(kept.split(".")[0] + "==").decode()

    forms = [receipt, receipt.replace("-", ""), receipt.lower(), receipt.replace("-", "").lower(), kept]
    forms += choices_forms  # the choices as kept between the review and the cast
    with adversary_logs.adversary_reading():
        mid = dump_database(app)
    stored = [(table, column, as_text(value)) for table, rows in mid.items() for row in rows
              for column, value in row.items()]
    assert not [(t, c) for t, c, text in stored for needle in forms if needle in text], "a receipt or choices stored"
    assert [p["right_id"] for p in mid["participation_record"]] == [rights[email_of(0)]], "the ledger: who voted"
    with app.app_context():
        send_due()
    lines = [text for name, text in adversary_logs.lines if not name.startswith("mail.")]
    assert not [line[:200] for line in lines for needle in forms if needle in line], "a receipt or choices logged"
    requests = [text for name, text in adversary_logs.lines if name == "werkzeug" and "/ballot/" in text]
    assert any("GET /votes/" in line and "/ballot/[redacted]/review " in line for line in requests), requests
    assert not [line for line in requests if "q1" in line or "?" in line], "choices in a URL"
    assert not [m for m in inbox.messages for needle in forms if needle in m.as_string()], "a receipt is mailed"

    with app.app_context(), unit_of_work("test"):
        lifecycle.close_vote(queries.get_vote(vote_id))
    with adversary_logs.adversary_reading():
        after = dump_database(app)
    found = {(table, column) for table, rows in after.items() for row in rows for column, value in row.items()
             if receipt in as_text(value)}
    assert found == {("vote", "record")}, "after the close the receipt is in the anonymous record alone"
