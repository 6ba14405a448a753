"""A trustee's key pair: made on the trustee's own machine, and its private half never leaves it.

- X25519, the kind of a vote's key, so that a share is sealed to a trustee with
  the same HPKE suite as a ballot (``ballot.sealing.SUITE``).
- The private key is a PKCS#8 PEM file encrypted under the trustee's
  passphrase. Its format stretches the passphrase little (PBKDF2, 2048
  rounds, as ``cryptography`` writes it), so the passphrase must itself be
  hard to guess: hence a minimum length, and the advice to use several words.
- The public key is a PEM file the administrator registers. A key is named
  everywhere by one fingerprint: SHA-256 of the raw public key, as 16 groups
  of 4 upper-case hex digits, so that a trustee and the administrator can
  compare it aloud.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from ballot.errors import InvalidInput

MIN_PASSPHRASE_LENGTH = 12
PUBLIC_KEY_SUFFIX = ".pub"
_RAW = serialization.Encoding.Raw


@dataclass(frozen=True)
class TrusteeKey:
    """A new trustee key pair as the files hold it: the private key encrypted, the public key, its fingerprint."""

    private_pem: bytes
    public_pem: bytes
    fingerprint: str


def fingerprint(public_key: bytes) -> str:
    """The one name of a public key (raw X25519 bytes): e.g. ``3F2A 9C01 ... 77B0``, 16 groups of 4 hex digits."""
    digest = hashlib.sha256(public_key).hexdigest().upper()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def raw_public_key(private_key: X25519PrivateKey) -> bytes:
    """The raw 32 bytes of a private key's public half, as fingerprints and HPKE take them."""
    return private_key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to protect a key file that may be copied."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise InvalidInput(
            f"the passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters long (several words are best)"
        )


def new_trustee_key(passphrase: str) -> TrusteeKey:
    """A fresh X25519 key pair, its private half encrypted under ``passphrase``."""
    check_passphrase(passphrase)
    private_key = X25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return TrusteeKey(private_pem, public_pem, fingerprint(raw_public_key(private_key)))


def public_key_path(private_path: Path) -> Path:
    """Where the public key is written beside a private key file: ``NAME.key`` gives ``NAME.pub``."""
    return private_path.with_suffix(PUBLIC_KEY_SUFFIX)


def check_new_key_file(private_path: Path) -> Path:
    """Refuse to write over an existing key file or its public key; the public key's path."""
    public_path = public_key_path(private_path)
    if private_path.suffix == PUBLIC_KEY_SUFFIX:
        raise InvalidInput(f"{private_path} would be the public key's name: name the private key file NAME.key")
    for path in (private_path, public_path):
        if path.exists():
            raise InvalidInput(f"{path} exists already; it was kept (choose another name)")
    return public_path


def write_trustee_key(private_path: Path, passphrase: str) -> tuple[Path, str]:
    """Make a key pair and write its two files; the public key's path and the fingerprint.

    Neither file is ever overwritten: a trustee's key that was registered for
    a vote must not be lost to a second run. The private key file is created
    with mode 0600 from the start, so it is never readable by others, not even
    for a moment.
    """
    public_path = check_new_key_file(private_path)
    key = new_trustee_key(passphrase)
    _write_new(private_path, key.private_pem, 0o600)
    try:
        _write_new(public_path, key.public_pem, 0o644)
    except OSError:
        private_path.unlink()  # a private key without its public half would only mislead
        raise
    return public_path, key.fingerprint


def load_trustee_public_key(pem: bytes | str) -> bytes:
    """The raw public key of a trustee's ``.pub`` file (PEM), refused plainly if it is not one."""
    if isinstance(pem, str):
        pem = pem.encode()
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise InvalidInput("this is not a public key file (PEM) made by `ballot trustee keygen`") from None
    if not isinstance(key, X25519PublicKey):
        raise InvalidInput("this public key is not a trustee's key (X25519)")
    return key.public_bytes(_RAW, serialization.PublicFormat.Raw)


def load_trustee_private_key(pem: bytes, passphrase: str) -> X25519PrivateKey:
    """Open a trustee's private key file with its passphrase; any failure is a plain error."""
    try:
        key = serialization.load_pem_private_key(pem, passphrase.encode())
    except TypeError:  # the file is not encrypted: not one that `ballot trustee keygen` writes
        raise InvalidInput("this key file is not protected by a passphrase: it is not a trustee's key file") from None
    except ValueError:
        if b"ENCRYPTED PRIVATE KEY" in pem:
            raise InvalidInput("the passphrase does not open this key file") from None
        raise InvalidInput("this is not a trustee's key file (an encrypted PEM private key)") from None
    if not isinstance(key, X25519PrivateKey):
        raise InvalidInput("this key file does not hold a trustee's key (X25519)")
    return key


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: fail rather than replace a file that appeared since the check above.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
