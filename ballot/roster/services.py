"""Importing a roster's members into a period: validate whole, diff, store.

An import is part of one unit of work: a file with any problem writes nothing.
The same file imported twice changes nothing the second time (it is still
logged in the import history, with zero changes). The rights that members
hold are derived by eligibility (``ballot.eligibility.services.import_roster``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace

from sqlalchemy import Row, Text, cast, select, update

from ballot.bulk import JSONText, insert_rows, read_rows
from ballot.errors import InvalidInput
from ballot.extensions import db
from ballot.policy import Policy
from ballot.roster.formats import RosterInvalid, parse_roster
from ballot.roster.models import Member, RosterImport
from ballot.roster.records import Problem, RosterMember, display_name
from ballot.timestamps import utcnow


class RosterRefused(InvalidInput):
    """A roster file with problems; ``problems`` names each one by line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            f"the roster was refused, nothing was imported ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n" + "\n".join(f"  {p}" for p in problems)
        )


# What a re-import can change of a member, in the preview's words (the stored form's fields).
FIELD_WORDS = {"key": "member id", "email": "email", "given_name": "name", "family_name": "name",
               "classes": "classes", "working_groups": "working groups", "delegate_for": "delegate for",
               "vote_affirmed_on": "opt-in in the membership system"}


@dataclass(slots=True)
class MemberChange:
    """A member an import adds, changes or removes, by name, with what changes; eligibility adds the
    voting rights gained and lost."""

    key: str
    name: str
    email: str
    change: str  # "added", "changed", "removed"
    fields: list[str] = field(default_factory=list)
    rights_gained: list[str] = field(default_factory=list)
    rights_lost: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "email": self.email, "change": self.change,
                "fields": self.fields, "rights_gained": self.rights_gained, "rights_lost": self.rights_lost}


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
    # Members read under a policy's class alias, per retired class (psf-bylaws 4.6: Managing as Contributing).
    aliased: dict[str, int] = field(default_factory=dict)
    # Members matched to an earlier import's by email, the file keying members differently (another format).
    rekeyed: list[str] = field(default_factory=list)
    # Each member added, changed or removed, by name with the changed fields (the preview shows them).
    member_changes: list[MemberChange] = field(default_factory=list, repr=False)
    previous_keys: dict[str, str] = field(default_factory=dict, repr=False)  # a rekeyed member's earlier key
    # The stored details, before the import, of each member on the roster that it changes or removes
    # (by their earlier key): eligibility's rights before the import, without reading every member.
    before: dict[str, dict] = field(default_factory=dict, repr=False)
    # The id of each member of the file that the period held already (by the key in the file).
    stored_ids: dict[str, int] = field(default_factory=dict, repr=False)
    # Voting rights that would qualify after the import and did not before, and the reverse (eligibility's).
    rights_gained: int = 0
    rights_lost: int = 0

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
            "aliased": self.aliased,
            "rekeyed": len(self.rekeyed),
            "changes": {"added": self.added, "changed": self.changed, "removed": self.removed},
            "rights_gained": self.rights_gained,
            "rights_lost": self.rights_lost,
            "members_changed": [c.as_dict() for c in self.member_changes],
        }


def read_roster(data: bytes, filename: str, policy: Policy) -> tuple[str, list[RosterMember], dict[str, int]]:
    """Parse and check a roster file against the policy; every problem at once.

    A class the organisation no longer has is read as the class the policy's
    aliases name (psf-bylaws 4.6: "All active Managing Members ... shall be
    re-certified as Contributing Members"), keeping its dates; any other class
    the policy lacks refuses the file.
    """
    try:
        parsed = parse_roster(data, filename)
    except RosterInvalid as exc:
        raise RosterRefused(exc.problems) from None
    retired = _retired_classes(parsed.members, policy)
    members = [aliased(m, policy) for m in parsed.members] if retired else parsed.members
    problems = [
        Problem(m.line, f"class {c.name!r} is not a class of this organisation ({policy.title})")
        for m in members
        for c in m.classes
        if c.name not in policy.enabled_classes
    ]
    if problems:
        raise RosterRefused(problems)
    return parsed.format, members, retired


def aliased(member: RosterMember, policy: Policy) -> RosterMember:
    """The member with each retired class read as the class the policy maps it to."""
    if not any(c.name in policy.class_aliases for c in member.classes):
        return member
    classes = tuple(replace(c, name=policy.class_aliases.get(c.name, c.name)) for c in member.classes)
    return replace(member, classes=tuple(dict.fromkeys(classes)))


def _retired_classes(members: list[RosterMember], policy: Policy) -> dict[str, int]:
    """How many members hold each retired class the policy reads as another."""
    counts: dict[str, int] = {}
    for member in members:
        for name in {c.name for c in member.classes if c.name in policy.class_aliases}:
            counts[name] = counts.get(name, 0) + 1
    return counts


def import_members(
    period_id: int, policy: Policy, data: bytes, filename: str, *, dry_run: bool = False,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import a roster file's members into a period, or with ``dry_run`` only say what it would do.

    The rights the members hold are eligibility's to derive from ``report.present``
    and ``report.before`` (``ballot.eligibility.services.import_roster`` does both).
    """
    now = now or utcnow()
    fmt, incoming, retired = read_roster(data, filename, policy)
    # Plain rows, not ORM objects: a roster of 100,000 would spend seconds on the identity map. The
    # details as stored (JSON text): most members are as the last import left them, and comparing the
    # text tells so without decoding every member's details.
    existing = {
        m.key: m
        for m in read_rows(
            select(Member.id, Member.key, Member.email, Member.given_name, Member.family_name,
                   cast(Member.details, Text).label("details_json"), Member.removed_at)
            .where(Member.period_id == period_id)
        )
    }
    report = ImportReport(format=fmt, members=len(incoming), dry_run=dry_run, present=incoming, aliased=retired)
    keys = {m.key for m in incoming}
    by_email = _unmatched_by_email(existing, keys, incoming)
    new_rows, changed = [], []
    written: dict[tuple, JSONText] = {}  # the details' JSON text, by the values it is written from
    for member in incoming:
        stored = existing.get(member.key)
        if stored is None and member.email in by_email:
            # The same person under another key: the file comes from another format (python.org keys by
            # username, CiviCRM by email). Keeping the member keeps their rights and enrolments.
            stored = by_email.pop(member.email)
            report.rekeyed.append(member.key)
            report.previous_keys[member.key] = stored.key
            existing[member.key] = existing.pop(stored.key)
        if stored is None:
            report.added.append(member.key)
            report.member_changes.append(_change(member, "added"))
            new_rows.append(_member_row(period_id, member, _details_json(member, written)))
            continue
        report.stored_ids[member.key] = stored.id
        if stored.removed_at is not None and stored.key == member.key:
            report.added.append(member.key)
            report.member_changes.append(_change(member, "added"))
            changed.append((stored, member))
        elif stored.key != member.key or not _same_form(stored, member, _details_json(member, written)):
            details = json.loads(stored.details_json)
            if stored.removed_at is None:
                report.before[stored.key] = details
            fields = _changed_fields(stored, details, member)
            report.changed.append(member.key)
            changed.append((stored, member))
            report.member_changes.append(
                _change(member, "changed", ["member id", *fields] if stored.key != member.key else fields))
    gone = [m for key, m in existing.items() if key not in keys and m.removed_at is None]
    report.removed = [m.key for m in gone]
    report.before.update((m.key, json.loads(m.details_json)) for m in gone)
    report.member_changes += [
        MemberChange(m.key, display_name(m.given_name, m.family_name, m.email), m.email, "removed") for m in gone]
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
        {"id": stored.id, "key": member.key, "email": member.email, "given_name": member.given_name,
         "family_name": member.family_name, "details": member.details(), "removed_at": None}
        for stored, member in changed
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


def _change(member: RosterMember, change: str, fields: list[str] | None = None) -> MemberChange:
    return MemberChange(member.key, display_name(member.given_name, member.family_name, member.email),
                        member.email, change, fields or [])


def _unmatched_by_email(existing: dict[str, Row], keys: set[str], incoming: list[RosterMember]) -> dict[str, Row]:
    """Members of earlier imports whose key the file lacks, by email, for the file's members whose key is new.

    Refused where the address does not say who is who: two such members share it.
    """
    unmatched = [m for m in incoming if m.key not in existing]
    if not unmatched:
        return {}
    wanted = {m.email for m in unmatched}
    found: dict[str, list[Row]] = {}
    for stored in existing.values():
        if stored.key not in keys and stored.email in wanted:
            found.setdefault(stored.email, []).append(stored)
    problems = [
        Problem(m.line, f"{m.key!r} is new to this period, and the earlier members "
                        f"{', '.join(repr(s.key) for s in found[m.email])} share its address {m.email}: which one "
                        "it is cannot be told, so their enrolments would be lost; import a file keyed as before")
        for m in unmatched if len(found.get(m.email, [])) > 1
    ]
    if problems:
        raise RosterRefused(problems)
    return {email: rows[0] for email, rows in found.items()}


def _member_row(period_id: int, member: RosterMember, details_json: JSONText) -> dict:
    return {
        "period_id": period_id,
        "key": member.key,
        "email": member.email,
        "given_name": member.given_name,
        "family_name": member.family_name,
        "details": details_json,
    }


def _details_json(member: RosterMember, written: dict[tuple, JSONText]) -> JSONText:
    """The member's details as the JSON text the database holds (``json.dumps`` of ``details()``,
    as every write makes it), written once for all the members with the same details (``written``):
    a roster of 100,000 has a few thousand different ones."""
    values = (member.classes, member.working_groups, member.delegate_for, member.vote_affirmed_on)
    text = written.get(values)
    if text is None:
        text = written[values] = JSONText(json.dumps(member.details()))
    return text


def _same_form(stored: Row, member: RosterMember, details_json: str) -> bool:
    """Whether a stored member is what the file says: the same names, address and details.

    The details are compared as JSON text (``details_json``, the file's); text that differs is
    decoded and compared as values, so that a change of how the text is written cannot make an
    unchanged member look changed.
    """
    if (stored.email, stored.given_name, stored.family_name) != (member.email, member.given_name, member.family_name):
        return False
    return stored.details_json == details_json or json.loads(stored.details_json) == member.details()


def _changed_fields(stored: Row, details: dict, member: RosterMember) -> list[str]:
    """What differs between a stored member (``details`` its stored details) and the file's, in the
    preview's words, each once."""
    before = {"email": stored.email, "given_name": stored.given_name, "family_name": stored.family_name, **details}
    after = member.as_dict()
    return list(dict.fromkeys(FIELD_WORDS[name] for name in FIELD_WORDS
                              if name != "key" and before.get(name) != after.get(name)))


def import_history(period_id: int) -> list[RosterImport]:
    return list(
        db.session.scalars(
            select(RosterImport).where(RosterImport.period_id == period_id).order_by(RosterImport.id)
        )
    )
