"""The `ballot` console script: the app's commands, plus those that need no app (secrets, verify, trustee)."""

from __future__ import annotations

import base64
import functools
import json
import os
import secrets as stdlib_secrets
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, NoAppException

from ballot import create_app, sealing
from ballot.errors import BallotError, InvalidInput
from ballot.trustees import collection, keys
from ballot.trustees.commands import REGISTRY_COMMANDS


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
@click.option("--json", "as_json", is_flag=True, help="Print the secrets as JSON (not with --write).")
def secrets_command(write, as_json):
    """Print (or write) a fresh set of secrets for a configuration file."""
    secrets = new_secrets()
    text = "".join(f"{name} = {value!r}\n" for name, value in secrets.items())
    if write is None:
        click.echo(json.dumps(secrets, indent=2) if as_json else text, nl=as_json)
        return
    if as_json:
        click.echo(json.dumps({"error": "--json prints the secrets; --write writes them to a file, not both"}))
        sys.exit(1)
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
    from ballot.votes.record import protection_statement, verify

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
        protection = record.get("protection", {"model": "sealing-key"})  # ballot-record/2: the sealing key
        click.echo(protection_statement(protection))  # checked word for word against the data above
        for n, fingerprint in enumerate(protection.get("trustees", []), start=1):
            click.echo(f"  trustee #{n} {fingerprint}{'  took part' if fingerprint in protection['took_part'] else ''}")
        if not signer:
            click.echo("The signature was checked against the key inside the record. To know who signed it,\n"
                       "run again with --signer and the installation's key from /signing-key.pem on its site.")
    sys.exit(1 if problems else 0)


@main.group("trustee")
def trustee_group():
    """Trustees: their own commands (keygen, answer: no database, no configuration) and the registry's."""


for _command in REGISTRY_COMMANDS:
    trustee_group.add_command(_command)


def _trustee_errors(func):
    """A trustee sees a plain message and exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BallotError as exc:
            click.echo(f"error: {exc}", err=True)
        except OSError as exc:
            click.echo(f"error: {exc.filename or 'a file'}: {exc.strerror or exc}", err=True)
        sys.exit(1)

    return wrapper


def _passphrase(passphrase_file: Path | None, prompt: str, confirm: bool = False) -> str:
    if passphrase_file is None:
        return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    try:
        lines = passphrase_file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidInput(f"{passphrase_file} is not a text file (UTF-8)") from None
    if not lines or not lines[0]:
        raise InvalidInput(f"{passphrase_file} holds no passphrase on its first line")
    return lines[0]


passphrase_file_option = click.option(
    "--passphrase-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read the passphrase from the first line of this file (for scripts) instead of asking for it.",
)


@trustee_group.command("keygen", with_appcontext=False)
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
@passphrase_file_option
@_trustee_errors
def trustee_keygen_command(key_file, passphrase_file):
    """Make your trustee key pair: KEY_FILE and its .pub.

    KEY_FILE is your private key, protected by your passphrase and readable
    by you alone; NAME.pub beside it is your public key. Give the .pub file
    to the administrator, and compare the fingerprint they see with the one
    printed here. Keep KEY_FILE and its passphrase: without them your share
    of a vote cannot be used.
    """
    keys.check_new_key_file(key_file)  # before the passphrase is typed, not after
    passphrase = _passphrase(
        passphrase_file, f"Passphrase (at least {keys.MIN_PASSPHRASE_LENGTH} characters; several words are best)",
        confirm=True,
    )
    public_path, fingerprint = keys.write_trustee_key(key_file, passphrase)
    click.echo(f"Wrote your private key to {key_file} (readable by you alone) and your public key to {public_path}.")
    click.echo(f"Fingerprint: {fingerprint}")


@trustee_group.command("answer", with_appcontext=False)
@click.argument("request_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Your private key file, from `ballot trustee keygen`.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the answer (default: answer-vote-ID-trustee-INDEX.json here).")
@click.option("--signer", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The installation's public key (PEM, from /signing-key.pem): refuse a request it did not sign.")
@passphrase_file_option
@_trustee_errors
def trustee_answer_command(request_file, key_file, output, signer, passphrase_file):
    """Answer a close request with your share of the vote's key.

    Your share is opened with your key and sealed again to this close's
    collection key: the answer file is useless to anyone but the service.
    Answer only a request for a vote that has closed, as announced, and check
    the collection key's fingerprint with the administrator's console.
    """
    request = collection.read_request(request_file.read_bytes(), signer.read_text() if signer else None)
    passphrase = _passphrase(passphrase_file, f"Passphrase of {key_file}")
    answer = collection.answer_request(request, keys.load_trustee_private_key(key_file.read_bytes(), passphrase))
    output = output or Path(f"answer-vote-{answer.vote_id}-trustee-{answer.index}.json")
    try:
        with output.open("x", encoding="utf-8") as file:  # never replace an earlier answer
            file.write(answer.to_json())
    except FileExistsError:
        raise InvalidInput(f"{output} exists already; it was kept (choose another name with -o)") from None
    click.echo(f"Vote {request.vote_id}: {request.vote_title}")
    click.echo(f"You are trustee #{request.index}, key {request.fingerprint}.")
    click.echo(f"Collection key of this close: {keys.fingerprint(request.collection_key)}")
    if not signer:
        click.echo("The request's signature was not checked: pass --signer with the installation's key to do so.")
    click.echo(f"Wrote your answer to {output}. Send it to the administrator; it is useless to anyone else.")


if __name__ == "__main__":
    main(prog_name="ballot")
