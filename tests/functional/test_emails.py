"""Every kind of message as a mail server receives it: fit to pass spam filters, and checkable by the voter."""

from __future__ import annotations

import re

from tests.functional.factories import YEAR, asked_to_opt_in, create
from tests.functional.helpers import opt_in, run

BRIAN = f"brian,Brian,Kernighan,brian@example.org,contributing:{YEAR - 1}-06-01:,,"
ORIGIN = "https://vote.test/"


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


def test_messages_are_plain_honest_mail(app, runner, client, inbox, tmp_path):
    for kind, message in every_kind_of_message(runner, client, inbox, tmp_path).items():
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

