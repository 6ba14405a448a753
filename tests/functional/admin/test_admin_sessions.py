"""Sessions end on the server: a copied session cookie stops working once its administrator signs out,
is disabled or has their password changed, and so does every other session of theirs."""

from __future__ import annotations

from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from tests.functional.admin.console import (
    PASSWORD,
    code,
    code_step,
    create_admin,
    fresh_page,
    password_step,
    post,
    sign_in,
)
from tests.functional.helpers import csrf_token, run

NEW_PASSWORD = "a much better passphrase"


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie (stolen, say)."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session", domain="vote.test").value, domain="vote.test")
    return copy


def refused(client) -> bool:
    """The console turns the session away to the sign-in page, for pages and for actions alike."""
    page = client.get("/admin/")
    token = csrf_token(fresh_page(client, "/admin/login").text)
    action = client.post("/admin/periods", data={"csrf_token": token, "year": "2031", "policy": "seed"})
    return all(r.status_code == 302 and "/admin/login" in r.headers["Location"] for r in (page, action))


def change_password(runner, tmp_path, email: str, password: str = NEW_PASSWORD) -> dict:
    path = tmp_path / "new.password"
    path.write_text(password + "\n")
    return run(runner, "admin", "password", email, "--password-file", str(path))


def test_a_copied_cookie_is_refused_after_sign_out(app, console):
    copy = copy_of(app, console)
    assert copy.get("/admin/").status_code == 200  # the copy works while the session lives
    assert post(console, "/admin/logout").status_code == 303
    assert refused(copy)
    assert refused(console)


def test_signing_out_ends_every_session_of_that_administrator_and_no_other(app, runner, tmp_path, account):
    laptop, phone, colleague = app.test_client(), app.test_client(), app.test_client()
    bea = create_admin(runner, tmp_path, "bea@example.org")
    assert sign_in(laptop, account).status_code == 303
    assert sign_in(phone, account, steps_ahead=1).status_code == 303
    assert sign_in(colleague, bea).status_code == 303
    post(laptop, "/admin/logout")
    assert refused(phone)
    assert colleague.get("/admin/").status_code == 200


def test_a_copied_cookie_is_refused_after_the_administrator_is_disabled(app, runner, console):
    copy = copy_of(app, console)
    run(runner, "admin", "disable", "admin@example.org")
    assert refused(copy)
    assert refused(console)


def test_a_password_change_ends_every_session(app, runner, tmp_path, console, account):
    copy = copy_of(app, console)
    assert change_password(runner, tmp_path, account["email"]) == {"email": "admin@example.org",
                                                                    "sessions_ended": True}
    assert refused(copy)
    assert refused(console)
    # The old password no longer signs in; the new one does.
    assert password_step(console, account["email"], PASSWORD).status_code == 401
    assert sign_in(console, {**account, "password": NEW_PASSWORD}, steps_ahead=1).status_code == 303
    assert console.get("/admin/").status_code == 200


def test_a_password_change_ends_a_sign_in_halfway_through(app, runner, tmp_path, client, account):
    assert password_step(client, account["email"], PASSWORD).status_code == 303
    change_password(runner, tmp_path, account["email"])
    response = client.get("/admin/login/code")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")


def test_the_password_command_asks_twice_checks_and_audits(app, runner, tmp_path, account):
    result = runner.invoke(args=["admin", "password", "admin@example.org"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output and "every session" in result.output
    short = tmp_path / "short"
    short.write_text("eleven char\n")
    result = runner.invoke(args=["admin", "password", "admin@example.org", "--password-file", str(short)])
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    result = runner.invoke(args=["admin", "password", "nobody@example.org", "--password-file", str(short)])
    assert result.exit_code == 1 and "no administrator" in result.output
    result = runner.invoke(args=["admin", "password", "admin@example.org", "--password-file", str(tmp_path / "gone")])
    assert result.exit_code == 1 and "cannot read" in result.output
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.password")).all()
    assert [e.subject for e in events] == ["admin@example.org"]  # the refused changes wrote nothing
    assert NEW_PASSWORD not in str([(e.subject, e.detail) for e in events])


def test_the_code_of_a_signed_out_session_cannot_sign_in_again(app, client, account):
    """Signing out and in again gives a new session; the old cookie stays refused."""
    assert sign_in(client, account).status_code == 303
    old = copy_of(app, client)
    post(client, "/admin/logout")
    assert password_step(client, account["email"], PASSWORD).status_code == 303
    assert code_step(client, code(account, steps_ahead=1)).status_code == 303
    assert client.get("/admin/").status_code == 200
    assert refused(old)
