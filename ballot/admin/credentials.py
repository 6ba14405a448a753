"""Administrators' credentials as plain values: argon2id passwords and TOTP codes.

No database and no request here: ``services`` stores what these functions return.
"""

from __future__ import annotations

import hmac
import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from ballot.errors import InvalidInput

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
TOTP_DIGITS = 6
TOTP_PERIOD = 30
TOTP_WINDOW = 1  # one step either side: a clock a little off, a code typed at the turn of a step

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 parameters
# Checked when the email is unknown, so that a sign-in takes as long either way.
_NOBODY = _hasher.hash(os.urandom(16).hex())


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"the password must be at most {MAX_PASSWORD} characters long")


def hash_password(password: str) -> str:
    check_new_password(password)
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; with no stored hash, as slow as a real check and False."""
    try:
        return _hasher.verify(stored_hash or _NOBODY, password[:MAX_PASSWORD]) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_totp_secret() -> bytes:
    return os.urandom(20)  # 160 bits, as RFC 4226 recommends for HMAC-SHA1


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, TOTP_DIGITS, SHA1(), TOTP_PERIOD)


def totp_code(secret: bytes, at: float) -> str:
    """The code an authenticator app shows at Unix time ``at``."""
    return _totp(secret).generate(int(at)).decode()


def provisioning_uri(secret: bytes, account: str, issuer: str) -> str:
    """The otpauth:// URI that authenticator apps read (usually as a QR code)."""
    return _totp(secret).get_provisioning_uri(account, issuer)


def accepted_step(secret: bytes, code: str, at: float, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is valid at ``at`` and newer than ``last_step``.

    A code is good once: a step at or before the last one accepted is refused,
    so a code seen over someone's shoulder cannot be replayed.
    """
    code = "".join(code.split())
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    now_step = int(at) // TOTP_PERIOD
    for step in range(now_step - TOTP_WINDOW, now_step + TOTP_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp_code(secret, step * TOTP_PERIOD), code):
            return step
    return None


def wrap_secret(sealing_key: bytes, email: str, secret: bytes) -> bytes:
    """The TOTP secret wrapped with the installation's sealing key, bound to the account."""
    nonce = os.urandom(12)
    return nonce + AESGCM(sealing_key).encrypt(nonce, secret, _label(email))


def unwrap_secret(sealing_key: bytes, email: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(sealing_key).decrypt(wrapped[:12], wrapped[12:], _label(email))
    except InvalidTag:
        raise InvalidInput(
            "this administrator's second factor cannot be unwrapped with this installation's sealing key"
        ) from None


def _label(email: str) -> bytes:
    return f"ballot/admin-totp/{email}".encode()
