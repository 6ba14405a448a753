"""`ballot admin ...`: create, list and disable the console's administrators, and change passwords."""

from __future__ import annotations

from pathlib import Path

import click

from ballot.admin import accounts
from ballot.commands import Output, in_unit_of_work, json_option
from ballot.errors import InvalidInput

admin_group = click.Group("admin", help="Administrators of the web console.")

password_file_option = click.option(
    "--password-file", type=click.Path(dir_okay=False, path_type=Path),
    help="Read the password from this file (its first line) instead of asking for it.")


def read_password(password_file: Path | None) -> str:
    """The first line of ``password_file``, or else typed twice without echo."""
    if password_file is None:
        return click.prompt("Password (at least 12 characters)", hide_input=True, confirmation_prompt=True)
    try:
        first_lines = password_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {password_file}: {exc}") from None
    return first_lines[0] if first_lines else ""


@admin_group.command("create")
@click.argument("email")
@password_file_option
@json_option
@in_unit_of_work
def admin_create(email, password_file, as_json):
    """Create an administrator; prints the second factor's secret to put in an authenticator app."""
    password = read_password(password_file)
    admin, secret = accounts.create_administrator(email, password)
    setup = accounts.totp_setup(admin.email, secret)
    return Output({"email": admin.email, "totp_secret": setup["secret"], "totp_uri": setup["uri"]},
                  f"Created administrator {admin.email}.\n"
                  "Add this second factor to an authenticator app now; it is not shown again.\n"
                  f"  secret: {setup['secret']}\n  URI:    {setup['uri']}")


@admin_group.command("list")
@json_option
@in_unit_of_work
def admin_list(as_json):
    """List administrators."""
    rows = accounts.list_administrators()
    data = [{"email": a.email, "created_at": a.created_at.isoformat(),
             "disabled_at": a.disabled_at.isoformat() if a.disabled_at else None} for a in rows]
    return Output(data, "\n".join(
        f"{a.email:<40} created {a.created_at:%Y-%m-%d}"
        f"{'  disabled ' + f'{a.disabled_at:%Y-%m-%d}' if a.disabled_at else ''}"
        for a in rows
    ) or "No administrators.")


@admin_group.command("disable")
@click.argument("email")
@json_option
@in_unit_of_work
def admin_disable(email, as_json):
    """Disable an administrator: no more sign-ins, and their sessions end."""
    admin = accounts.get_administrator_by_email(email)
    accounts.disable_administrator(admin)
    return Output({"email": admin.email, "disabled": True}, f"{admin.email} is disabled.")


@admin_group.command("password")
@click.argument("email")
@password_file_option
@json_option
@in_unit_of_work
def admin_password(email, password_file, as_json):
    """Give an administrator a new password; every session of theirs ends."""
    admin = accounts.get_administrator_by_email(email)
    accounts.change_password(admin, read_password(password_file))
    return Output({"email": admin.email, "sessions_ended": True},
                  f"{admin.email} has a new password; every session of theirs has ended.")
