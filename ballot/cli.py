"""The `ballot` console script: the app's commands, plus two that need no app."""

from __future__ import annotations

import base64
import json
import os
import secrets as stdlib_secrets
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, NoAppException

from ballot import create_app, sealing
from ballot.errors import BallotError


def _create_app():
    try:
        return create_app()
    except BallotError as exc:
        raise NoAppException(str(exc)) from None


main = FlaskGroup(create_app=_create_app, add_default_commands=True, help="Secret-ballot voting.")


def new_secrets() -> dict:
    return {
        "SECRET_KEY": stdlib_secrets.token_urlsafe(32),
        "BALLOT_LINK_SECRET": stdlib_secrets.token_urlsafe(32),
        "BALLOT_TOKEN_SECRET": stdlib_secrets.token_urlsafe(32),
        "BALLOT_SEALING_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "BALLOT_SIGNING_KEY": sealing.new_signing_key_pem(),
    }


@main.command("secrets", with_appcontext=False)
@click.option("--write", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a config file with fresh secrets, unless it exists already.")
def secrets_command(write):
    """Print (or write) a fresh set of secrets for a configuration file."""
    text = "".join(f"{name} = {value!r}\n" for name, value in new_secrets().items())
    if write is None:
        click.echo(text, nl=False)
        return
    if write.exists():
        click.echo(f"{write} exists; kept it.")
        return
    write.parent.mkdir(parents=True, exist_ok=True)
    write.write_text(text)
    write.chmod(0o600)
    click.echo(f"Wrote fresh secrets to {write}.")


@main.command("verify", with_appcontext=False)
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--signer", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The installation's public key (PEM) you trust.")
@click.option("--json", "as_json", is_flag=True)
def verify_command(path, signer, as_json):
    """Recompute a vote's result from its published record alone."""
    from ballot.votes.record import verify

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        click.echo(f"error: {path} is not a JSON record: {exc}", err=True)
        sys.exit(1)
    try:
        problems = verify(document, signer.read_text() if signer else None)
    except (KeyError, TypeError, ValueError) as exc:
        problems = [f"the record is malformed: {exc!r}"]
    if as_json:
        click.echo(json.dumps({"verified": not problems, "problems": problems}))
    elif problems:
        click.echo("The record does NOT verify:\n" + "\n".join(f"  {p}" for p in problems), err=True)
    else:
        record = document["record"]
        click.echo(f"Verified: vote {record['vote']['id']} ({record['vote']['title']}), "
                   f"{len(record['ballots'])} ballots; the recount matches the published result.")
        if not signer:
            click.echo("The signature was checked against the key inside the record. To know who signed it,\n"
                       "run again with --signer and the installation's key from /signing-key.pem on its site.")
    sys.exit(1 if problems else 0)
