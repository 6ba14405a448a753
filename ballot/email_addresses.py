"""Email addresses: the one rule for what is one, wherever an address enters.

A roster's members, an administrator created on the command line, the
address typed into "send me my links again": all go through
``normal_address``, which asks the email-validator package (syntax only; no
DNS lookups) and keeps the address in one form, lower-cased, so that the
same person is found however the membership system or the member typed it.

A roster of 100,000 members repeats a few thousand domains, and nearly every
local part is a plain dot-atom. The validator itself decides both parts: each
distinct domain is asked about once, and a plain ASCII local part is checked
with the validator's own dot-atom expression, which is exactly what the
validator accepts for it; anything else is checked whole.
"""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT

from ballot.errors import InvalidInput

# Longer addresses take the validator's full path, which measures them exactly.
_QUICK_LENGTH = 200


class AddressInvalid(InvalidInput):
    """Not an email address; ``reason`` says why, in the validator's words."""

    def __init__(self, address: str, reason: str):
        self.address, self.reason = address, reason
        super().__init__(f"{address!r} is not an email address: {reason}")


def normal_address(text: str) -> str:
    """The address in its one stored form, or ``AddressInvalid`` saying why it is not one."""
    address = text.strip()
    local, at, domain = address.rpartition("@")
    if at and len(address) <= _QUICK_LENGTH and DOT_ATOM_TEXT.match(local):
        normal_domain = _normal_domain(domain)
        if normal_domain is not None:
            return f"{local}@{normal_domain}".lower()
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AddressInvalid(address, str(exc).rstrip(".")) from None


@functools.lru_cache(maxsize=65536)
def _normal_domain(domain: str) -> str | None:
    """The validator's form of a domain, or None if it refuses it (the full check then says why)."""
    try:
        return validate_email(f"postmaster@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None
