"""Importing a roster's members into a period: validate whole, diff, store.

An import is part of one unit of work: a file with any problem writes nothing.
The same file imported twice changes nothing the second time (it is still
logged in the import history, with zero changes). The rights that members
hold are derived by eligibility (``ballot.eligibility.services.import_roster``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import Row, select, update

from ballot.bulk import insert_rows
from ballot.errors import InvalidInput
from ballot.extensions import db
from ballot.policy import Policy
from ballot.roster.formats import RosterInvalid, parse_roster
from ballot.roster.models import Member, RosterImport
from ballot.roster.records import Problem, RosterMember
from ballot.timestamps import utcnow


class RosterRefused(InvalidInput):
    """A roster file with problems; ``problems`` names each one by line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            f"the roster was refused, nothing was imported ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n" + "\n".join(f"  {p}" for p in problems)
        )


@dataclass
class ImportReport:
    format: str
    members: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rights_added: int = 0
    enrolled_from_roster: int = 0
    dry_run: bool = False
    present: list[RosterMember] = field(default_factory=list, repr=False)  # the members the file lists

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "members": self.members,
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "rights_added": self.rights_added,
            "enrolled_from_roster": self.enrolled_from_roster,
            "dry_run": self.dry_run,
            "changes": {"added": self.added, "changed": self.changed, "removed": self.removed},
        }


def read_roster(data: bytes, filename: str, policy: Policy) -> tuple[str, list[RosterMember]]:
    """Parse and check a roster file against the policy; every problem at once."""
    try:
        parsed = parse_roster(data, filename)
    except RosterInvalid as exc:
        raise RosterRefused(exc.problems) from None
    problems = [
        Problem(m.line, f"class {c.name!r} is not a class of this organisation ({policy.title})")
        for m in parsed.members
        for c in m.classes
        if c.name not in policy.enabled_classes
    ]
    if problems:
        raise RosterRefused(problems)
    return parsed.format, parsed.members


def import_members(
    period_id: int, policy: Policy, data: bytes, filename: str, *, dry_run: bool = False,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import a roster file's members into a period, or with ``dry_run`` only say what it would do.

    The rights the members hold are eligibility's to derive from ``report.present``
    (``ballot.eligibility.services.import_roster`` does both).
    """
    now = now or utcnow()
    fmt, incoming = read_roster(data, filename, policy)
    # Plain rows, not ORM objects: a roster of 100,000 would spend seconds on the identity map.
    existing = {
        m.key: m
        for m in db.session.execute(
            select(Member.id, Member.key, Member.email, Member.given_name, Member.family_name, Member.details,
                   Member.removed_at)
            .where(Member.period_id == period_id)
        )
    }
    report = ImportReport(format=fmt, members=len(incoming), dry_run=dry_run, present=incoming)
    new_rows, changed_rows = [], []
    for member in incoming:
        stored = existing.get(member.key)
        row = _member_row(period_id, member)
        if stored is None or stored.removed_at is not None:
            report.added.append(member.key)
            if stored is None:
                new_rows.append(row)
            else:
                changed_rows.append((stored, row))
        elif _stored_form(stored) != _stored_form_of(row):
            report.changed.append(member.key)
            changed_rows.append((stored, row))
    keys = {m.key for m in incoming}
    gone = [m for key, m in existing.items() if key not in keys and m.removed_at is None]
    report.removed = [m.key for m in gone]
    changes = (
        [{"key": k, "change": "added"} for k in report.added]
        + [{"key": k, "change": "changed"} for k in report.changed]
        + [{"key": k, "change": "removed"} for k in report.removed]
    )
    if dry_run:
        return report

    if new_rows:
        # Core inserts: the ORM's bulk path costs about as much again in per-row
        # bookkeeping, seconds for a roster of 100,000.
        insert_rows(Member.__table__, new_rows)
    updates = [
        {"id": stored.id, **{name: row[name] for name in ("email", "given_name", "family_name", "details")},
         "removed_at": None}
        for stored, row in changed_rows
    ] + [{"id": member.id, "removed_at": now} for member in gone]
    if updates:
        db.session.execute(update(Member), updates)  # the ORM's bulk UPDATE, by primary key
    db.session.add(
        RosterImport(
            period_id=period_id, imported_at=now, format=fmt, filename=filename[:255],
            sha256=hashlib.sha256(data).hexdigest(), members=len(incoming),
            added=len(report.added), changed=len(report.changed), removed=len(report.removed),
            changes=changes,
        )
    )
    db.session.flush()
    return report


def _member_row(period_id: int, member: RosterMember) -> dict:
    details = member.as_dict()
    return {
        "period_id": period_id,
        "key": member.key,
        "email": details.pop("email"),
        "given_name": details.pop("given_name"),
        "family_name": details.pop("family_name"),
        "details": details,
    }


def _stored_form(member: Row) -> tuple:
    return (member.email, member.given_name, member.family_name, member.details)


def _stored_form_of(row: dict) -> tuple:
    return (row["email"], row["given_name"], row["family_name"], row["details"])


def import_history(period_id: int) -> list[RosterImport]:
    return list(
        db.session.scalars(
            select(RosterImport).where(RosterImport.period_id == period_id).order_by(RosterImport.id)
        )
    )
