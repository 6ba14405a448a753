"""Roster files uploaded in the console: kept for a day, previewed, then imported or discarded.

The confirmation imports exactly the file that was previewed (its SHA-256 is
checked), in the same unit of work that forgets it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import cast

from sqlalchemy import CursorResult, delete

from ballot.admin.models import RosterUpload
from ballot.audit import audit
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod
from ballot.errors import Conflict, NotFound
from ballot.extensions import db
from ballot.roster.services import ImportReport
from ballot.timestamps import utcnow

ROSTER_UPLOAD_LIFETIME = dt.timedelta(days=1)


def stage_roster_upload(
    period: EligibilityPeriod, data: bytes, filename: str, uploaded_by: str, now: dt.datetime | None = None,
) -> tuple[RosterUpload, ImportReport]:
    """Check a file and keep it for confirmation; returns it with what importing it would do.

    A file with any problem is refused (``RosterRefused``) and not kept.
    """
    now = now or utcnow()
    audit("roster.upload", str(period.year), filename=filename[:255], bytes=len(data))
    report = eligibility.import_roster(period, data, filename, dry_run=True, now=now)
    purge_expired_uploads(now)
    upload = RosterUpload(
        period_id=period.id, filename=filename[:255] or "roster", sha256=hashlib.sha256(data).hexdigest(),
        data=data, uploaded_by=uploaded_by, uploaded_at=now,
    )
    db.session.add(upload)
    db.session.flush()
    return upload, report


def roster_upload(period: EligibilityPeriod, upload_id: int, now: dt.datetime | None = None) -> RosterUpload:
    now = now or utcnow()
    upload = db.session.get(RosterUpload, upload_id) if 0 < upload_id < 2**31 else None
    if upload is None or upload.period_id != period.id or upload.uploaded_at < now - ROSTER_UPLOAD_LIFETIME:
        raise NotFound("this upload is gone: it was imported, discarded, or is more than a day old. "
                       "Upload the file again.")
    return upload


def preview_roster_upload(period: EligibilityPeriod, upload: RosterUpload) -> ImportReport:
    """What importing the kept file would do now (another import may have happened since the upload)."""
    return eligibility.import_roster(period, upload.data, upload.filename, dry_run=True)


def confirm_roster_upload(
    period: EligibilityPeriod, upload: RosterUpload, sha256: str, now: dt.datetime | None = None,
) -> ImportReport:
    """Import the kept file, exactly the one previewed, and forget it."""
    if sha256 != upload.sha256:
        raise Conflict("the confirmation is for another file than the one kept; upload it again")
    data, filename = upload.data, upload.filename
    db.session.delete(upload)
    return eligibility.import_roster(period, data, filename, now=now)


def discard_roster_upload(upload: RosterUpload) -> None:
    audit("roster.discard", str(db.session.get_one(EligibilityPeriod, upload.period_id).year), filename=upload.filename)
    db.session.delete(upload)
    db.session.flush()


def purge_expired_uploads(now: dt.datetime | None = None) -> int:
    """Delete uploads kept for more than a day (the worker does this every round)."""
    now = now or utcnow()
    # A DELETE's result is a CursorResult, which the session's types do not say.
    return cast(CursorResult, db.session.execute(
        delete(RosterUpload).where(RosterUpload.uploaded_at < now - ROSTER_UPLOAD_LIFETIME)
    )).rowcount
