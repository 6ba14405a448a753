"""The audit log: every administrator action from the web and the command line, shown newest first,
append-only in the database itself, and never anything that ties a ballot to a voter."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from ballot.audit import audit
from ballot.audit.models import AuditEvent
from ballot.commands import cli_actor
from ballot.eligibility import services as eligibility
from ballot.extensions import db
from tests.functional.admin.console import YEAR, follow, member, post, roster, when
from tests.functional.factories import closes
from tests.functional.helpers import cast, receipt_of, run


def log() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_command_line_actions_are_audited_and_refused_ones_are_not(app, runner, tmp_path):
    run(runner, "period", "open", str(YEAR))
    path = tmp_path / "members.csv"
    path.write_text(roster(member("ada"), member("bea")))
    run(runner, "roster", "import", str(path), "--period", str(YEAR), "--dry-run")  # a preview changes nothing
    run(runner, "roster", "import", str(path), "--period", str(YEAR))
    run(runner, "period", "send-opt-in", str(YEAR))
    for right in eligibility.rights_of(eligibility.get_period(YEAR)):
        eligibility.confirm_opt_in(right)
    run(runner, "period", "enrolled", str(YEAR))
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Packaging WG",
               "--closes-at", closes(), "--question", "Charter it?")
    run(runner, "vote", "open", str(vote["id"]))
    assert runner.invoke(args=["vote", "open", str(vote["id"])]).exit_code == 1  # refused: already open
    assert run(runner, "vote", "extend", str(vote["id"]), "--closes-at", closes(9))["links_queued"] == 2
    assert runner.invoke(args=["vote", "extend", str(vote["id"]), "--closes-at", closes(8)]).exit_code == 1
    assert run(runner, "vote", "remind", str(vote["id"]))["reminded"] == 2
    run(runner, "vote", "remind", str(vote["id"]), "--at", closes(1))
    run(runner, "vote", "close", str(vote["id"]))
    run(runner, "vote", "publish", str(vote["id"]))
    other = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Education WG",
                "--closes-at", closes(), "--question", "Charter it?")
    run(runner, "vote", "cancel", str(other["id"]), "--reason", "Withdrawn")
    run(runner, "period", "close-enrolment", str(YEAR))

    events = log()
    assert {e.actor for e in events} == {cli_actor()}
    assert [e.action for e in events] == [
        "period.open", "roster.import", "period.send-opt-in", "period.export-enrolled", "vote.create", "vote.open",
        "vote.extend", "vote.remind", "vote.schedule-reminder", "vote.close", "vote.publish", "vote.create",
        "vote.cancel", "period.close-enrolment",
    ]
    by_action = {e.action: e for e in events}
    assert by_action["roster.import"].detail["filename"] == "members.csv"
    assert len(by_action["roster.import"].detail["sha256"]) == 64
    assert by_action["vote.open"].subject == f"vote {vote['id']}: Packaging WG"
    assert by_action["vote.cancel"].detail == {"reason": "Withdrawn"}


def test_the_console_shows_the_log_newest_first_in_pages(console, runner):
    run(runner, "period", "open", str(YEAR))
    for n in range(120):
        audit("test.action", f"item {n}", actor="someone@example.org")
    db.session.commit()
    page = console.get("/admin/audit")
    assert page.status_code == 200 and "Page 1 of 3" in page.text
    subjects = re.findall(r"<td>(item \d+)</td>", page.text)
    assert subjects[:2] == ["item 119", "item 118"] and len(subjects) == 50
    assert 'rel="next"' in page.text and 'rel="prev"' not in page.text
    last = console.get("/admin/audit?page=3")
    assert "Page 3 of 3" in last.text and "period.open" in last.text and "sign-in" in last.text
    assert re.findall(r"<td>(item \d+)</td>", last.text)[-1] == "item 0"
    assert "Page 3 of 3" in console.get("/admin/audit?page=99").text
    assert "Page 1 of 3" in console.get("/admin/audit?page=-4").text


def test_the_console_audits_its_actions_as_the_signed_in_administrator(console, account):
    follow(console, post(console, "/admin/periods", {"year": str(YEAR), "policy": "seed"}))
    follow(console, post(console, "/admin/periods", {"year": str(YEAR), "policy": "seed"}))  # refused
    follow(console, post(console, "/admin/logout"))
    events = log()
    assert [(e.actor, e.action, e.subject) for e in events] == [
        (cli_actor(), "admin.create", account["email"]), (account["email"], "sign-in", ""),
        (account["email"], "period.open", str(YEAR)),
        (account["email"], "sign-out", ""),
    ]


def test_the_database_refuses_to_change_or_delete_audit_events(app):
    audit("test.action", "something", actor="ada@example.org")
    db.session.commit()
    attempts = [
        update(AuditEvent).values(actor="mallory@example.org"),
        delete(AuditEvent),
    ]
    if db.engine.dialect.name == "postgresql":
        attempts.append(text("TRUNCATE audit_event"))
    for statement in attempts:
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(statement)
    event = db.session.scalar(select(AuditEvent))
    event.detail = {"rewritten": True}
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert [(e.actor, e.detail) for e in log()] == [("ada@example.org", {})]
    # Adding is all it allows.
    audit("test.action", actor="bea@example.org")
    db.session.commit()
    assert len(log()) == 2


def test_the_log_holds_nothing_that_ties_a_ballot_to_a_voter(console, runner, inbox, tmp_path):
    run(runner, "period", "open", str(YEAR))
    path = tmp_path / "members.csv"
    path.write_text(roster(member("ada"), member("bea")))
    run(runner, "roster", "import", str(path), "--period", str(YEAR))
    for right in eligibility.rights_of(eligibility.get_period(YEAR)):
        eligibility.confirm_opt_in(right)
    page = follow(console, post(console, f"/admin/periods/{YEAR}/votes/new/charter",
                                {"title": "Packaging WG", "closes_at": when(7), "questions": "Charter it?"},
                                page=f"/admin/periods/{YEAR}/votes/new/charter"))
    vote_id = int(re.search(r"/admin/votes/(\d+)/open", page.text).group(1))
    follow(console, post(console, f"/admin/votes/{vote_id}/open"))
    run(runner, "mail", "send")
    links = {m["To"]: re.search(r"https://vote\.test/\S+", inbox.text(m)).group(0) for m in inbox.messages}
    receipts = [receipt_of(cast(console, link, {"q1": "yes"})) for link in links.values()]
    search = console.get(f"/admin/votes/{vote_id}?email=ada")
    right_id = re.search(r'name="right_id" value="(\d+)"', search.text).group(1)
    follow(console, post(console, f"/admin/votes/{vote_id}/resend", {"right_id": right_id}))
    follow(console, post(console, f"/admin/votes/{vote_id}/close", {"confirm": "yes"}))
    follow(console, post(console, f"/admin/votes/{vote_id}/publish"))
    record = console.get(f"/votes/{vote_id}/record.json").get_json()
    tokens = [b["token"] for b in record["record"]["ballots"]]

    dumped = json.dumps([[e.at.isoformat(), e.actor, e.action, e.subject, e.detail] for e in log()])
    dumped += console.get("/admin/audit").text
    for secret in [*receipts, *tokens, *(link.rsplit("/", 1)[1] for link in links.values())]:
        assert secret not in dumped
    assert "/ballot/" not in dumped and "receipt" not in dumped
