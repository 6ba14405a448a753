"""The one mail path: queue into the outbox with what caused it; ``tasks`` sends it.

``queue`` adds a row to the caller's unit of work, so a message exists exactly
when the change that caused it was committed.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import logging
import smtplib
from email.utils import make_msgid, parseaddr
from typing import Protocol

from flask import current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import func, select

from ballot.audit import audit
from ballot.errors import NotFound
from ballot.extensions import db
from ballot.outbox.models import PENDING, SENDING, OutboxMessage
from ballot.timestamps import utcnow
from ballot.tokens import token_service

log = logging.getLogger(__name__)


def external_url(endpoint: str, **values) -> str:
    """An absolute URL built from the configured SERVER_NAME, never a request's Host."""
    config = current_app.config
    adapter = current_app.url_map.bind(
        config["SERVER_NAME"],
        url_scheme=config["PREFERRED_URL_SCHEME"],
        script_name=config.get("APPLICATION_ROOT") or "/",
    )
    return adapter.build(endpoint, values, force_external=True)


def link_token(kind: str, payload: dict, expires_at: dt.datetime | None) -> str:
    return token_service(current_app.config, kind).dumps(payload, expires_at)


def read_link_token(kind: str, token: str, now: dt.datetime | None = None) -> dict:
    return token_service(current_app.config, kind).loads(token, now)


def queue(template: str, to: str, subject: str, context: dict, *, now: dt.datetime | None = None) -> OutboxMessage:
    """Add a message to the outbox in the current transaction (the caller commits)."""
    now = now or utcnow()
    message = OutboxMessage(
        template=template, to_address=to, subject=subject, context=context,
        status=PENDING, attempts=0, created_at=now, next_attempt_at=now,
    )
    db.session.add(message)
    return message


def outbox_row(template: str, to: str, subject: str, context: dict, now: dt.datetime) -> dict:
    """The same message as a plain row, for bulk inserts of many at once."""
    return {
        "template": template, "to_address": to, "subject": subject,
        "context": context, "status": PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now,
    }


def signed_link(endpoint: str, kind: str, payload: dict, expires_at: dt.datetime | None, **values) -> dict:
    """A link for a message's context, signed only when the message is sent.

    The outbox stores what the link is for, not a working link: someone who
    can read the database cannot take a voter's ballot or opt-in link from a
    message that is still waiting (or that failed).
    """
    return {"signed_link": {"endpoint": endpoint, "kind": kind, "payload": payload,
                            "expires_at": expires_at.isoformat() if expires_at else None, "values": values}}


def _resolve(value):
    if isinstance(value, dict) and set(value) == {"signed_link"}:
        spec = value["signed_link"]
        expires_at = dt.datetime.fromisoformat(spec["expires_at"]) if spec["expires_at"] else None
        token = link_token(spec["kind"], spec["payload"], expires_at)
        return external_url(spec["endpoint"], token=token, **spec["values"])
    return value


def render(message: OutboxMessage) -> tuple[str, str]:
    context = {key: _resolve(value) for key, value in (message.context or {}).items()}
    context["subject"] = message.subject
    return (
        render_template(f"email/{message.template}.txt", **context),
        render_template(f"email/{message.template}.html", **context),
    )


# Flask-Mail writes messages out under the email package's SMTP policy, which parses every header
# back through its header registry: most of the time of sending. The compat32 policy writes the same
# headers, already encoded, as they stand (with CRLF line ends, as SMTP wants).
WIRE_POLICY = email.policy.compat32.clone(linesep="\r\n")


class OutboxMail(Message):
    """A Flask-Mail message written out for the wire without re-parsing its own headers.

    A subject outside ASCII is left to the SMTP policy: compat32 would fold a
    long run of encoded words with a leading space.
    """

    def as_bytes(self) -> bytes:
        if not (self.subject or "").isascii():
            return super().as_bytes()
        return self._message().as_bytes(policy=WIRE_POLICY)


class Addressed(Protocol):
    """What sending needs of a message besides its text: an outbox row, or a claimed copy of one."""

    to_address: str
    subject: str


def mail_message(message: Addressed, text: str, html: str) -> Message:
    """The message as Flask-Mail sends it."""
    sent = OutboxMail(subject=message.subject, recipients=[message.to_address], body=text, html=html,
                   # RFC 3834: no out-of-office replies to an automatic message.
                   extra_headers={"Auto-Submitted": "auto-generated"})
    # A Message-ID in the sender's own domain, not the sending host's name (spam filters look).
    # Flask-Mail makes a (name, address) sender one string when the Message is built; its types keep the tuple.
    sent.msgId = make_msgid(domain=parseaddr(sent.sender)[1].rpartition("@")[2] or None)  # type: ignore[arg-type]
    return sent


class TimedConnection(Connection):
    """Flask-Mail's connection with a time limit on every exchange with the mail server.

    Flask-Mail waits for ever: a server that accepts the connection and never
    answers would hold the worker (no vote would close) and leave its messages
    "sending" long enough to be released and sent twice.
    """

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        timeout = current_app.config["BALLOT_SMTP_TIMEOUT"]
        host: smtplib.SMTP | smtplib.SMTP_SSL
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(self.mail.server, self.mail.port, timeout=timeout)
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class Delivery:
    """One connection to the mail server for a batch of messages (or, in the demo, the console).

    Opened at the first message, so that a server that cannot be reached
    counts against the message being sent; closed when the batch ends.
    """

    def __init__(self) -> None:
        self.console = current_app.config["BALLOT_MAIL_TRANSPORT"] == "console"
        self.connection: Connection | None = None

    def send(self, message: Addressed, text: str, html: str) -> None:
        if self.console:
            print(f"\n--- mail to {message.to_address}: {message.subject}\n{text}", flush=True)
            return
        if self.connection is None:
            self.connection = TimedConnection(current_app.extensions["mail"]).__enter__()
        try:
            self.connection.send(mail_message(message, text, html))
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # the next message, or the next batch, connects again
            raise

    def close(self) -> None:
        """Say QUIT; a connection the server already dropped is simply let go."""
        if self.connection is not None and self.connection.host is not None:
            try:
                self.connection.host.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.host.close()
        self.connection = None


# A message claimed this long ago and still "sending" was left by a worker that stopped: sending one
# message never takes that long (SMTP gives up well before).
STUCK_AFTER = dt.timedelta(minutes=10)


def stuck(older_than: dt.timedelta = STUCK_AFTER, now: dt.datetime | None = None) -> list[OutboxMessage]:
    """Messages claimed by a worker that never finished: possibly sent, so never retried by themselves."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == SENDING, OutboxMessage.next_attempt_at <= now - older_than)
            .order_by(OutboxMessage.id)
        )
    )


def release(message_ids: list[int] | None, now: dt.datetime | None = None) -> list[int]:
    """Have messages left half-sent sent again (``None``: every one of them); returns their ids.

    An administrator decides, having checked the mail server's log: such a
    message may have been delivered already. Each release is audited with
    the message's kind and when it was claimed, never its address or content.
    A message that is not stuck (one a worker may be sending now) is refused,
    and then nothing is released.
    """
    now = now or utcnow()
    left = {m.id: m for m in stuck(now=now)}
    if message_ids is None:
        chosen = list(left.values())
    else:
        for message_id in message_ids:
            if message_id not in left:
                raise NotFound(f"message {message_id} was not left half-sent; only those can be released")
        chosen = [left[message_id] for message_id in dict.fromkeys(message_ids)]
    for message in chosen:
        audit("mail.release", f"message {message.id}", template=message.template,
              claimed_at=message.next_attempt_at.isoformat())
        message.status, message.next_attempt_at = PENDING, now
    db.session.flush()
    return [message.id for message in chosen]


def recipient_domain(message: OutboxMessage) -> str:
    """What the console shows of a message's address: its domain, to match it in the mail server's log."""
    return "@" + message.to_address.rpartition("@")[2]


def outbox_counts() -> dict:
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status: count for status, count in rows}
