"""Plain values that a roster file is parsed into, whatever its format.

These are the only shapes the rest of the service sees of a roster file: the
parsers in :mod:`ballot.roster.formats` produce them, the import service in
:mod:`ballot.roster.services` stores them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Membership classes of the model, by their canonical names.
BASIC = "basic"
SUPPORTING = "supporting"
SPONSOR = "sponsor"
MANAGING = "managing"
CONTRIBUTING = "contributing"
FELLOW = "fellow"
CLASSES = (BASIC, SUPPORTING, SPONSOR, MANAGING, CONTRIBUTING, FELLOW)


def display_name(given_name: str, family_name: str, email: str) -> str:
    """How mails, pages and exports name a person: their names, else their address."""
    if given_name and family_name:
        return f"{given_name} {family_name}"
    return given_name or family_name or email


@dataclass(frozen=True)
class MemberClass:
    """One class a member holds, with the dates it runs (``end`` None: open-ended or lifetime)."""

    name: str
    start: dt.date | None = None
    end: dt.date | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> MemberClass:
        return cls(
            d["name"],
            dt.date.fromisoformat(d["start"]) if d.get("start") else None,
            dt.date.fromisoformat(d["end"]) if d.get("end") else None,
        )


@dataclass(frozen=True, slots=True)
class RosterMember:
    """A person on the roster, merged from every line of the file that names them."""

    key: str  # stable id: the member id, else the python.org username, else the lower-cased email
    email: str
    given_name: str = ""
    family_name: str = ""
    classes: tuple[MemberClass, ...] = ()
    working_groups: tuple[str, ...] = ()
    delegate_for: tuple[str, ...] = ()  # Sponsor Members this person is a designated delegate of
    vote_affirmed_on: dt.date | None = None  # an opt-in confirmation carried by the export
    line: int = 0  # first line of the file that names this member (for messages)

    def as_dict(self) -> dict:
        """The stored form: every field that a re-import compares."""
        return {"email": self.email, "given_name": self.given_name, "family_name": self.family_name,
                **self.details()}

    def details(self) -> dict:
        """The stored form less the address and names (which the member's row holds in columns of their own)."""
        classes = sorted(self.classes, key=_class_order) if len(self.classes) > 1 else self.classes
        return {
            "classes": [c.as_dict() for c in classes],
            "working_groups": sorted(self.working_groups),
            "delegate_for": sorted(self.delegate_for),
            "vote_affirmed_on": self.vote_affirmed_on.isoformat() if self.vote_affirmed_on else None,
        }


def _class_order(c: MemberClass) -> tuple:
    return (c.name, c.start or dt.date.min, c.end or dt.date.max)


@dataclass(frozen=True)
class Problem:
    line: int  # 0 for the file as a whole
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class ParsedRoster:
    format: str  # "ballot-csv", "ballot-json", "pythonorg", "civicrm"
    members: list[RosterMember] = field(default_factory=list)
