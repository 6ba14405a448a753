"""The registry of trustees: register one by their public key, list them, disable one.

Each change is audited in the caller's unit of work. A trustee is named
everywhere by the fingerprint of their key (``keys.fingerprint``); what an
administrator types as a fingerprint is read with or without its spaces, in
either case.
"""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from ballot.audit import audit
from ballot.errors import Conflict, InvalidInput, NotFound, PolicyInvalid
from ballot.extensions import db
from ballot.timestamps import utcnow
from ballot.trustees import keys
from ballot.trustees.models import Trustee

_HEX = re.compile(r"[0-9A-F]{64}")


def normal_fingerprint(text: str) -> str:
    """A fingerprint as typed (spaces or not, any case), in the one form shown everywhere."""
    digits = "".join(str(text).split()).upper()
    if not _HEX.fullmatch(digits):
        raise InvalidInput(f"{str(text).strip()!r} is not a key's fingerprint (64 hex digits, as `ballot trustee "
                           "keygen` prints it)")
    return " ".join(digits[i : i + 4] for i in range(0, 64, 4))


def register_trustee(name: str, public_key_pem: bytes | str) -> Trustee:
    """Register a trustee by their ``.pub`` file; the administrator then compares the fingerprint with theirs."""
    name = name.strip()
    if not name or len(name) > 120 or any(ord(c) < 32 for c in name):
        raise InvalidInput("a trustee needs a name: one line of at most 120 characters")
    public_key = keys.load_trustee_public_key(public_key_pem)
    key_fingerprint = keys.fingerprint(public_key)
    known = db.session.scalar(select(Trustee).where(Trustee.fingerprint == key_fingerprint))
    if known is not None:
        raise Conflict(f"this key is registered already, for {known.name} ({key_fingerprint})")
    trustee = Trustee(name=name, public_key=public_key, fingerprint=key_fingerprint, registered_at=utcnow())
    audit("trustee.add", name, fingerprint=key_fingerprint)
    db.session.add(trustee)
    db.session.flush()
    return trustee


def list_trustees(enabled_only: bool = False) -> list[Trustee]:
    """Registered trustees in the order they were registered."""
    query = select(Trustee).order_by(Trustee.id)
    if enabled_only:
        query = query.where(Trustee.disabled_at.is_(None))
    return list(db.session.scalars(query))


def get_trustee(fingerprint: str) -> Trustee:
    """The trustee whose key has this fingerprint (as typed)."""
    key_fingerprint = normal_fingerprint(fingerprint)
    trustee = db.session.scalar(select(Trustee).where(Trustee.fingerprint == key_fingerprint))
    if trustee is None:
        raise NotFound(f"no trustee is registered with the key {key_fingerprint}")
    return trustee


def disable_trustee(trustee: Trustee) -> None:
    """Leave a trustee out of votes from now on; votes already open keep them (they hold a share)."""
    if trustee.disabled_at is not None:
        raise Conflict(f"{trustee.name} ({trustee.fingerprint}) is disabled already")
    audit("trustee.disable", trustee.name, fingerprint=trustee.fingerprint)
    trustee.disabled_at = utcnow()
    db.session.flush()


def single_trustee_allowed() -> bool:
    """Whether this installation lets one trustee alone hold a vote's key (BALLOT_ALLOW_SINGLE_TRUSTEE)."""
    return current_app.config["BALLOT_ALLOW_SINGLE_TRUSTEE"] is True


def installation_trustees(config) -> tuple[list[str], int] | None:
    """The installation's trustees for every vote (BALLOT_TRUSTEES), or None: the sealing key, unless a vote
    names trustees. Refused plainly when the setting is malformed, so that the service does not start."""
    setting = config.get("BALLOT_TRUSTEES")
    if setting is None or setting is False:
        return None
    problem = ('BALLOT_TRUSTEES must be None, or {"trustees": ["FINGERPRINT", ...], "threshold": K} '
               f"(not {setting!r})")
    if not isinstance(setting, dict) or set(setting) != {"trustees", "threshold"}:
        raise PolicyInvalid(problem)
    fingerprints, threshold = setting["trustees"], setting["threshold"]
    if not isinstance(fingerprints, list) or not fingerprints or type(threshold) is not int:
        raise PolicyInvalid(problem)
    try:
        normal = [normal_fingerprint(f) for f in fingerprints]
    except InvalidInput as exc:
        raise PolicyInvalid(f"BALLOT_TRUSTEES: {exc}") from None
    if not 1 <= threshold <= len(normal):
        raise PolicyInvalid(f"BALLOT_TRUSTEES: the threshold must be from 1 to {len(normal)} (the trustees named), "
                            f"not {threshold}")
    if threshold < 2 and config.get("BALLOT_ALLOW_SINGLE_TRUSTEE") is not True:
        raise PolicyInvalid("BALLOT_TRUSTEES: with a threshold of 1 one trustee alone could open the ballots early; "
                            "set BALLOT_ALLOW_SINGLE_TRUSTEE = True to accept that")
    return normal, threshold
