"""A vote's key in the custody of its trustees: chosen on the draft, split at the opening, gathered at the close.

The cryptography is ``ballot.trustees`` (docs/TRUSTEES.md); this module keeps
what it makes in the vote's rows and takes it back out:

- On the draft, the administrator names the vote's trustees and k
  (``set_trustees``); the installation may name them for every vote
  (BALLOT_TRUSTEES).
- At the opening, the vote's key pair is made here and its private half
  wrapped under a fresh key split among the trustees (``protect_key``): the
  service keeps no other form of it, not even under the sealing key.
- At the close, a collection key is made (``start_collection``); each trustee
  downloads a request signed by the installation (``close_request``) and
  uploads an answer, checked and kept still sealed (``accept_answer``).
- With k answers, the shares are opened, the vote's key recovered
  (``recover_vote_key``) and, in the same unit of work as the count, every
  piece of key material destroyed (``destroy_key_material``).

Functions act within the caller's unit of work and audit their changes; the
vote's row is locked by the caller (``lifecycle``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask import current_app
from sqlalchemy import delete, select

from ballot.audit import audit, vote_subject
from ballot.errors import Conflict, InvalidInput, NotFound
from ballot.extensions import db
from ballot.trustees import collection, keys, shares
from ballot.trustees import services as registry
from ballot.votes import record as vote_record
from ballot.votes.models import COUNTING, DRAFT, Vote, VoteTrustee

if TYPE_CHECKING:
    from ballot.votes.casting import BallotPaper

SEALING_KEY_MODEL, TRUSTEES_MODEL = "sealing-key", "trustees"
_RAW = serialization.Encoding.Raw


def trustees_of(vote: Vote) -> list[VoteTrustee]:
    """The vote's trustees in the order of their shares."""
    return list(db.session.scalars(
        select(VoteTrustee).where(VoteTrustee.vote_id == vote.id).order_by(VoteTrustee.position)
    ))


def losing_trustees_warning(threshold: int, count: int) -> str:
    """What the administrator confirms before a vote with trustees opens, in plain words."""
    spare = count - threshold
    survivable = (f"up to {spare} of them may lose their key or be unreachable" if spare
                  else "not one of them may lose their key or be unreachable")
    return (f"After the close, {threshold} of these {count} trustees must each run a command on their own "
            f"machine, with their key and passphrase, before the ballots can be opened and counted: "
            f"{survivable}. If fewer than {threshold} can answer, the ballots can never be opened, by "
            "anyone, and the vote must be run again.")


def check_threshold(threshold: int, count: int) -> None:
    """k of n as an installation allows it: at least 2 (unless it allows a single trustee), at most n."""
    if count < 1:
        raise InvalidInput("name at least one trustee")
    if count > shares.MAX_TRUSTEES:
        raise InvalidInput(f"a vote can have at most {shares.MAX_TRUSTEES} trustees")
    if not 1 <= threshold <= count:
        raise InvalidInput(f"the trustees needed must be from 1 to {count} (the trustees named), not {threshold}")
    if threshold < 2 and not registry.single_trustee_allowed():
        raise InvalidInput(
            "one trustee alone could open the ballots early: a vote needs at least 2 trustees' answers "
            "(an installation that accepts the risk sets BALLOT_ALLOW_SINGLE_TRUSTEE)"
        )


def set_trustees(vote: Vote, fingerprints: list[str], threshold: int | None) -> list[VoteTrustee]:
    """Name a draft's trustees, in order, and k; none (and no k): the installation's sealing key protects it."""
    if vote.status != DRAFT:
        raise Conflict(f"vote {vote.id} is {vote.status}; trustees are chosen before a vote opens")
    chosen = [registry.get_trustee(f) for f in fingerprints]
    if chosen:
        if threshold is None:
            raise InvalidInput("say how many of the trustees must answer for the vote to be counted")
        seen = set()
        for trustee in chosen:
            if trustee.id in seen:
                raise InvalidInput(f"{trustee.name} ({trustee.fingerprint}) is named twice")
            if trustee.disabled_at is not None:
                raise Conflict(f"{trustee.name} ({trustee.fingerprint}) is disabled: choose another trustee")
            seen.add(trustee.id)
        check_threshold(threshold, len(chosen))
    else:
        if threshold is not None:
            raise InvalidInput("name the trustees that the number of trustees needed counts")
        if registry.installation_trustees(current_app.config) is not None:
            raise Conflict("this installation protects every vote with trustees (BALLOT_TRUSTEES): name them")
    audit("vote.trustees", vote_subject(vote), trustees=[t.fingerprint for t in chosen], threshold=threshold)
    db.session.execute(delete(VoteTrustee).where(VoteTrustee.vote_id == vote.id))
    rows = [VoteTrustee(vote_id=vote.id, position=n, trustee_id=t.id, fingerprint=t.fingerprint, trustee=t)
            for n, t in enumerate(chosen, start=1)]
    db.session.add_all(rows)
    vote.trustee_threshold = threshold if chosen else None
    db.session.flush()
    return rows


def apply_installation_trustees(vote: Vote) -> None:
    """A new draft starts with the installation's trustees (BALLOT_TRUSTEES), if it names any."""
    default = registry.installation_trustees(current_app.config)
    if default is not None:
        fingerprints, threshold = default
        set_trustees(vote, fingerprints, threshold)


# The opening ----------------------------------------------------------------------------

def check_before_opening(vote: Vote) -> list[VoteTrustee]:
    """The trustees a vote will open with (none: the sealing key), refused with the reason if they cannot be."""
    rows = trustees_of(vote)
    if vote.trustee_threshold is None:
        if registry.installation_trustees(current_app.config) is not None:
            raise Conflict("this installation protects every vote with trustees (BALLOT_TRUSTEES): "
                           "name this vote's trustees before opening it")
        return []
    try:
        check_threshold(vote.trustee_threshold, len(rows))
    except InvalidInput as exc:
        raise Conflict(f"vote {vote.id} cannot open with these trustees: {exc}") from None
    for row in rows:
        if row.trustee.disabled_at is not None:
            raise Conflict(f"trustee {row.trustee.name} ({row.fingerprint}) was disabled: "
                           "choose this vote's trustees again")
    return rows


def protect_key(vote: Vote, rows: list[VoteTrustee]) -> bytes:
    """Make the vote's key pair and leave its private half only split among the trustees; the public key.

    The private key exists in clear only inside this call and is overwritten
    as far as Python allows (``trustees.shares``' note on erasure).
    """
    private_key = X25519PrivateKey.generate()
    raw_private = bytearray(private_key.private_bytes(_RAW, serialization.PrivateFormat.Raw,
                                                      serialization.NoEncryption()))
    assert vote.trustee_threshold is not None, "a vote opened with trustees has k"
    try:
        protected = shares.protect_vote_key(raw_private, vote.id, [row.trustee.public_key for row in rows],
                                            vote.trustee_threshold)
    finally:
        shares.erase(raw_private)
    for row, share in zip(rows, protected.trustee_shares, strict=True):
        row.sealed_share, row.commitment = share.sealed_share, share.commitment
    vote.wrapped_key = protected.wrapped_vote_key
    return keys.raw_public_key(private_key)


# The close ---------------------------------------------------------------------------------

def _sealing_key() -> bytes:
    return base64.urlsafe_b64decode(current_app.config["BALLOT_SEALING_KEY"])


def start_collection(vote: Vote) -> str:
    """Make the close's collection key, which the trustees' answers are sealed to; its fingerprint."""
    key = collection.new_collection_key(_sealing_key(), vote.id)
    vote.collection_key, vote.wrapped_collection_key = key.public_key, key.wrapped_private_key
    return keys.fingerprint(key.public_key)


def collection_fingerprint(vote: Vote) -> str | None:
    """The fingerprint that trustees compare with the one their command prints, while the vote is counting."""
    return keys.fingerprint(vote.collection_key) if vote.collection_key else None


def _kept(value: bytes | None, what: str, vote_id: int) -> bytes:
    """Key material a counting vote still holds (it is destroyed only by the count or a cancellation)."""
    if value is None:
        raise Conflict(f"vote {vote_id} no longer holds {what}: it was counted or cancelled")
    return value


def _share_of(row: VoteTrustee) -> shares.TrusteeShare:
    return shares.TrusteeShare(row.fingerprint, row.position,
                               _kept(row.sealed_share, f"the share of trustee #{row.position}", row.vote_id),
                               _kept(row.commitment, f"the commitment of trustee #{row.position}", row.vote_id))


def close_request(vote: Vote, fingerprint: str) -> collection.CloseRequest:
    """The request one trustee answers, signed with the installation's key (``ballot trustee answer --signer``)."""
    if vote.status != COUNTING:
        raise Conflict(f"vote {vote.id} is {vote.status}; trustees are asked for their shares once it has "
                       "closed, while it waits to be counted")
    key_fingerprint = registry.normal_fingerprint(fingerprint)
    row = next((r for r in trustees_of(vote) if r.fingerprint == key_fingerprint), None)
    if row is None:
        raise NotFound(f"{key_fingerprint} is not a trustee of vote {vote.id}")
    return collection.close_request(vote.id, vote.title, _share_of(row),
                                    _kept(vote.collection_key, "the collection key", vote.id),
                                    current_app.config["BALLOT_SIGNING_KEY"])


def accept_answer(vote: Vote, text: str | bytes, now: dt.datetime) -> VoteTrustee:
    """Check a trustee's answer and keep it, still sealed; a wrong, repeated or forged one is refused with the reason.

    The share is opened to check it against its commitment, then overwritten;
    only the answer as it came is stored.
    """
    answer = collection.read_answer(text)
    rows = trustees_of(vote)
    received = {row.position for row in rows if row.answer is not None}
    private_collection = collection.unwrap_collection_key(
        _sealing_key(), vote.id, _kept(vote.wrapped_collection_key, "the collection key", vote.id))
    share = collection.open_answer(answer, private_collection, vote.id, [_share_of(r) for r in rows], received)
    share.erase()
    row = next(r for r in rows if r.position == share.index)
    audit("vote.trustee-answer", vote_subject(vote), trustee=row.fingerprint, name=row.trustee.name,
          share=row.position)
    row.answer, row.answered_at = answer.to_json(), now
    db.session.flush()
    return row


def answered(vote: Vote) -> list[VoteTrustee]:
    """The trustees whose answers were accepted, in the order of their shares."""
    return [row for row in trustees_of(vote) if row.answered_at is not None]


def recover_vote_key(vote: Vote) -> X25519PrivateKey:
    """The vote's private key, from the answers kept (at least k of them), each opened and checked again."""
    rows = trustees_of(vote)
    trustee_shares = [_share_of(r) for r in rows]
    private_collection = collection.unwrap_collection_key(
        _sealing_key(), vote.id, _kept(vote.wrapped_collection_key, "the collection key", vote.id))
    opened: list[shares.Share] = []
    try:
        for row in rows:
            if row.answer is not None:
                opened.append(collection.open_answer(collection.read_answer(row.answer), private_collection, vote.id,
                                                     trustee_shares, {s.index for s in opened}))
        wrapped_key = _kept(vote.wrapped_key, "its wrapped key", vote.id)
        raw_private = bytearray(shares.recover_vote_key(wrapped_key, vote.id, opened))
    finally:
        for share in opened:
            share.erase()
    try:
        return X25519PrivateKey.from_private_bytes(bytes(raw_private))
    finally:
        shares.erase(raw_private)


def destroy_key_material(vote: Vote) -> None:
    """At the count, or when the vote is cancelled: the wrapped key, the shares, the answers, the collection key."""
    vote.wrapped_key = vote.collection_key = vote.wrapped_collection_key = None
    for row in trustees_of(vote):
        row.sealed_share = row.commitment = row.answer = None
    db.session.flush()


# In words and in the record -------------------------------------------------------------------------

def protection_of(vote: Vote, took_part: list[VoteTrustee] | None = None) -> dict:
    """How the vote's key was protected, as the record states it."""
    if vote.trustee_threshold is None:
        return {"model": SEALING_KEY_MODEL}
    protection = {"model": TRUSTEES_MODEL, "threshold": vote.trustee_threshold,
                  "trustees": [row.fingerprint for row in trustees_of(vote)]}
    if took_part is not None:
        protection["took_part"] = [row.fingerprint for row in took_part]
    return protection


def describe_protection(vote: Vote | BallotPaper) -> str:
    """Which model protects a vote's ballots, in plain words: the record's statement once it is counted,
    and before that one sentence for its voters (on the ballot page, without counting the trustees: it is
    the busiest page there is)."""
    if isinstance(vote, Vote) and vote.record is not None:
        # A record from before trustees (ballot-record/2) states no protection: the sealing key protected it.
        protection = json.loads(vote.record).get("protection", {"model": SEALING_KEY_MODEL})
        return vote_record.protection_statement(protection)
    if vote.trustee_threshold is None:
        return ("How your ballot is protected: until the close it is sealed with a key kept under this "
                "installation's own secret key, with no trustees; whoever runs the service holds that secret.")
    of = f"the vote's {len(trustees_of(vote))}" if isinstance(vote, Vote) else "the vote's"
    alone = ("one of them alone could open it" if vote.trustee_threshold == 1
             else "nobody who runs the service can open it alone, nor fewer of the trustees")
    return (f"How your ballot is protected: it is sealed with a key that only {vote.trustee_threshold} of {of} "
            f"trustees together can unlock, after the close; {alone}.")
