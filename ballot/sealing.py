"""Ballot sealing and record signing: the cryptography of the ballot box.

- Each vote has an X25519 key pair. Ballots are sealed to its public key with
  HPKE (RFC 9180) while the vote is open, so nothing stored shows a partial
  tally. The private key is kept wrapped (AES-GCM) with the installation's
  sealing key, which is configuration, not data: a copy of the database alone
  cannot open a ballot. At the close the key is unwrapped, the ballots opened
  into the record, and then the key and the sealed ballots are destroyed.
- A sealed ballot holds the voter's anonymous token with their answers; the
  receipt is a digest of the token. Nothing stored while the vote is open
  shows a receipt, so even a copy of the database taken mid-vote, in which
  rows betray their order of arrival, cannot be matched to the published
  record without the destroyed key.
- Plaintexts are padded, in fixed blocks, past the longest ballot the vote
  allows: a ciphertext's length must not tell "yes" from "abstain", nor one
  approval from thirty.
- The published record is signed with the installation's Ed25519 key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ballot.errors import InvalidInput, PolicyInvalid

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
PAD_BLOCK = 64  # bytes: a ballot is padded past the longest of its vote to a whole number of these
TOKEN_ROOM = 120  # a ballot token's length, with room to spare, for padding
_RAW = serialization.Encoding.Raw


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def canonical_json(value) -> bytes:
    """The one byte form of a JSON value that signatures and receipts are made over."""
    return canonical_text(value).encode()


def canonical_text(value) -> str:
    """``canonical_json(value)`` as text."""
    return _CANONICAL.encode(value)


# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False), less the making of an
# encoder for each call that json.dumps does whenever it is given settings.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def new_vote_keys(sealing_key: bytes, vote_id: int) -> tuple[bytes, bytes]:
    """A fresh key pair for a vote: (public key, private key wrapped with ``sealing_key``)."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    nonce = os.urandom(12)
    wrapped = nonce + AESGCM(sealing_key).encrypt(nonce, raw_private, _vote_label(vote_id))
    return private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw), wrapped


def unwrap_vote_key(sealing_key: bytes, vote_id: int, wrapped: bytes) -> bytes:
    """The raw private key of a vote; done only when the vote closes."""
    try:
        return AESGCM(sealing_key).decrypt(wrapped[:12], wrapped[12:], _vote_label(vote_id))
    except InvalidTag:
        raise InvalidInput("the vote's key cannot be unwrapped with this installation's sealing key") from None


def padded_size(questions: list[dict]) -> int:
    """The longest a ballot of these questions can be (every choice listed for each).

    Every ballot of a vote is padded past this, so that on a long Board or
    batch ballot the length does not tell one approval or answer from another.
    """
    longest = {"answers": {q["id"]: q["choices"] for q in questions}, "token": "x" * TOKEN_ROOM}
    return len(canonical_json(longest))


def seal(contents: dict, public_key: bytes | X25519PublicKey, vote_id: int, size: int) -> bytes:
    """Seal a ballot's contents to the vote's public key, padded past ``size`` (``padded_size`` of the
    vote's questions) to whole blocks: the blocks are too small to hide a ballot's length by themselves.

    Pass the key object (``X25519PublicKey.from_public_bytes``) when sealing many.
    """
    if isinstance(public_key, bytes):
        public_key = X25519PublicKey.from_public_bytes(public_key)
    plain = canonical_json(contents)
    padded = plain.ljust((max(len(plain), size) // PAD_BLOCK + 1) * PAD_BLOCK)
    return SUITE.encrypt(padded, public_key, info=_vote_label(vote_id))


def unseal(ciphertext: bytes, private_key: bytes | X25519PrivateKey, vote_id: int) -> dict:
    """Open a sealed ballot; a ballot that does not open is refused, never guessed at.

    Pass the key object (``X25519PrivateKey.from_private_bytes``) when opening
    many: making it from bytes costs as much again as opening a ballot.
    """
    return json.loads(unseal_json(ciphertext, private_key, vote_id))


def unseal_json(ciphertext: bytes, private_key: bytes | X25519PrivateKey, vote_id: int) -> bytes:
    """``unseal``, less the reading of the JSON: the contents as ``seal`` wrote them, their canonical JSON
    (UTF-8), without the padding."""
    if isinstance(private_key, bytes):
        private_key = X25519PrivateKey.from_private_bytes(private_key)
    try:
        plain = SUITE.decrypt(ciphertext, private_key, info=_vote_label(vote_id))
    except Exception:  # the HPKE binding raises several types for a bad ciphertext
        raise InvalidInput("a sealed ballot does not open with the vote's key") from None
    return plain.rstrip(b" ")


def receipt_for(ballot_token: str) -> str:
    """The voter's receipt: a short digest of their anonymous ballot token.

    The published record lists every counted ballot's token, receipt and
    contents; anyone can recompute the receipts, and a voter who finds theirs
    sees the contents counted for it.
    """
    digest = hashlib.sha256(b"ballot-receipt\0" + ballot_token.encode()).digest()
    # The digest's first 15 bytes, 120 bits, in base32 as base64.b32encode spells them (24 letters,
    # shown in groups of four), but 10 bits at a time from a table: b32encode is pure Python, and a
    # close computes 100,000 receipts.
    n, p = int.from_bytes(digest[:15], "big"), _LETTER_PAIRS
    return (f"{p[n >> 110]}{p[n >> 100 & 1023]}-{p[n >> 90 & 1023]}{p[n >> 80 & 1023]}-"
            f"{p[n >> 70 & 1023]}{p[n >> 60 & 1023]}-{p[n >> 50 & 1023]}{p[n >> 40 & 1023]}-"
            f"{p[n >> 30 & 1023]}{p[n >> 20 & 1023]}-{p[n >> 10 & 1023]}{p[n & 1023]}")


BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648's alphabet
_LETTER_PAIRS = [a + b for a in BASE32 for b in BASE32]  # every two letters, by the 10 bits they stand for
RECEIPT_LENGTH = 24  # base32 letters A-Z and digits 2-7, shown in groups of four


def normal_receipt(typed: str) -> str:
    """A receipt as the voter typed it, read forgivingly: any case, spaces or no dashes, 0 for O, 1 for I.

    Base32 has neither 0 nor 1, so they can only be a misread O or I. What is not a receipt's
    letter is dropped; 24 of them are grouped as receipts are shown.
    """
    letters = "".join(c for c in typed.upper().replace("0", "O").replace("1", "I") if c.isascii() and c.isalnum())
    if len(letters) == RECEIPT_LENGTH and all(c.isalpha() or c in "234567" for c in letters):
        return "-".join(letters[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))
    return typed.strip()


def new_signing_key_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_key_pem(signing_key_pem: str) -> str:
    key = serialization.load_pem_private_key(signing_key_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def sign(value, signing_key_pem: str) -> str:
    key = serialization.load_pem_private_key(signing_key_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise PolicyInvalid("the signing key is not an Ed25519 private key; make one with `ballot secrets`")
    return b64(key.sign(canonical_json(value)))


def verify_signature(value, signature: str, public_pem: str) -> bool:
    key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(unb64(signature), canonical_json(value))
    except (InvalidSignature, ValueError):
        return False
    return True


def _vote_label(vote_id: int) -> bytes:
    return f"ballot/vote/{vote_id}".encode()
