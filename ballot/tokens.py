"""Signed links and ballot tokens: one small service, one secret and salt per kind.

itsdangerous errors become the domain's :class:`TokenInvalid` and
:class:`TokenExpired`, so callers never see the library's exceptions.
"""

from __future__ import annotations

import datetime as dt
import functools

from itsdangerous import BadSignature, Serializer, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from ballot.errors import TokenExpired, TokenInvalid

OPT_IN = "opt-in"
BALLOT_LINK = "ballot-link"
STANDING = "standing"
BALLOT_TOKEN = "ballot-token"
RECEIPT_KEPT = "receipt-kept"  # the receipt, kept for a while in the voter's own browser only
CHOICES_KEPT = "choices-kept"  # a ballot's choices between its review and its cast, in the voter's browser only


# A payload shorter than this is not worth compressing: deflate gains nothing on a few dozen bytes, and
# starting it (buffers of some 256 KiB) cost a cast or a ballot page more than the signature.
COMPRESS_FROM = 200


class _URLSafeSerializer(URLSafeSerializer):
    """itsdangerous' URL-safe tokens, which do not try to compress a short payload: the same format (a
    token itsdangerous did not compress is written alike), read by itsdangerous as by us."""

    def dump_payload(self, obj) -> bytes:
        text = Serializer.dump_payload(self, obj)  # the compact JSON, before URLSafeSerializer's compression
        return super().dump_payload(obj) if len(text) >= COMPRESS_FROM else base64_encode(text)


class TokenService:
    """Signs and checks one kind of token.

    Expiry is an explicit ``exp`` (Unix seconds) in the payload rather than the
    signing time plus a maximum age, because a link must expire exactly when
    its vote closes, whenever it was issued.
    """

    def __init__(self, secret: str, kind: str):
        self.kind = kind
        self._serializer = _URLSafeSerializer(secret, salt=f"ballot.{kind}")

    def dumps(self, payload: dict, expires_at: dt.datetime | None = None) -> str:
        data = dict(payload)
        if expires_at is not None:
            data["exp"] = int(expires_at.timestamp())
        return self._serializer.dumps(data)

    def loads(self, token: str, now: dt.datetime | None = None) -> dict:
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            raise TokenInvalid(
                "This link is not valid: it may have been altered or copied incompletely."
            ) from None
        if not isinstance(data, dict):
            raise TokenInvalid("This link is not valid.")
        exp = data.pop("exp", None)
        now = now or dt.datetime.now(dt.UTC)
        if exp is not None and now.timestamp() >= exp:
            raise TokenExpired("This link has expired.")
        return data


def token_service(app_config, kind: str) -> TokenService:
    """The service for ``kind``, keyed by that kind's own configured secret."""
    secret_name = "BALLOT_TOKEN_SECRET" if kind == BALLOT_TOKEN else "BALLOT_LINK_SECRET"
    return _token_service(app_config[secret_name], kind)


@functools.lru_cache(maxsize=16)
def _token_service(secret: str, kind: str) -> TokenService:
    # Made once per secret and kind: every ballot page checks one token and signs another.
    return TokenService(secret, kind)
