"""The close: requests to the trustees for their shares, their answers, and the checks on each answer.

- The service makes a *collection* key pair for the close; its private half
  is kept wrapped under the installation's sealing key until the count, then
  destroyed.
- Each trustee gets a request: the vote, their fingerprint and index, their
  sealed share and the collection public key, with an identifier (a SHA-256
  digest of all of it) and, when the service has a signing key, the
  installation's signature.
- The trustee's command opens the share with their private key and seals it
  again, to the collection key. The answer file alone, in a mailbox or a
  Downloads folder, is useless once the collection key is destroyed.
- The service opens each answer, checks it against what it expects (vote,
  trustee, index) and against the share's commitment, and combines k shares
  (``shares.recover_vote_key``).

Requests and answers are JSON documents; binary values are URL-safe base64.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ballot.errors import InvalidInput
from ballot.sealing import SUITE, b64, canonical_json, sign, verify_signature
from ballot.trustees.keys import fingerprint, raw_public_key
from ballot.trustees.shares import SHARE_SIZE, Share, TrusteeShare, erase, matches_commitment, open_share

REQUEST_FORMAT = "ballot-trustee-request/1"
ANSWER_FORMAT = "ballot-trustee-answer/1"
_NONCE_SIZE = 12
_RAW = serialization.Encoding.Raw


@dataclass(frozen=True)
class CollectionKey:
    """A close's collection key pair: the public key for the requests, the private key wrapped for the service."""

    public_key: bytes
    wrapped_private_key: bytes


@dataclass(frozen=True)
class CloseRequest:
    """What the service asks one trustee for at the close."""

    vote_id: int
    vote_title: str
    fingerprint: str
    index: int
    sealed_share: bytes
    collection_key: bytes
    signature: str | None = None

    @property
    def request_id(self) -> str:
        """The identifier binding the whole request: a SHA-256 digest of its contents, in hex."""
        return hashlib.sha256(canonical_json(_request_body(self))).hexdigest()

    def to_document(self) -> dict:
        """The request as the JSON document the trustee receives."""
        document = _signed_part(self)
        if self.signature is not None:
            document["signature"] = self.signature
        return document

    def to_json(self) -> str:
        return json.dumps(self.to_document(), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class ShareAnswer:
    """A trustee's answer: their share, sealed to the close's collection key."""

    vote_id: int
    fingerprint: str
    index: int
    request_id: str
    collection_key: bytes
    sealed_share: bytes

    def to_document(self) -> dict:
        """The answer as the JSON document the trustee sends back."""
        return {
            "format": ANSWER_FORMAT,
            "vote": {"id": self.vote_id},
            "trustee": {"fingerprint": self.fingerprint, "index": self.index},
            "request_id": self.request_id,
            "collection_key": b64(self.collection_key),
            "sealed_share": b64(self.sealed_share),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_document(), indent=2) + "\n"


def new_collection_key(sealing_key: bytes, vote_id: int) -> CollectionKey:
    """A fresh collection key pair for a vote's close, its private half wrapped with the installation's sealing key."""
    private_key = X25519PrivateKey.generate()
    raw_private = private_key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    nonce = os.urandom(_NONCE_SIZE)
    wrapped = nonce + AESGCM(sealing_key).encrypt(nonce, raw_private, _collection_label(vote_id))
    return CollectionKey(raw_public_key(private_key), wrapped)


def unwrap_collection_key(sealing_key: bytes, vote_id: int, wrapped_private_key: bytes) -> bytes:
    """The raw private collection key of a vote's close, to open the trustees' answers."""
    try:
        return AESGCM(sealing_key).decrypt(
            wrapped_private_key[:_NONCE_SIZE], wrapped_private_key[_NONCE_SIZE:], _collection_label(vote_id)
        )
    except InvalidTag:
        raise InvalidInput(
            "the close's collection key cannot be unwrapped with this installation's sealing key"
        ) from None


def close_request(
    vote_id: int,
    vote_title: str,
    trustee_share: TrusteeShare,
    collection_public_key: bytes,
    signing_key_pem: str | None = None,
) -> CloseRequest:
    """The request for one trustee's share, signed with the installation's key when one is given.

    The signature lets a trustee who holds the installation's public key
    (``/signing-key.pem``) refuse a request forged by someone who has a copy
    of the database but not the service's secrets.
    """
    request = CloseRequest(
        vote_id,
        vote_title,
        trustee_share.fingerprint,
        trustee_share.index,
        trustee_share.sealed_share,
        collection_public_key,
    )
    if signing_key_pem is None:
        return request
    return dataclasses.replace(request, signature=sign(_signed_part(request), signing_key_pem))


def read_request(text: str | bytes, signer_pem: str | None = None) -> CloseRequest:
    """A request file's contents, checked whole; with ``signer_pem``, also its signature by that key."""
    document = _load(text, "request", REQUEST_FORMAT)
    try:
        request = CloseRequest(
            vote_id=_integer(document["vote"]["id"]),
            vote_title=_text(document["vote"]["title"]),
            fingerprint=_text(document["trustee"]["fingerprint"]),
            index=_integer(document["trustee"]["index"]),
            sealed_share=_binary(document["sealed_share"]),
            collection_key=_binary(document["collection_key"]),
            signature=_text(document["signature"]) if "signature" in document else None,
        )
        given_id = _text(document["request_id"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise InvalidInput(f"this is not a trustee request file: {_why(exc)}") from None
    if given_id != request.request_id:
        raise InvalidInput("the request was altered after it was made: its identifier does not match its contents")
    _check_public_key(request.collection_key, "the request's collection key")
    if signer_pem is not None:
        try:
            signed = request.signature is not None and verify_signature(
                _signed_part(request), request.signature, signer_pem
            )
        except (ValueError, UnsupportedAlgorithm):
            raise InvalidInput("the installation key you gave is not a public key file (PEM)") from None
        if not signed:
            raise InvalidInput("the request is not signed by the installation key you gave: do not answer it")
    return request


def answer_request(request: CloseRequest, private_key: X25519PrivateKey) -> ShareAnswer:
    """The trustee's side: open their share with their private key and seal it again to the collection key.

    The trustee cannot check the share itself (its commitment is the
    service's); HPKE only opens it if it was sealed to this key for this vote
    and index, and the service checks the commitment when the answer arrives.
    """
    key_fingerprint = fingerprint(raw_public_key(private_key))
    if key_fingerprint != request.fingerprint:
        raise InvalidInput(
            f"this request is for the trustee whose key is {request.fingerprint}; your key is {key_fingerprint}"
        )
    share = open_share(request.sealed_share, private_key, request.vote_id, request.index, key_fingerprint)
    try:
        sealed = SUITE.encrypt(
            share,
            X25519PublicKey.from_public_bytes(request.collection_key),
            info=_answer_label(request.vote_id, request.index, key_fingerprint),
        )
    finally:
        erase(share)
    return ShareAnswer(
        request.vote_id, key_fingerprint, request.index, request.request_id, request.collection_key, sealed
    )


def read_answer(text: str | bytes) -> ShareAnswer:
    """An answer file's contents, checked for form (``open_answer`` checks the rest)."""
    document = _load(text, "answer", ANSWER_FORMAT)
    try:
        return ShareAnswer(
            vote_id=_integer(document["vote"]["id"]),
            fingerprint=_text(document["trustee"]["fingerprint"]),
            index=_integer(document["trustee"]["index"]),
            request_id=_text(document["request_id"]),
            collection_key=_binary(document["collection_key"]),
            sealed_share=_binary(document["sealed_share"]),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise InvalidInput(f"this is not a trustee answer file: {_why(exc)}") from None


def open_answer(
    answer: ShareAnswer,
    collection_private_key: bytes,
    vote_id: int,
    trustee_shares: Sequence[TrusteeShare],
    received: Collection[int] = (),
) -> Share:
    """The share in a trustee's answer, checked: for this vote, from one of its trustees, new, and the real share.

    ``trustee_shares`` are what the service kept at the opening;
    ``received`` the indexes of the shares already accepted for this close.
    Each refusal names its reason.
    """
    if answer.vote_id != vote_id:
        raise InvalidInput(f"this answer is for vote {answer.vote_id}, not vote {vote_id}")
    trustee = next((t for t in trustee_shares if t.fingerprint == answer.fingerprint), None)
    if trustee is None:
        raise InvalidInput(f"this answer is from a key that holds no share of vote {vote_id} ({answer.fingerprint})")
    if answer.index != trustee.index:
        raise InvalidInput(
            f"this answer claims share #{answer.index}, "
            f"but the trustee {trustee.fingerprint} holds share #{trustee.index}"
        )
    if trustee.index in received:
        raise InvalidInput(f"share #{trustee.index} (trustee {trustee.fingerprint}) was received already")
    private_key = X25519PrivateKey.from_private_bytes(collection_private_key)
    if answer.collection_key != raw_public_key(private_key):
        raise InvalidInput("this answer was made for another close request: it is sealed to another collection key")
    label = _answer_label(vote_id, trustee.index, trustee.fingerprint)
    try:
        share = bytearray(SUITE.decrypt(answer.sealed_share, private_key, info=label))
    except (InvalidTag, ValueError):  # ValueError: a ciphertext too damaged to parse
        raise InvalidInput("this answer does not open with the close's collection key: it was altered") from None
    if len(share) != SHARE_SIZE or not matches_commitment(trustee, vote_id, share):
        erase(share)
        raise InvalidInput(
            f"the share in this answer is not the one made for trustee {trustee.fingerprint} when vote {vote_id} "
            "opened (it does not match its commitment)"
        )
    return Share(trustee.index, share)


def _request_body(request: CloseRequest) -> dict:
    return {
        "format": REQUEST_FORMAT,
        "vote": {"id": request.vote_id, "title": request.vote_title},
        "trustee": {"fingerprint": request.fingerprint, "index": request.index},
        "sealed_share": b64(request.sealed_share),
        "collection_key": b64(request.collection_key),
    }


def _signed_part(request: CloseRequest) -> dict:
    # The installation signs the contents together with their identifier.
    return {**_request_body(request), "request_id": request.request_id}


def _answer_label(vote_id: int, index: int, key_fingerprint: str) -> bytes:
    # HPKE binds the recipient's key too: an answer opens only with the collection key it was sealed to.
    return f"ballot/trustees/answer/{vote_id}/{index}/{key_fingerprint}".encode()


def _collection_label(vote_id: int) -> bytes:
    return f"ballot/trustees/collection/{vote_id}".encode()


def _load(text: str | bytes, what: str, expected_format: str) -> dict:
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"this is not a trustee {what} file: it is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != expected_format:
        raise InvalidInput(f"this is not a trustee {what} file (its format is not {expected_format})")
    return document


def _check_public_key(key: bytes, what: str) -> None:
    try:
        X25519PublicKey.from_public_bytes(key)
    except ValueError:
        raise InvalidInput(f"{what} is not an X25519 public key") from None


def _integer(value) -> int:
    if type(value) is not int:
        raise TypeError(f"{value!r} is not a whole number")
    return value


def _binary(value) -> bytes:
    # Strict: urlsafe_b64decode would skip stray characters, and a damaged file should say so here.
    return base64.b64decode(_text(value).encode("ascii"), altchars=b"-_", validate=True)


def _text(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def _why(exc: Exception) -> str:
    return f"{exc} is missing" if isinstance(exc, KeyError) else str(exc)
