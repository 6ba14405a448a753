"""The one mail path: queue into the outbox with what caused it; ``tasks`` sends it.

``queue`` adds a row to the caller's unit of work, so a message exists exactly
when the change that caused it was committed.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import logging
import smtplib
from email.headerregistry import Address
from typing import Protocol

from flask import current_app
from flask_mail import Connection
from sqlalchemy import func, select

from ballot.audit import audit
from ballot.bulk import JSONText
from ballot.errors import NotFound
from ballot.extensions import db
from ballot.outbox.models import IS_SENDING, PENDING, OutboxMessage
from ballot.outbox.wire import Envelope
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


def outbox_row(template: str, to: str, subject: str, context: dict | JSONText, now: dt.datetime) -> dict:
    """The same message as a plain row, for bulk inserts of many at once (the context may be written as
    JSON already: ``bulk.JSONTemplate``)."""
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


class Stored(Protocol):
    """What rendering needs of a message: an outbox row, or the columns of one."""

    subject: str
    template: str
    context: dict | None


class Templates:
    """The email templates with what every one of them sees, made once a batch.

    Rendered as Jinja's own ``Template.render`` renders, less what it repeats
    for each body of each message: Flask's ``render_template`` runs the
    context processors, and Jinja copies every global into a new context. Here
    the globals and the context processors' values are merged once, and each
    body's context is that and the message's values.
    """

    def __init__(self) -> None:
        self.environment = current_app.jinja_env
        self.shared: dict = {}
        current_app.update_template_context(self.shared)
        self.bases: dict[str, dict] = {}

    def render(self, name: str, context: dict) -> str:
        template = self.environment.get_template(name)
        if name not in self.bases:
            self.bases[name] = {**template.globals, **self.shared}
        variables = {**self.bases[name], **context}
        return self.environment.concat(
            template.root_render_func(template.new_context(variables, shared=True)))


def render(message: Stored, templates: Templates | None = None) -> tuple[str, str]:
    """The message's plain-text and HTML bodies, its links signed now."""
    templates = templates or Templates()
    context = {key: _resolve(value) for key, value in (message.context or {}).items()}
    context["subject"] = message.subject
    return (templates.render(f"email/{message.template}.txt", context),
            templates.render(f"email/{message.template}.html", context))


def sender() -> str:
    """Whom every message is from: Flask-Mail's MAIL_DEFAULT_SENDER, a (name, address) pair or one string."""
    configured = current_app.extensions["mail"].default_sender
    if isinstance(configured, (tuple, list)):
        return str(Address(display_name=configured[0], addr_spec=configured[1]))
    return configured


class TimedConnection(Connection):
    """Flask-Mail's connection (its MAIL_* settings) with a time limit on every exchange with the mail server.

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
    """One connection to the mail server for a run of batches (or, in the demo, the console).

    Opened at the first message, so that a server that cannot be reached
    counts against the message being sent; closed when the run ends, or when
    the server drops it (the next message connects again).
    """

    def __init__(self) -> None:
        self.console = current_app.config["BALLOT_MAIL_TRANSPORT"] == "console"
        self.connection: Connection | None = None

    def send(self, envelope: Envelope, data: bytes) -> None:
        """Hand one message, as ``wire`` wrote it, to the mail server."""
        if self.console:
            shown = email.message_from_bytes(data, policy=email.policy.default)
            text = shown.get_body(("plain",))
            print(f"\n--- mail to {envelope.recipient}: {shown['Subject']}\n{text.get_content() if text else ''}",
                  flush=True)
            return
        if self.connection is None:
            self.connection = TimedConnection(current_app.extensions["mail"]).__enter__()
        if self.connection.host is None:
            return  # MAIL_SUPPRESS_SEND (Flask-Mail's switch, on under TESTING): nothing leaves
        try:
            self.connection.host.sendmail(envelope.sender, [envelope.recipient], data,
                                          ["SMTPUTF8"] if envelope.smtputf8 else [])
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
            .where(IS_SENDING, OutboxMessage.next_attempt_at <= now - older_than)
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
