"""A message as the mail server receives it: the bytes handed to SMTP.

Every message is the same shape: a multipart/alternative of a plain-text
and an HTML body, both UTF-8, with a fixed set of headers. Each piece is
encoded as ``EmailMessage`` under ``email.policy.SMTP`` would encode it:
header lines are folded (and RFC 2047 encoded outside ASCII) by the policy's
own header classes; bodies are 7bit when they are ASCII in short lines and
quoted-printable otherwise. Only the joining of those pieces is done here:
the email package's generator re-parses every header it writes through its
header registry, which cost about a millisecond a message, more than all the
rest of sending one (bench/README.md, "Mail"). ``tests/unit/test_wire.py``
checks that a message written here reads back, in the email package, exactly
as the same message built as an ``EmailMessage`` does.
"""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import secrets
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

SMTP = policy.SMTP
CRLF = "\r\n"
# RFC 5322's recommended line length: the SMTP policy's max_line_length, which it folds headers at and
# keeps 7bit bodies within.
MAX_LINE = 78


class BadHeaderError(ValueError):
    """A header value with a line break in it, which would add headers of its own: the message is never sent."""


@dataclass(frozen=True)
class Envelope:
    """Who the mail server is told the message is from and to, and whether it needs SMTPUTF8 for that."""

    sender: str
    recipient: str
    smtputf8: bool


def recipient(address: str) -> tuple[str, bool]:
    """The address as it goes on the wire, and whether it needs SMTPUTF8.

    A domain outside ASCII is written in its IDNA (punycode) form, which every
    server takes; only a mailbox name outside ASCII needs the server's SMTPUTF8.
    """
    if address.isascii():
        return address, False
    local, _, domain = address.rpartition("@")
    address = f"{local}@{domain.encode('idna').decode('ascii')}"
    return address, not local.isascii()


def wire_message(sender: str, to: str, subject: str, text: str, html: str,
                 now: dt.datetime) -> tuple[Envelope, bytes]:
    """The message from ``sender`` (``Name <address>``) to ``to``: its envelope and its bytes, CRLF-ended."""
    for value in (sender, to, subject):
        if "\n" in value or "\r" in value:
            raise BadHeaderError(f"a header value holds a line break: {value[:80]!r}")
    to, smtputf8 = recipient(to)
    sender_address = _address(sender)
    text_encoding, text_body = _body(text)
    html_encoding, html_body = _body(html)
    boundary = _boundary(text_body, html_body)
    head = "".join((
        _header("From", sender),
        _header("To", to, policy.SMTPUTF8 if smtputf8 else SMTP),
        _header("Subject", subject),
        f"Date: {_date(now)}{CRLF}",
        # In the sender's own domain, not the sending host's name (spam filters look).
        _header("Message-ID", make_msgid(domain=sender_address.rpartition("@")[2] or None)),
        # RFC 3834: no out-of-office replies to an automatic message.
        f"Auto-Submitted: auto-generated{CRLF}",
        f"MIME-Version: 1.0{CRLF}",
        f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}',  # folded as the policy folds it
    ))
    # Laid out as the email package's generator lays out a multipart: the line break before each
    # boundary belongs to the boundary, so each body keeps its own last one.
    data = "".join((
        head, CRLF,
        f"--{boundary}{CRLF}", _part_head("plain", text_encoding), CRLF, text_body,
        f"{CRLF}--{boundary}{CRLF}", _part_head("html", html_encoding), CRLF, html_body,
        f"{CRLF}--{boundary}--{CRLF}",
    ))
    return Envelope(sender_address, to, smtputf8), data.encode("utf-8" if smtputf8 else "ascii")


@functools.lru_cache(maxsize=4)
def _date(now: dt.datetime) -> str:
    """The Date header's value: a batch is written out at one moment."""
    return format_datetime(now)


@functools.lru_cache(maxsize=16)
def _address(sender: str) -> str:
    """The sender's bare address, for the envelope and the Message-ID (every message asks)."""
    return parseaddr(sender)[1]


def _header(name: str, value: str, header_policy: policy.EmailPolicy[EmailMessage] = SMTP) -> str:
    """One header's lines: short ASCII as it is (as the policy writes it), anything else folded by the policy."""
    if value.isascii() and len(name) + 2 + len(value) <= MAX_LINE:
        return f"{name}: {value}{CRLF}"
    return _folded(name, value, header_policy)


@functools.lru_cache(maxsize=1024)
def _folded(name: str, value: str, header_policy: policy.EmailPolicy[EmailMessage]) -> str:
    """A header folded and encoded by the policy's header class: kept for the values that repeat (the
    sender; a subject, the same for all of a vote's links), as that takes a tenth of a millisecond."""
    return header_policy.header_factory(name, value).fold(policy=header_policy)


def _body(content: str) -> tuple[str, str]:
    """A body's transfer encoding and its encoded lines (CRLF-ended), chosen as the email package chooses.

    7bit when it is ASCII in lines of at most 78 characters; quoted-printable
    otherwise (the package would choose base64 only for a body mostly outside
    ASCII, which no message here is; nor 8bit, which not every server takes),
    by the standard library's encoder in C (``binascii``, which ``quopri``
    uses; the package's own, in Python, took five times as long).
    """
    lines = content.encode("utf-8").splitlines()
    if max(map(len, lines), default=0) <= MAX_LINE and content.isascii():
        return "7bit", "".join(line.decode("ascii") + CRLF for line in lines) or CRLF
    return "quoted-printable", binascii.b2a_qp(b"\r\n".join(lines) + b"\r\n", istext=True).decode("ascii")


def _part_head(subtype: str, encoding: str) -> str:
    return f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: {encoding}{CRLF}'


def _boundary(*bodies: str) -> str:
    """A boundary found in neither body (the email package's form: '=' is never left bare in quoted-printable)."""
    while True:
        boundary = f"==============={secrets.randbelow(10 ** 19):019d}=="
        if not any(boundary in body for body in bodies):
            return boundary
