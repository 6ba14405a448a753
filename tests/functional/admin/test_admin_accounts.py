"""`ballot admin create / list / disable`: argon2id passwords, a wrapped TOTP secret, no secrets in the log."""

from __future__ import annotations

import base64
import json

from sqlalchemy import select

from ballot.admin import credentials
from ballot.admin.models import Administrator
from ballot.audit.models import AuditEvent
from ballot.extensions import db
from tests.functional.admin.console import (
    PASSWORD,
    create_admin,
    password_step,
    sign_in,
)
from tests.functional.helpers import run


def test_create_prints_the_second_factor_and_stores_only_hashes(app, runner, tmp_path):
    account = create_admin(runner, tmp_path, "Grace@Example.org")
    assert account["email"] == "grace@example.org"
    assert account["uri"].startswith("otpauth://totp/")
    assert "secret=" + base64.b32encode(account["secret"]).decode() in account["uri"]
    assert "issuer=PSF+elections" in account["uri"]
    admin = db.session.scalar(select(Administrator).where(Administrator.email == "grace@example.org"))
    assert admin.password_hash.startswith("$argon2id$")
    assert PASSWORD not in admin.password_hash
    # The TOTP secret is stored wrapped under the sealing key, bound to the account.
    assert account["secret"] not in admin.totp_secret
    key = base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"])
    assert credentials.unwrap_secret(key, admin.email, admin.totp_secret) == account["secret"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.create")).all()
    assert [(e.actor.startswith("cli"), e.subject) for e in events] == [(True, "grace@example.org")]
    everything = json.dumps([e.detail for e in events]) + "".join(e.subject for e in events)
    assert PASSWORD not in everything and base64.b32encode(account["secret"]).decode() not in everything


def test_create_asks_for_the_password_twice_without_echo(app, runner):
    result = runner.invoke(args=["admin", "create", "ada@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "secret:" in result.output and "otpauth://totp/" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    result = runner.invoke(args=["admin", "create", "bea@example.org"], input=f"{PASSWORD}\nsomething else!!\n"
                           f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0 and "do not match" in result.output.lower()


def test_short_passwords_duplicates_and_bad_addresses_are_refused(app, runner, tmp_path):
    short = tmp_path / "short"
    short.write_text("eleven char")
    result = runner.invoke(args=["admin", "create", "ada@example.org", "--password-file", str(short)])
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    create_admin(runner, tmp_path, "ada@example.org")
    password_file = str(tmp_path / "ada@example.org.password")
    result = runner.invoke(args=["admin", "create", "ADA@example.org", "--password-file", password_file])
    assert result.exit_code == 1 and "already an administrator" in result.output
    result = runner.invoke(args=["admin", "create", "not-an-address", "--password-file", password_file])
    assert result.exit_code == 1 and "not an email address" in result.output
    result = runner.invoke(args=["admin", "create", "bea@example.org", "--password-file", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "cannot read" in result.output
    # A refused creation writes nothing, not even its audit event.
    assert [a.email for a in db.session.scalars(select(Administrator))] == ["ada@example.org"]
    assert [e.subject for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.create"))] == [
        "ada@example.org"]


def test_list_and_disable(app, runner, client, tmp_path):
    ada = create_admin(runner, tmp_path, "ada@example.org")
    create_admin(runner, tmp_path, "bea@example.org")
    assert [a["email"] for a in run(runner, "admin", "list")] == ["ada@example.org", "bea@example.org"]
    assert sign_in(client, ada).status_code == 303
    assert client.get("/admin/").status_code == 200

    assert run(runner, "admin", "disable", "ada@example.org") == {"email": "ada@example.org", "disabled": True}
    listed = {a["email"]: a["disabled_at"] for a in run(runner, "admin", "list")}
    assert listed["ada@example.org"] is not None and listed["bea@example.org"] is None
    # Her session ends at its next request, and she cannot sign in again.
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    refused = password_step(client, "ada@example.org", PASSWORD)
    assert refused.status_code == 401
    result = runner.invoke(args=["admin", "disable", "ada@example.org"])
    assert result.exit_code == 1 and "already disabled" in result.output
    result = runner.invoke(args=["admin", "disable", "nobody@example.org"])
    assert result.exit_code == 1 and "no administrator" in result.output
