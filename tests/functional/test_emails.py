"""Every kind of message as a mail server receives it: well-formed MIME, fit to pass spam filters, checkable by the
voter, and intact outside ASCII."""

from __future__ import annotations

import datetime as dt
import re

from flask import render_template
from sqlalchemy import select

from ballot.eligibility import services as eligibility
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import OutboxMessage
from tests.functional.factories import YEAR, asked_to_opt_in, create, roster_text, run
from tests.functional.helpers import csrf_token, opt_in, path_of

BRIAN = f"brian,Brian,Kernighan,brian@example.org,contributing:{YEAR - 1}-06-01:,,"
ORIGIN = "https://vote.test/"
ROSTER = roster_text(BRIAN)


def every_kind_of_message(runner, client, inbox, tmp_path) -> dict:
    """Brian is asked to opt in, enrols, gets two ballots, misses both and forfeits."""
    asked_to_opt_in(runner, tmp_path, BRIAN)
    assert "You are enrolled" in opt_in(client, inbox.links("brian@example.org")[0]).text
    for n in range(2):
        vote = create(runner, "--kind", "charter", "--title", f"Charter {n}", "--question", "Charter the Packaging WG?")
        run(runner, "vote", "open", str(vote["id"]))
        run(runner, "vote", "close", str(vote["id"]))
    run(runner, "mail", "send")
    kinds = {}
    for message in inbox.to("brian@example.org"):
        text = inbox.text(message)
        kind = "opt_in" if "/opt-in/" in text else "ballot_link" if "/ballot/" in text else "forfeited"
        kinds.setdefault(kind, message)
    assert set(kinds) == {"opt_in", "ballot_link", "forfeited"}
    return kinds


def assert_well_formed(message, wire: bytes) -> None:
    """What mail clients and SMTP ask of a message: MIME 1.0, a multipart/alternative of a plain-text and an HTML
    body in UTF-8 (no multipart/mixed around it: nothing is attached), ASCII on the wire (headers encoded, bodies
    7bit or quoted-printable), headers folded within 78 characters, and nothing the email package finds wrong."""
    assert message["MIME-Version"] == "1.0" and message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("7bit", "quoted-printable")
    assert not message.defects and not any(part.defects for part in parts)
    assert wire.isascii()
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in wire.split(b"\r\n")) <= 998


def test_messages_are_plain_honest_mail(app, runner, client, inbox, tmp_path):
    for kind, message in every_kind_of_message(runner, client, inbox, tmp_path).items():
        assert_well_formed(message, inbox.wire(message))
        # A clear sender and subject; no out-of-office replies; an id in the sender's domain.
        assert message["From"].addresses[0].display_name == "PSF Elections", kind
        assert message["From"].addresses[0].domain == message["Message-ID"].rstrip(">").rpartition("@")[2]
        assert message["Subject"] and "\n" not in message["Subject"] and message["Date"], kind
        assert message["Auto-Submitted"] == "auto-generated"
        # Both bodies, saying the same: a plain-text part and an HTML part.
        text, html = inbox.text(message), inbox.html(message)
        assert text.startswith("Dear Brian Kernighan,") and "Dear Brian Kernighan," in html
        # Nothing that tracks the reader: no images, no remote styles or scripts, no beacons.
        assert not re.search(r"<img|<script|<link|<iframe|src=|url\(|@import", html, re.I), kind
        # The line that tells how to check the message is genuine, and every link passes its own test.
        for body in (text, html):
            assert "How to check this message is genuine: the link must start with" in body
            assert ORIGIN in body and "never asks for a password" in body
        text_links = [link for link in re.findall(r"https?://\S+", text) if link != ORIGIN]
        html_links = re.findall(r'href="([^"]+)"', html)
        assert text_links and sorted(text_links) == sorted(set(html_links)), kind
        assert all(link.startswith(ORIGIN) for link in text_links + html_links), kind
        assert '<html lang="en">' in html and f"<title>{message['Subject']}</title>" in html



def test_names_and_titles_outside_ascii_arrive_intact(app, runner, client, inbox, tmp_path):
    title = "Élection du conseil d’administration 2026 — « second tour »"
    run(runner, "period", "open", str(YEAR))
    roster = tmp_path / "roster.csv"
    roster.write_text(roster_text(f"zoe,Zoë,Łukasz-Nguyễn,zoe@example.org,contributing:{YEAR - 1}-06-01:,,"),
                      encoding="utf-8")
    run(runner, "roster", "import", str(roster), "--period", str(YEAR))
    run(runner, "period", "send-opt-in", str(YEAR))
    run(runner, "mail", "send")
    (opt_in,) = inbox.to("zoe@example.org")
    received = {"opt_in": inbox.wire(opt_in)}
    link = inbox.links("zoe@example.org")[0]
    client.post(path_of(link), data={"csrf_token": csrf_token(client.get(path_of(link)).text)})
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", title,
               "--closes-at", closes, "--question", "Adopter la charte ?")
    run(runner, "vote", "open", str(vote["id"]))
    inbox.clear()
    run(runner, "mail", "send")
    (ballot,) = inbox.to("zoe@example.org")
    received["ballot"] = inbox.wire(ballot)
    for message, wire in ((opt_in, received["opt_in"]), (ballot, received["ballot"])):
        assert_well_formed(message, wire)
        text, html = inbox.text(message), inbox.html(message)
        assert text.startswith("Dear Zoë Łukasz-Nguyễn,") and "<p>Dear Zoë Łukasz-Nguyễn,</p>" in html
    # The subject, RFC 2047 encoded on the wire, reads back whole; the HTML title says the same.
    subject = f"Your ballot (as an individual member): {title}"
    assert ballot["Subject"] == subject
    assert b"Subject: Your ballot (as an individual member): =?utf-8?" in received["ballot"]
    text, html = inbox.text(ballot), inbox.html(ballot)
    assert f"<title>{subject}</title>" in html and f"“{title}”" in html and f'"{title}"' in text
    # The link, whole in both bodies (quoted-printable breaks long lines on the wire), opens the ballot.
    (link,) = re.findall(rf"https://vote\.test/votes/{vote['id']}/ballot/\S+", text)
    assert f'href="{link}"' in html
    page = client.get(path_of(link))
    assert page.status_code == 200 and title in page.text


def test_every_template_renders_as_flask_renders_it(app, runner, client, inbox, tmp_path):
    """The outbox renders from the Jinja environment, merging the globals and context processors once a batch:
    each kind of message comes out exactly as Flask's render_template makes it."""
    kinds = set()

    def compare_then_send():
        db.session.commit()
        templates = outbox.Templates()
        for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")):
            context = {key: outbox._resolve(value) for key, value in message.context.items()}
            context["subject"] = message.subject
            flask = tuple(render_template(f"email/{message.template}.{ext}", **context) for ext in ("txt", "html"))
            assert outbox.render(message, templates) == outbox.render(message) == flask, message.template
            kinds.add(message.template)
        run(runner, "mail", "send")

    run(runner, "period", "open", str(YEAR))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    run(runner, "roster", "import", str(roster), "--period", str(YEAR))
    run(runner, "period", "send-opt-in", str(YEAR))
    compare_then_send()
    link = inbox.links("brian@example.org")[0]
    client.post(path_of(link), data={"csrf_token": csrf_token(client.get(path_of(link)).text)})
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    votes = [run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", f"Charter {n}",
                 "--closes-at", closes, "--question", "Charter the Packaging WG?")["id"] for n in range(3)]
    for vote in votes:
        run(runner, "vote", "open", str(vote))
    compare_then_send()
    run(runner, "vote", "cancel", str(votes[0]), "--reason", "Withdrawn by its authors.")
    eligibility.send_standing_links("brian@example.org")
    compare_then_send()
    for vote in votes[1:]:
        run(runner, "vote", "close", str(vote))
    compare_then_send()
    assert kinds == {"opt_in", "ballot_link", "vote_cancelled", "standing", "forfeited"}
