"""Administrator accounts, sign-in checks, the audit log, and staged roster uploads.

Every administrator action, on the web or the command line, adds its audit
event to the session *before* calling the service that does it: the
service's commit then writes both at once, and an action that fails (and is
rolled back) leaves no audit event.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import getpass
import hashlib
import io
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, select

from ballot.admin import credentials
from ballot.admin.models import Administrator, AuditEvent, RosterUpload
from ballot.audit import audit  # noqa: F401 - the console's and the commands' entry point
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod
from ballot.errors import Conflict, InvalidInput, NotFound
from ballot.extensions import db
from ballot.roster import services as roster
from ballot.timestamps import utcnow
from ballot.votes import services as votes
from ballot.votes.models import DRAFT, OPEN, Vote

ROSTER_UPLOAD_LIFETIME = dt.timedelta(days=1)


# The audit log ----------------------------------------------------------------------

def cli_actor() -> str:
    """Who runs a command: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def audit_page(page: int, per_page: int = 50) -> tuple[list[AuditEvent], int]:
    """One page of the audit log, newest first, and the number of pages."""
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    events = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(events), pages


# Accounts ---------------------------------------------------------------------------

def normal_email(email: str) -> str:
    return email.strip().lower()


def create_administrator(email: str, password: str, now: dt.datetime | None = None) -> tuple[Administrator, bytes]:
    """A new administrator; returns it and its TOTP secret, which is shown once to be put in an app."""
    email = normal_email(email)
    local, at, domain = email.partition("@")
    if not local or not at or "." not in domain or any(c.isspace() for c in email) or len(email) > 320:
        raise InvalidInput(f"{email!r} is not an email address")
    if db.session.scalar(select(Administrator).where(Administrator.email == email)) is not None:
        raise Conflict(f"there is already an administrator {email}")
    secret = credentials.new_totp_secret()
    admin = Administrator(
        email=email, password_hash=credentials.hash_password(password),
        totp_secret=credentials.wrap_secret(_sealing_key(), email, secret), created_at=now or utcnow(),
    )
    db.session.add(admin)
    db.session.commit()
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
    admin = db.session.scalar(select(Administrator).where(Administrator.email == normal_email(email)))
    if admin is None:
        raise NotFound(f"there is no administrator {normal_email(email)}")
    return admin


def disable_administrator(admin: Administrator, now: dt.datetime | None = None) -> None:
    """The account can no longer sign in; its sessions end at their next request."""
    if admin.disabled_at is not None:
        raise Conflict(f"{admin.email} is already disabled")
    admin.disabled_at = now or utcnow()
    db.session.commit()


def active_administrator(admin_id) -> Administrator | None:
    """The signed-in administrator of a session, if the account still exists and is enabled."""
    if not isinstance(admin_id, int) or not 0 < admin_id < 2**31:
        return None
    admin = db.session.get(Administrator, admin_id)
    return admin if admin is not None and admin.disabled_at is None else None


def check_password(email: str, password: str) -> Administrator | None:
    """The enabled administrator with this email and password, or None; as slow either way."""
    admin = db.session.scalar(select(Administrator).where(Administrator.email == normal_email(email)))
    matches = credentials.password_matches(admin.password_hash if admin else None, password)
    if not matches or admin.disabled_at is not None:
        return None
    if credentials.needs_rehash(admin.password_hash):
        admin.password_hash = credentials.hash_password(password)
        db.session.commit()
    return admin


def check_code(admin: Administrator, code: str, now: dt.datetime | None = None) -> bool:
    """Accept a TOTP code once; commits (with whatever audit event the caller added) when accepted.

    The account row is locked, so the same code sent twice at once is accepted once.
    """
    now = now or utcnow()
    admin = db.session.execute(
        select(Administrator).where(Administrator.id == admin.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if admin.disabled_at is not None:
        return False
    secret = credentials.unwrap_secret(_sealing_key(), admin.email, admin.totp_secret)
    step = credentials.accepted_step(secret, code, now.timestamp(), admin.totp_last_step)
    if step is None:
        return False
    admin.totp_last_step = step
    db.session.commit()
    return True


def _sealing_key() -> bytes:
    return base64.urlsafe_b64decode(current_app.config["BALLOT_SEALING_KEY"])


# Roster uploads: preview, then confirm ------------------------------------------------

def stage_roster_upload(
    period: EligibilityPeriod, data: bytes, filename: str, uploaded_by: str, now: dt.datetime | None = None,
) -> tuple[RosterUpload, roster.ImportReport]:
    """Check a file and keep it for confirmation; returns it with what importing it would do.

    A file with any problem is refused (``RosterRefused``) and not kept.
    """
    now = now or utcnow()
    report = roster.import_roster(period, data, filename, dry_run=True, now=now)
    _purge_expired(now)
    upload = RosterUpload(
        period_id=period.id, filename=filename[:255] or "roster", sha256=hashlib.sha256(data).hexdigest(),
        data=data, uploaded_by=uploaded_by, uploaded_at=now,
    )
    db.session.add(upload)
    db.session.commit()
    return upload, report


def roster_upload(period: EligibilityPeriod, upload_id: int, now: dt.datetime | None = None) -> RosterUpload:
    now = now or utcnow()
    upload = db.session.get(RosterUpload, upload_id) if 0 < upload_id < 2**31 else None
    if upload is None or upload.period_id != period.id or upload.uploaded_at < now - ROSTER_UPLOAD_LIFETIME:
        raise NotFound("this upload is gone: it was imported, discarded, or is more than a day old. Upload the file again.")
    return upload


def preview_roster_upload(period: EligibilityPeriod, upload: RosterUpload) -> roster.ImportReport:
    """What importing the kept file would do now (another import may have happened since the upload)."""
    return roster.import_roster(period, upload.data, upload.filename, dry_run=True)


def confirm_roster_upload(
    period: EligibilityPeriod, upload: RosterUpload, sha256: str, now: dt.datetime | None = None,
) -> roster.ImportReport:
    """Import the kept file, exactly the one previewed, and forget it, in one transaction."""
    if sha256 != upload.sha256:
        raise Conflict("the confirmation is for another file than the one kept; upload it again")
    data, filename = upload.data, upload.filename
    db.session.delete(upload)
    return roster.import_roster(period, data, filename, now=now)


def discard_roster_upload(upload: RosterUpload) -> None:
    db.session.delete(upload)
    db.session.commit()


def purge_expired_uploads(now: dt.datetime | None = None) -> int:
    """Delete uploads kept for more than a day (the worker calls this)."""
    count = _purge_expired(now or utcnow())
    db.session.commit()
    return count


def _purge_expired(now: dt.datetime) -> int:
    return db.session.execute(
        delete(RosterUpload).where(RosterUpload.uploaded_at < now - ROSTER_UPLOAD_LIFETIME)
    ).rowcount


# Exports ----------------------------------------------------------------------------

def csv_text(header: list[str], rows) -> str:
    """A CSV file; a cell that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class Dashboard:
    periods: list[tuple[EligibilityPeriod, eligibility.EnrolmentCounts]]
    votes_by_status: dict[str, int]
    open_votes: list[Vote]
    draft_votes: list[Vote]
    last_board: Vote | None


def dashboard() -> Dashboard:
    all_votes = votes.list_votes()
    counts: dict[str, int] = {}
    for vote in all_votes:
        counts[vote.status] = counts.get(vote.status, 0) + 1
    return Dashboard(
        periods=[(p, eligibility.enrolment_counts(p)) for p in eligibility.list_periods()],
        votes_by_status=counts,
        open_votes=[v for v in all_votes if v.status == OPEN],
        draft_votes=[v for v in all_votes if v.status == DRAFT],
        last_board=votes.last_board_election(),
    )
