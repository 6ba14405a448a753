"""A message as the mail server receives it: valid MIME that reads back, in the email package, exactly as the
same message built as an ``EmailMessage`` under ``email.policy.SMTP`` does (headers, both bodies)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ballot.outbox.wire import BadHeaderError, recipient, wire_message

SENDER = "PSF Elections <elections@python.org>"
NOW = dt.datetime(2026, 6, 15, 12, 0, 5, tzinfo=dt.UTC)
HEADERS = ("From", "To", "Subject", "Date", "Auto-Submitted", "MIME-Version")


def parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def as_email_package_writes_it(sender: str, to: str, subject: str, text: str, html: str) -> EmailMessage:
    """The reference: the same message built the standard library's way."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = email.utils.format_datetime(NOW)
    message["Message-ID"] = make_msgid(domain="python.org")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return parsed(message.as_bytes())


def assert_reads_as_the_email_package_writes(to: str, subject: str, text: str, html: str) -> bytes:
    envelope, data = wire_message(SENDER, to, subject, text, html, NOW)
    ours, reference = parsed(data), as_email_package_writes_it(SENDER, to, subject, text, html)
    assert not ours.defects and all(not part.defects for part in ours.walk())
    for name in HEADERS:
        assert str(ours[name]) == str(reference[name]), name
    assert ours.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in ours.iter_parts()] == ["text/plain", "text/html"]
    for kind in ("plain", "html"):
        assert ours.get_body((kind,)).get_content() == reference.get_body((kind,)).get_content(), kind
        assert ours.get_body((kind,)).get_content_charset() == "utf-8"
    # What SMTP asks of the bytes: CRLF line ends only, no line over 998 octets; ASCII unless SMTPUTF8.
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert max(len(line) for line in data.split(b"\r\n\r\n")[0].split(b"\r\n")) <= 78  # headers, folded
    assert envelope.smtputf8 or data.isascii()
    return data


def test_an_ascii_message_is_plain_and_readable():
    data = assert_reads_as_the_email_package_writes(
        "ada@example.org", "Your ballot (as an individual member): Charter the Packaging WG",
        "Dear Ada,\n\nhttps://vote.test/votes/1/ballot/abc\n", "<p>Dear Ada,</p>\n")
    head = data.split(b"\r\n\r\n")[0].decode()
    assert re.fullmatch(
        r"From: PSF Elections <elections@python.org>\r\n"
        r"To: ada@example.org\r\n"
        r"Subject: Your ballot \(as an individual member\): Charter the Packaging WG\r\n"
        r"Date: Mon, 15 Jun 2026 12:00:05 \+0000\r\n"
        r"Message-ID: <[^@>]+@python.org>\r\n"
        r"Auto-Submitted: auto-generated\r\n"
        r"MIME-Version: 1.0\r\n"
        r'Content-Type: multipart/alternative;\r\n boundary="=+\d+=="', head)
    # Short ASCII lines stay as they are (7bit); anything else is quoted-printable.
    assert b"Content-Transfer-Encoding: 7bit\r\n\r\nDear Ada,\r\n\r\nhttps://vote.test/votes/1/ballot/abc\r\n" in data


def test_non_ascii_names_and_subjects_and_long_lines():
    link = "https://vote.test/opt-in/" + "eyJyIjoyLCJleHAiOjE3OTg3NjE2MDB9" * 4
    data = assert_reads_as_the_email_package_writes(
        "zoe@example.org", "Votre bulletin (en tant que délégué de Łódź Ltd.): Élection du conseil 2026 — tour 2",
        f"Dear Zoë Łukasz-Nguyễn,\n\n{link}\n\n¿Qué? =?utf-8?q?not-a-header?= \t\n",
        f'<p>Dear Zoë,</p>\n<a href="{link}">Open</a>\n')
    assert b"Content-Transfer-Encoding: quoted-printable" in data
    assert b"Subject: Votre bulletin (en tant que =?utf-8?" in data  # RFC 2047 words, as the policy writes them


def test_a_line_break_in_a_header_is_refused():
    for to, subject in (("ada@example.org", "Ballot\nBcc: everyone@example.org"),
                        ("ada@example.org\r\nBcc: x@example.org", "Ballot")):
        with pytest.raises(BadHeaderError):
            wire_message(SENDER, to, subject, "text", "<p>html</p>", NOW)


def test_addresses_outside_ascii():
    assert recipient("ada@example.org") == ("ada@example.org", False)
    assert recipient("ada@exämple.org") == ("ada@xn--exmple-cua.org", False)  # IDNA: every server takes it
    assert recipient("jürgen@exämple.org") == ("jürgen@xn--exmple-cua.org", True)  # needs SMTPUTF8
    envelope, data = wire_message(SENDER, "jürgen@example.org", "Ballot", "text", "<p>html</p>", NOW)
    assert envelope.smtputf8 and envelope.recipient == "jürgen@example.org"
    # RFC 6532: the header in UTF-8, as a client that offered SMTPUTF8 reads it.
    assert email.message_from_string(data.decode(), policy=email.policy.default)["To"] == "jürgen@example.org"


# Text as templates make it: any characters but line breaks inside a header, any text in the bodies.
header_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=150).filter(
    lambda s: s.strip() == s and "  " not in s)
body_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=600)


@given(subject=header_text, text=body_text, html=body_text)
def test_any_subject_and_bodies_read_back_as_the_email_package_writes_them(subject, text, html):
    assert_reads_as_the_email_package_writes("member@example.org", subject, text, html)
