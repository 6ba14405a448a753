"""`ballot trustee add / list / disable`: the administrator's side of the trustees (the registry).

They sit in the same `ballot trustee` group as the trustees' own commands
(`keygen`, `answer`, in ``ballot.cli``), which need no database; these do.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ballot.commands import Output, in_unit_of_work, json_option
from ballot.errors import InvalidInput
from ballot.trustees import services


def _as_data(trustee) -> dict:
    return {"name": trustee.name, "fingerprint": trustee.fingerprint,
            "registered_at": trustee.registered_at.isoformat(),
            "disabled_at": trustee.disabled_at.isoformat() if trustee.disabled_at else None}


@click.command("add")
@click.argument("name")
@click.option("--public-key", "public_key", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The trustee's NAME.pub file, from `ballot trustee keygen` on their machine.")
@json_option
@with_appcontext
@in_unit_of_work
def trustee_add(name, public_key, as_json):
    """Register a trustee by their public key; compare the fingerprint printed with theirs, by voice."""
    try:
        pem = public_key.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {public_key}: {exc.strerror}") from None
    trustee = services.register_trustee(name, pem)
    return Output(_as_data(trustee),
                  f"Registered trustee {trustee.name}.\nFingerprint: {trustee.fingerprint}\n"
                  "Compare it with the one their `ballot trustee keygen` printed, by voice or in person.")


@click.command("list")
@json_option
@with_appcontext
@in_unit_of_work
def trustee_list(as_json):
    """List the registered trustees and their keys' fingerprints."""
    rows = services.list_trustees()
    return Output([_as_data(t) for t in rows], "\n".join(
        f"{t.fingerprint}  {t.name}{'  (disabled ' + f'{t.disabled_at:%Y-%m-%d}' + ')' if t.disabled_at else ''}"
        for t in rows
    ) or "No trustees are registered.")


@click.command("disable")
@click.argument("fingerprint")
@json_option
@with_appcontext
@in_unit_of_work
def trustee_disable(fingerprint, as_json):
    """Leave a trustee out of votes from now on (votes already open keep them)."""
    trustee = services.get_trustee(fingerprint)
    services.disable_trustee(trustee)
    return Output(_as_data(trustee), f"{trustee.name} ({trustee.fingerprint}) is disabled: no new vote can name them.")


REGISTRY_COMMANDS = (trustee_add, trustee_list, trustee_disable)
