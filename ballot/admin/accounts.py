"""Administrator accounts and the checks of a sign-in: password, then a second-factor code."""

from __future__ import annotations

import base64
import datetime as dt

from flask import current_app
from sqlalchemy import select

from ballot.admin import credentials
from ballot.admin.models import Administrator
from ballot.audit import audit
from ballot.email_addresses import normal_address
from ballot.errors import Conflict, NotFound
from ballot.extensions import db
from ballot.timestamps import utcnow


def create_administrator(email: str, password: str, now: dt.datetime | None = None) -> tuple[Administrator, bytes]:
    """A new administrator; returns it and its TOTP secret, which is shown once to be put in an app."""
    email = normal_address(email)
    if db.session.scalar(select(Administrator).where(Administrator.email == email)) is not None:
        raise Conflict(f"there is already an administrator {email}")
    secret = credentials.new_totp_secret()
    admin = Administrator(
        email=email, password_hash=credentials.hash_password(password),
        totp_secret=credentials.wrap_secret(_sealing_key(), email, secret), created_at=now or utcnow(),
    )
    audit("admin.create", email)
    db.session.add(admin)
    db.session.flush()
    return admin, secret


def totp_setup(email: str, secret: bytes) -> dict:
    """What an administrator types or scans into an authenticator app."""
    return {
        "secret": base64.b32encode(secret).decode("ascii"),
        "uri": credentials.provisioning_uri(secret, email, current_app.config["BALLOT_ADMIN_TOTP_ISSUER"]),
    }


def list_administrators() -> list[Administrator]:
    return list(db.session.scalars(select(Administrator).order_by(Administrator.email)))


def get_administrator_by_email(email: str) -> Administrator:
    email = email.strip().lower()
    admin = db.session.scalar(select(Administrator).where(Administrator.email == email))
    if admin is None:
        raise NotFound(f"there is no administrator {email}")
    return admin


def disable_administrator(admin: Administrator, now: dt.datetime | None = None) -> None:
    """The account can no longer sign in; its sessions end at their next request."""
    if admin.disabled_at is not None:
        raise Conflict(f"{admin.email} is already disabled")
    audit("admin.disable", admin.email)
    admin.disabled_at = now or utcnow()
    end_sessions(admin)


def change_password(admin: Administrator, password: str) -> None:
    """A new password; every session of the account ends (the second factor stays)."""
    admin.password_hash = credentials.hash_password(password)
    audit("admin.password", admin.email)
    end_sessions(admin)


def end_sessions(admin: Administrator) -> None:
    """End every session of the account, wherever its cookie is: the next generation begins."""
    admin.session_generation = Administrator.session_generation + 1  # in SQL: two at once both count
    db.session.flush()


def active_administrator(admin_id) -> Administrator | None:
    """The administrator of a session, if the account still exists and is enabled."""
    if not isinstance(admin_id, int) or not 0 < admin_id < 2**31:
        return None
    admin = db.session.get(Administrator, admin_id)
    return admin if admin is not None and admin.disabled_at is None else None


def session_administrator(admin_id, generation) -> Administrator | None:
    """The administrator of a session made in the account's current generation, if it is enabled."""
    admin = active_administrator(admin_id)
    if admin is None or type(generation) is not int or generation != admin.session_generation:
        return None
    return admin


def check_password(email: str, password: str) -> Administrator | None:
    """The enabled administrator with this email and password, or None (audited); as slow either way."""
    tried = email.strip().lower()
    admin = db.session.scalar(select(Administrator).where(Administrator.email == tried))
    matches = credentials.password_matches(admin.password_hash if admin else None, password)
    if admin is None or not matches or admin.disabled_at is not None:
        audit("sign-in.refused", actor=tried, step="password")  # the email tried, never the password
        return None
    if credentials.needs_rehash(admin.password_hash):
        admin.password_hash = credentials.hash_password(password)
    return admin


def check_code(admin: Administrator, code: str, now: dt.datetime | None = None) -> bool:
    """Accept a TOTP code once, and say so in the audit log either way.

    The account row is locked, so the same code sent twice at once is accepted once.
    """
    now = now or utcnow()
    admin = db.session.execute(
        select(Administrator).where(Administrator.id == admin.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    step = None
    if admin.disabled_at is None:
        secret = credentials.unwrap_secret(_sealing_key(), admin.email, admin.totp_secret)
        step = credentials.accepted_step(secret, code, now.timestamp(), admin.totp_last_step)
    if step is None:
        audit("sign-in.refused", actor=admin.email, step="code")
        return False
    audit("sign-in", actor=admin.email)
    admin.totp_last_step = step
    return True


def sign_out(admin: Administrator) -> None:
    """Sign out: this session and every other session of the account end."""
    audit("sign-out", actor=admin.email)
    end_sessions(admin)


def _sealing_key() -> bytes:
    return base64.urlsafe_b64decode(current_app.config["BALLOT_SEALING_KEY"])
