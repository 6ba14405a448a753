"""Signed links and ballot tokens: one small service, one secret and salt per kind.

Tokens are written in itsdangerous' URL-safe format (``URLSafeSerializer``:
compact JSON in URL-safe base64, a dot, and the base64 HMAC-SHA1 of that text
under a key derived from the secret and the kind's salt), so that every link
already sent reads back; the service signs and checks them itself. Bad
signatures become the domain's :class:`TokenInvalid` and :class:`TokenExpired`,
so callers never see a library's exceptions.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import hmac
import json
import zlib

from ballot.errors import TokenExpired, TokenInvalid

OPT_IN = "opt-in"
BALLOT_LINK = "ballot-link"
STANDING = "standing"
BALLOT_TOKEN = "ballot-token"
RECEIPT_KEPT = "receipt-kept"  # the receipt, kept for a while in the voter's own browser only
CHOICES_KEPT = "choices-kept"  # a ballot's choices between its review and its cast, in the voter's browser only


# A payload shorter than this is not worth compressing: deflate gains nothing on a few dozen bytes,
# and starting it (buffers of some 256 KiB) costs a cast or a ballot page more than the signature.
COMPRESS_FROM = 200


class TokenService:
    """Signs and checks one kind of token.

    Expiry is an explicit ``exp`` (Unix seconds) in the payload rather than the
    signing time plus a maximum age, because a link must expire exactly when
    its vote closes, whenever it was issued.

    The key is derived once, as itsdangerous derives it for every token (its
    "django-concat": SHA-1 of the salt, ``signer`` and the secret); longer
    payloads (the choices kept for a ballot) are compressed as it compresses
    them, behind a leading dot.
    """

    def __init__(self, secret: str, kind: str):
        self.kind = kind
        self._key = hashlib.sha1(f"ballot.{kind}".encode() + b"signer" + secret.encode()).digest()

    def _signature(self, value: bytes) -> bytes:
        return base64.urlsafe_b64encode(hmac.digest(self._key, value, "sha1")).rstrip(b"=")

    def dumps(self, payload: dict, expires_at: dt.datetime | None = None) -> str:
        data = dict(payload)
        if expires_at is not None:
            data["exp"] = int(expires_at.timestamp())
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        value = None
        if len(text) >= COMPRESS_FROM:
            compressed = zlib.compress(text)
            if len(compressed) < len(text) - 1:
                value = b"." + base64.urlsafe_b64encode(compressed).rstrip(b"=")
        if value is None:
            value = base64.urlsafe_b64encode(text).rstrip(b"=")
        return (value + b"." + self._signature(value)).decode("ascii")

    def loads(self, token: str, now: dt.datetime | None = None) -> dict:
        value, _, signature = token.encode("utf-8", "replace").rpartition(b".")
        if not value or not hmac.compare_digest(signature, self._signature(value)):
            raise TokenInvalid(
                "This link is not valid: it may have been altered or copied incompletely."
            )
        try:
            data = json.loads(_unpacked(value))
        except (ValueError, binascii.Error, zlib.error):  # signed here, so never; but a token is not a file
            data = None
        if not isinstance(data, dict):
            raise TokenInvalid("This link is not valid.")
        exp = data.pop("exp", None)
        now = now or dt.datetime.now(dt.UTC)
        if exp is not None and now.timestamp() >= exp:
            raise TokenExpired("This link has expired.")
        return data


def _unpacked(value: bytes) -> bytes:
    """The JSON text of a signed value: base64, compressed if it begins with a dot."""
    compressed = value.startswith(b".")
    if compressed:
        value = value[1:]
    raw = base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))
    return zlib.decompress(raw) if compressed else raw


def token_service(app_config, kind: str) -> TokenService:
    """The service for ``kind``, keyed by that kind's own configured secret."""
    secret_name = "BALLOT_TOKEN_SECRET" if kind == BALLOT_TOKEN else "BALLOT_LINK_SECRET"
    return _token_service(app_config[secret_name], kind)


@functools.lru_cache(maxsize=16)
def _token_service(secret: str, kind: str) -> TokenService:
    # Made once per secret and kind: every ballot page checks one token and signs another.
    return TokenService(secret, kind)
