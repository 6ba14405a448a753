"""Signed links and ballot tokens: one small service, one secret and salt per kind.

itsdangerous errors become the domain's :class:`TokenInvalid` and
:class:`TokenExpired`, so callers never see the library's exceptions.
"""

from __future__ import annotations

import datetime as dt
import functools

from itsdangerous import BadSignature, URLSafeSerializer

from ballot.errors import TokenExpired, TokenInvalid

OPT_IN = "opt-in"
BALLOT_LINK = "ballot-link"
STANDING = "standing"
BALLOT_TOKEN = "ballot-token"
RECEIPT_KEPT = "receipt-kept"  # the receipt, kept for a while in the voter's own browser only
CHOICES_KEPT = "choices-kept"  # a ballot's choices between its review and its cast, in the voter's browser only


class TokenService:
    """Signs and checks one kind of token.

    Expiry is an explicit ``exp`` (Unix seconds) in the payload rather than the
    signing time plus a maximum age, because a link must expire exactly when
    its vote closes, whenever it was issued.
    """

    def __init__(self, secret: str, kind: str):
        self.kind = kind
        self._serializer = URLSafeSerializer(secret, salt=f"ballot.{kind}")

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
