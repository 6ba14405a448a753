"""The console's mail page: messages a dead worker left half-sent, shown without their content, and released
to be sent again (CSRF, audited)."""

from __future__ import annotations

from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from ballot.outbox.models import PENDING, SENDING, SENT, OutboxMessage
from tests.functional.admin.console import YEAR, follow, fresh_page, member, post, roster
from tests.functional.helpers import left_half_sent, run


def queued(runner, tmp_path) -> list[OutboxMessage]:
    """Opt-in messages queued to Ada and Bea."""
    run(runner, "period", "open", str(YEAR))
    path = tmp_path / "roster.csv"
    path.write_text(roster(member("ada"), member("bea")))
    run(runner, "roster", "import", str(path), "--period", str(YEAR))
    run(runner, "period", "send-opt-in", str(YEAR))
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_the_mail_page_shows_stuck_messages_without_their_content(console, runner, tmp_path):
    ada, _ = queued(runner, tmp_path)
    assert "No message was left half-sent" in console.get("/admin/mail").text
    assert "left half-sent" not in console.get("/admin/").text
    stuck = left_half_sent(ada)
    claimed_at = ada.next_attempt_at
    page = console.get("/admin/mail")
    assert page.status_code == 200
    assert f"Message {stuck}" in page.text and "opt in" in page.text and "@example.org" in page.text
    assert f"{claimed_at:%Y-%m-%d %H:%M}" in page.text
    assert "Release all" not in page.text  # one message: its own button is enough
    assert "ada@example.org" not in page.text and "Do you want to vote" not in page.text
    assert "pending: 1" in page.text.replace("</strong>", "").replace("<strong>", "")
    # The dashboard points at it.
    assert "1 message was left half-sent by a worker that stopped" in console.get("/admin/").text


def test_releasing_a_stuck_message_from_the_console(console, runner, tmp_path, inbox, account):
    ada, bea = queued(runner, tmp_path)
    stuck, recent = left_half_sent(ada), left_half_sent(bea, minutes_ago=1)
    # Without the form's CSRF token: refused.
    assert console.post(f"/admin/mail/{stuck}/release").status_code == 400
    # A message that is not stuck (a worker may be sending it): refused with the reason.
    refused = follow(console, post(console, f"/admin/mail/{recent}/release", page="/admin/mail"))
    assert f"message {recent} was not left half-sent" in refused.text
    page = follow(console, post(console, f"/admin/mail/{stuck}/release", page="/admin/mail"))
    assert f"Released message {stuck}" in page.text
    db.session.expire_all()
    assert (ada.status, bea.status) == (PENDING, SENDING)
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mail.release")))
    assert [(e.actor, e.subject) for e in events] == [(account["email"], f"message {stuck}")]
    run(runner, "mail", "send")
    db.session.expire_all()
    assert ada.status == SENT and [m["To"] for m in inbox.messages] == ["ada@example.org"]


def test_releasing_every_stuck_message_from_the_console(console, runner, tmp_path):
    messages = queued(runner, tmp_path)
    ids = [left_half_sent(m) for m in messages]
    assert "Release all 2 messages left half-sent" in fresh_page(console, "/admin/mail").text
    page = follow(console, post(console, "/admin/mail/release-stuck", page="/admin/mail"))
    assert f"Released 2 messages ({ids[0]}, {ids[1]})" in page.text
    assert "No message was left half-sent" in page.text
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mail.release")).all()) == 2
