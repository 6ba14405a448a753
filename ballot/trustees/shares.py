"""A vote's private key held by its trustees, k of n.

At the opening, ``protect_vote_key``:

1. makes a fresh random 16-byte wrapping key W;
2. wraps the vote's private key with AES-GCM under W, bound to the vote and k;
3. splits W k of n with Shamir's scheme (pycryptodome, over GF(2^128));
4. seals each share with HPKE to its trustee's public key, bound to the vote,
   the share's index and the trustee's fingerprint;
5. makes a commitment per share (a SHA-256 digest), so that a share returned
   at the close is checked before it is used.

The service keeps 2, 4 and 5 and never sees W or a share in clear again until
the close. Fewer than k shares say nothing about W (Shamir), a commitment is
a one-way digest of a random 128-bit share, and without W the wrapped key is
AES-GCM ciphertext: k-1 shares plus everything the service stores, and the
service's configuration, do not open the vote's key.

At the close, ``recover_vote_key`` combines any k checked shares to W and
unwraps the vote's key.

Erasure is best effort, as far as Python allows: W and the shares we hold are
bytearrays overwritten when done, but the libraries copy them where Python
cannot reach (pycryptodome computes with immutable ``int`` and ``bytes``
objects, ``cryptography`` hands keys to OpenSSL). Those copies are freed, not
overwritten, when the call returns; a dump of the process's memory taken
meanwhile could still show them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ballot.errors import InvalidInput
from ballot.sealing import SUITE
from ballot.trustees.keys import fingerprint

SHARE_SIZE = 16  # Shamir in pycryptodome splits 16-byte secrets: W is an AES-128 key
MAX_TRUSTEES = 255  # k is kept in one byte of the wrapped vote key
_NONCE_SIZE = 12
_VOTE_KEY_SIZE = 32


@dataclass(frozen=True)
class TrusteeShare:
    """What the service keeps per trustee of a vote: whose share, its index, the share sealed to them, a commitment."""

    fingerprint: str
    index: int
    sealed_share: bytes
    commitment: bytes


@dataclass(frozen=True)
class ProtectedVoteKey:
    """A vote's private key as the service keeps it while the vote is open.

    ``wrapped_vote_key`` is k (one byte), the AES-GCM nonce and the ciphertext;
    ``trustee_shares`` are in the order of the trustees' public keys given.
    """

    wrapped_vote_key: bytes
    trustee_shares: tuple[TrusteeShare, ...]

    @property
    def threshold(self) -> int:
        """k: how many trustees' shares the close needs."""
        return threshold_of(self.wrapped_vote_key)


@dataclass(frozen=True, eq=False)
class Share:
    """One trustee's share of a vote's wrapping key, opened (and checked) at the close."""

    index: int
    value: bytearray

    def erase(self) -> None:
        """Overwrite the share in place once it has been used."""
        erase(self.value)


def protect_vote_key(
    vote_private_key: bytes | bytearray, vote_id: int, trustee_public_keys: Sequence[bytes], threshold: int
) -> ProtectedVoteKey:
    """Wrap a vote's raw X25519 private key so that any ``threshold`` of its trustees can unwrap it.

    Trustee i (in the order given, from 1) gets share i. Any k from 1 to the
    number of trustees is accepted: whether an installation may run a vote
    with k = 1 (one trustee alone can open it) is the service's policy, and
    is checked by the caller.
    """
    _check_trustees(trustee_public_keys, threshold)
    if len(vote_private_key) != _VOTE_KEY_SIZE:
        raise InvalidInput("a vote's private key is 32 bytes (raw X25519)")
    fingerprints = [fingerprint(key) for key in trustee_public_keys]
    wrapping_key = bytearray(os.urandom(SHARE_SIZE))
    try:
        nonce = os.urandom(_NONCE_SIZE)
        ciphertext = AESGCM(wrapping_key).encrypt(nonce, vote_private_key, _vote_key_label(vote_id, threshold))
        # PyCryptodome's types say bytes; it takes any bytes-like, and a bytearray can be erased after.
        splits = Shamir.split(threshold, len(trustee_public_keys), wrapping_key)  # type: ignore[arg-type]
    finally:
        erase(wrapping_key)
    trustee_shares = []
    for (index, share), public_key, key_fingerprint in zip(splits, trustee_public_keys, fingerprints, strict=True):
        sealed = SUITE.encrypt(
            share, X25519PublicKey.from_public_bytes(public_key), info=share_label(vote_id, index, key_fingerprint)
        )
        trustee_shares.append(TrusteeShare(key_fingerprint, index, sealed, commitment(vote_id, index, share)))
    del splits  # immutable bytes from pycryptodome: dropped, not overwritten (see the module's note)
    return ProtectedVoteKey(bytes([threshold]) + nonce + ciphertext, tuple(trustee_shares))


def threshold_of(wrapped_vote_key: bytes) -> int:
    """k, as the wrapped vote key records it."""
    _check_wrapped(wrapped_vote_key)
    return wrapped_vote_key[0]


def open_share(
    sealed_share: bytes, private_key: X25519PrivateKey, vote_id: int, index: int, key_fingerprint: str
) -> bytearray:
    """A trustee's share, opened with their private key; refused unless sealed to them for this vote and index."""
    try:
        share = bytearray(SUITE.decrypt(sealed_share, private_key, info=share_label(vote_id, index, key_fingerprint)))
    except (InvalidTag, ValueError):  # ValueError: a ciphertext too damaged to parse
        raise InvalidInput(
            f"the share does not open with this key: it was not sealed to it as share #{index} of vote {vote_id}"
        ) from None
    if len(share) != SHARE_SIZE:
        raise InvalidInput("the share is malformed")
    return share


def commitment(vote_id: int, index: int, share: bytes | bytearray) -> bytes:
    """The digest made of a share at the opening, against which the share returned at the close is checked."""
    return hashlib.sha256(f"ballot/trustees/commitment/{vote_id}/{index}/".encode() + bytes(share)).digest()


def matches_commitment(trustee_share: TrusteeShare, vote_id: int, share: bytes | bytearray) -> bool:
    """Whether ``share`` is the one made for this trustee of this vote at the opening."""
    return hmac.compare_digest(commitment(vote_id, trustee_share.index, share), trustee_share.commitment)


def recover_vote_key(wrapped_vote_key: bytes, vote_id: int, shares: Iterable[Share]) -> bytes:
    """The vote's raw private key, from k checked shares (more are allowed; k of them are used).

    Fewer than k shares, a share given twice, or shares that do not combine to
    this vote's wrapping key are refused with the reason.
    """
    threshold = threshold_of(wrapped_vote_key)
    by_index: dict[int, Share] = {}
    for share in shares:
        if share.index in by_index:
            raise InvalidInput(f"share #{share.index} was given twice")
        by_index[share.index] = share
    if len(by_index) < threshold:
        raise InvalidInput(
            f"the key of vote {vote_id} needs {threshold} of its trustees' shares; only {len(by_index)} given"
        )
    # pycryptodome asks for exactly k shares; with more it would still agree, but use what it documents.
    chosen = [(index, bytes(by_index[index].value)) for index in sorted(by_index)[:threshold]]
    wrapping_key = bytearray(Shamir.combine(chosen))
    del chosen
    nonce, ciphertext = wrapped_vote_key[1 : 1 + _NONCE_SIZE], wrapped_vote_key[1 + _NONCE_SIZE :]
    try:
        return AESGCM(wrapping_key).decrypt(nonce, ciphertext, _vote_key_label(vote_id, threshold))
    except InvalidTag:
        raise InvalidInput(
            f"these shares do not unwrap the key of vote {vote_id}: a share is wrong or from another vote"
        ) from None
    finally:
        erase(wrapping_key)


def share_label(vote_id: int, index: int, key_fingerprint: str) -> bytes:
    """HPKE ``info`` of a share sealed to a trustee: the vote, the share's index and the trustee's key."""
    return f"ballot/trustees/share/{vote_id}/{index}/{key_fingerprint}".encode()


def erase(buffer: bytearray) -> None:
    """Overwrite a secret held in a bytearray (see the module's note on what Python cannot reach)."""
    buffer[:] = bytes(len(buffer))  # same length: overwritten in place, not reallocated


def _check_trustees(trustee_public_keys: Sequence[bytes], threshold: int) -> None:
    count = len(trustee_public_keys)
    if not 1 <= count <= MAX_TRUSTEES:
        raise InvalidInput(f"a vote needs from 1 to {MAX_TRUSTEES} trustees, not {count}")
    if not 1 <= threshold <= count:
        raise InvalidInput(f"the number of trustees needed must be from 1 to {count} (the trustees), not {threshold}")
    seen = set()
    for position, public_key in enumerate(trustee_public_keys, start=1):
        try:
            X25519PublicKey.from_public_bytes(public_key)
        except (TypeError, ValueError):
            raise InvalidInput(f"trustee #{position}'s public key is not an X25519 public key") from None
        if public_key in seen:
            raise InvalidInput(f"trustee #{position} is listed twice (key {fingerprint(public_key)})")
        seen.add(public_key)


def _check_wrapped(wrapped_vote_key: bytes) -> None:
    if len(wrapped_vote_key) != 1 + _NONCE_SIZE + _VOTE_KEY_SIZE + 16 or not wrapped_vote_key[0]:
        raise InvalidInput("the wrapped vote key is malformed")


def _vote_key_label(vote_id: int, threshold: int) -> bytes:
    # k is bound too: a wrapped key whose k was altered no longer unwraps.
    return f"ballot/trustees/vote-key/{vote_id}/{threshold}".encode()
