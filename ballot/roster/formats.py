"""Read a roster file, as membership systems really export it, into plain values.

:func:`parse_roster` takes the raw bytes of an upload and returns a
:class:`~ballot.roster.records.ParsedRoster`, or raises :class:`RosterInvalid`
(an :class:`~ballot.errors.InvalidInput`) naming every problem in the file. Nothing here touches the database: a file is
accepted whole or refused whole before anything is stored.

Decisions, for the README:

Encoding
    A byte order mark decides: UTF-8 or UTF-16 (either byte order). Without one
    the file is read as UTF-8 and, if it is not valid UTF-8, as Windows-1252
    (what spreadsheet programs on Windows write). A file that holds valid UTF-8
    sequences *and* bytes that are not UTF-8 is refused rather than guessed,
    since reading it as Windows-1252 would silently garble the UTF-8 names.
    NUL characters are refused with a hint that the file may be UTF-16 without
    a byte order mark.

CSV or JSON
    A document whose first character (after the byte order mark and white
    space) is ``{`` or ``[`` is JSON; a file named ``*.json`` is read as JSON
    too, so that a broken one gets a JSON error; anything else is CSV.
    The CSV delimiter is a comma, a semicolon or a tab: the one that splits
    the header into a known format.

Formats
    Recognised from the CSV header or the JSON keys, case-insensitively and in
    any order. Unknown columns are ignored; the optional columns of a format
    may be missing altogether (they read as blank).

    * ``ballot-csv`` / ``ballot-json``, the service's own format. In CSV,
      ``classes`` is ``name:start:end`` entries separated by ``;`` (dates
      ``YYYY-MM-DD``, each optional: ``fellow:2019-05-01``, ``managing::``, a
      lifetime ``supporting:2020-01-01:``); ``working_groups`` and
      ``delegate_for`` are ``;``-separated names. In JSON the file is
      ``{"format": "ballot-roster/1", "members": [...]}`` with ``classes`` a
      list of ``{"name", "start", "end"}`` objects and JSON lists of names
      (the ``;``-joined text of the CSV is refused there). A member
      id on two lines, a class listed twice for one member (the roster gives
      each class once, with its current dates; the service keeps the history),
      and a ``sponsor`` class without ``delegate_for`` or the reverse are
      problems.
    * ``pythonorg``, python.org's membership export. The key is ``creator``,
      else the lower-cased email. ``membership_type`` is a label or a code (0
      Basic, 1 Supporting, 2 Sponsor, 3 Managing, 4 Contributing, 5 Fellow).
      Classes carry no dates: the export lists current memberships.
      ``vote_affirmed_on`` is the date written in ``last_vote_affirmation``
      (as written, not converted to UTC), kept only when ``votes`` is true;
      ``votes`` reads true/false, t/f, yes/no, 1/0 in any case, blank as false.
    * ``civicrm``, the administrator's CiviCRM extract. The key is the
      lower-cased email.

    Both exports name no Sponsor Member organisation, so a row of type Sponsor
    gives the person the ``sponsor`` class and delegate_for one organisation
    named ``sponsor:<key>``: one delegate right per such person.
    In both, rows naming the same key are one member: classes are united,
    names come from the first row that has them, the latest vote affirmation
    wins, and the member's line is the first such row. Labels may carry a
    trailing "Member" (``Fellow Member``); the legacy labels map as the
    model's transition says: Nominated -> fellow, Associate -> supporting,
    Emeritus -> basic.

Values
    Text is NFC-normalised and stripped; control characters are problems.
    Emails are checked and lower-cased by the service's one rule for an
    address (``ballot.email_addresses``, the email-validator package). Two
    keys with the same email are a problem in every format.

Lines
    Problems name the physical line of the file, the header being line 1; a
    record of a CSV file that spans lines (a quoted line break) is named by
    its first line. In JSON the line is where the member's ``{`` stands, and
    the message also names the record by its position ("record 3"), which
    still helps when the whole document is on one line. Problems with the
    file as a whole have line 0. Empty lines, and CSV rows whose fields are
    all blank, are skipped. A file naming no member is refused.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any, TypeVar

from ballot.email_addresses import AddressInvalid, normal_address
from ballot.errors import InvalidInput
from ballot.roster.records import (
    BASIC,
    CLASSES,
    CONTRIBUTING,
    FELLOW,
    MANAGING,
    SPONSOR,
    SUPPORTING,
    MemberClass,
    ParsedRoster,
    Problem,
    RosterMember,
)

BALLOT_JSON_FORMAT = "ballot-roster/1"


class RosterInvalid(InvalidInput):
    """A roster file refused whole; ``problems`` names every problem found, by line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        heading = f"the roster file was refused ({count} problem{'s' if count != 1 else ''}):"
        return "\n".join([heading, *(f"  {problem}" for problem in self.problems)])


def parse_roster(data: bytes, filename: str = "") -> ParsedRoster:
    """Parse a roster file in any supported format and encoding.

    ``filename`` is only a hint (a ``.json`` name makes a broken file report
    JSON errors); the content decides. Raises :class:`RosterInvalid` listing
    every problem unless the whole file is good.
    """
    problems: list[Problem] = []
    roster = ParsedRoster("")
    text = _decode(data, problems)
    if text is not None and not text.strip():
        problems.append(Problem(0, "the file is empty"))
    elif text is not None:
        if text.lstrip().startswith(("{", "[")) or filename.lower().endswith(".json"):
            format_name, layout, rows = _json_rows(text, problems)
        else:
            format_name, layout, rows = _csv_rows(text, problems)
        if layout is not None:
            roster = ParsedRoster(format_name, _collect(rows, layout, problems))
    if not roster.members and not problems:
        problems.append(Problem(0, "the file names no members"))
    if problems:
        raise RosterInvalid(problems)
    return roster


# --- Decoding -------------------------------------------------------------

# A multi-byte UTF-8 sequence: Windows-1252 text almost never contains one.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode(data: bytes, problems: list[Problem]) -> str | None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            problems.append(Problem(0, "the file starts with a UTF-16 byte order mark but is not valid UTF-16"))
            return None
    else:
        declared_utf8 = data.startswith(codecs.BOM_UTF8)
        body = data[len(codecs.BOM_UTF8) :] if declared_utf8 else data
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            if declared_utf8 or _UTF8_SEQUENCE.search(body):
                problems.append(_bad_byte(body, error, "is not UTF-8, but the file holds UTF-8 text"))
                return None
            try:
                text = body.decode("cp1252")
            except UnicodeDecodeError as error:
                problems.append(_bad_byte(body, error, "is neither UTF-8 nor Windows-1252"))
                return None
    if "\x00" in text:
        problems.append(
            Problem(0, "the file contains NUL characters (UTF-16 without a byte order mark?); save it as UTF-8")
        )
        return None
    return text


def _bad_byte(body: bytes, error: UnicodeDecodeError, what: str) -> Problem:
    line = body.count(b"\n", 0, error.start) + 1
    return Problem(line, f"byte 0x{body[error.start]:02x} {what}; save the file as UTF-8")


# --- Rows -----------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})


@dataclass(slots=True)
class _Row:
    """One member's record, CSV row or JSON object, with its fields keyed by column name.

    CSV fields are strings; JSON fields are whatever the document holds. The
    readers below accept both, and report each bad value as a problem.
    """

    line: int
    record: int  # position in the JSON list of members; 0 for a CSV row
    fields: dict[str, object]
    problems: list[Problem]

    @property
    def place(self) -> str:
        return _place(self.line, self.record)

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.line, f"record {self.record}: {message}" if self.record else message))

    def text(self, column: str) -> str:
        value = self.fields.get(column)
        if value.__class__ is str and (text := _tidy(value)) is not None:  # nearly every value, read at once
            return text
        return self.clean(column, value)

    def clean(self, column: str, value: object) -> str:
        """A value as tidy text; a non-text value or a control character is a problem."""
        if isinstance(value, str):
            text = _tidy(value)
            if text is None:
                self.problem(f"{column} contains a control character or line break")
            return text or ""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        self.problem(f"{column} must be text, not {type(value).__name__}")
        return ""

    def email(self, column: str) -> str:
        address = self.text(column)
        if not address:
            self.problem(f"{column} is blank")
            return ""
        try:
            return normal_address(address)
        except AddressInvalid as exc:
            self.problem(f"{column} {address!r} is not a valid email address: {exc.reason}")
            return ""

    def names(self, column: str) -> tuple[str, ...]:
        """A list of names: ``;``-separated text in CSV, a list of strings in JSON."""
        value = self.fields.get(column)
        if value in (None, "", []):
            return ()
        if isinstance(value, str) and not self.record:
            items: Sequence[object] = value.split(";")
        elif isinstance(value, list) and self.record:
            items = value
        else:
            self.problem(f"{column} must be a list of names")
            return ()
        return _unique(name for item in items if (name := self.clean(column, item)))

    def flag(self, column: str) -> bool:
        value = self.text(column).casefold()
        if value not in _TRUE | _FALSE:
            self.problem(f"{column} {value!r} is not true or false")
        return value in _TRUE

    def moment(self, column: str) -> dt.date | None:
        """The date of an ISO date or date and time, with or without a time zone, or blank."""
        text = self.text(column)
        if not text:
            return None
        try:
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            self.problem(f"{column} {text!r} is not an ISO date or date and time")
            return None


def _place(line: int, record: int) -> str:
    """Where a record is, for messages: its line, and in JSON its position too."""
    return f"line {line} (record {record})" if record else f"line {line}"


def _tidy(text: str) -> str | None:
    """The text NFC-normalised and stripped, or None if it holds a control character."""
    # isascii() and isprintable() are quick and true for nearly every value of a roster; an ASCII
    # character that is not printable is a control character
    if text.isascii():
        return text.strip() if text.isprintable() else None
    if not text.isprintable() and _CONTROL.search(text):
        return None
    return unicodedata.normalize("NFC", text).strip()


_T = TypeVar("_T")
_P = TypeVar("_P")


def _unique(items: Iterable[_T]) -> tuple[_T, ...]:
    """The items without repeats, in their first order."""
    return tuple(dict.fromkeys(items))


# --- Membership classes ---------------------------------------------------

_LABELS = {name: name for name in CLASSES} | {"nominated": FELLOW, "associate": SUPPORTING, "emeritus": BASIC}
_PYTHONORG_CODES = {"0": BASIC, "1": SUPPORTING, "2": SPONSOR, "3": MANAGING, "4": CONTRIBUTING, "5": FELLOW}


def _class_name(label: str) -> str | None:
    words = label.casefold().split()
    if len(words) == 2 and words[1] == "member":
        words = words[:1]
    return _LABELS.get(" ".join(words))


def _membership_type(row: _Row, column: str, codes: dict[str, str]) -> str | None:
    label = row.text(column)
    name = codes.get(label) or _class_name(label)
    if not label:
        row.problem(f"{column} is blank")
    elif name is None:
        row.problem(f"{column} {label!r} is not a known membership type")
    return name


def _export_member(
    row: _Row,
    key: str,
    email: str,
    class_name: str | None,
    given_name: str = "",
    family_name: str = "",
    vote_affirmed_on: dt.date | None = None,
) -> RosterMember:
    """A member from a row of an export that has one class per row and names no sponsor organisation."""
    return RosterMember(
        key=key,
        email=email,
        given_name=given_name,
        family_name=family_name,
        classes=(MemberClass(class_name),) if class_name else (),
        delegate_for=(f"sponsor:{key}",) if class_name == SPONSOR else (),
        vote_affirmed_on=vote_affirmed_on,
        line=row.line,
    )


# --- The three formats ----------------------------------------------------


def _read_ballot(row: _Row) -> RosterMember | None:
    key = row.text("member_id")
    if not key:
        row.problem("member_id is blank")
    email = row.email("email")
    classes = _ballot_classes(row)
    delegate_for = row.names("delegate_for")
    has_sponsor_class = SPONSOR in {member_class.name for member_class in classes}
    if has_sponsor_class and not delegate_for:
        row.problem("the sponsor class needs the Sponsor Member's name in delegate_for")
    elif delegate_for and not has_sponsor_class:
        row.problem("delegate_for needs a sponsor class with the sponsorship's dates")
    if not (key and email):
        return None
    return RosterMember(
        key=key,
        email=email,
        given_name=row.text("given_name"),
        family_name=row.text("family_name"),
        classes=classes,
        working_groups=row.names("working_groups"),
        delegate_for=delegate_for,
        line=row.line,
    )


def _ballot_classes(row: _Row) -> tuple[MemberClass, ...]:
    value = row.fields.get("classes")
    if isinstance(value, str) and not row.record:
        classes, problems = _listed_classes(value)
    else:
        entries: list[MemberClass | tuple[str, ...]] = []
        if isinstance(value, list) and row.record:
            for item in value:
                if isinstance(item, dict):
                    parts = (row.clean(f"class {key}", item.get(key)) for key in ("name", "start", "end"))
                    entries.append(_member_class(*parts))
                else:
                    row.problem('each class must be an object {"name": ..., "start": ..., "end": ...}')
        elif value is not None:
            row.problem("classes must be a list of classes")
        classes, problems = _classes(entries)
    for message in problems:
        row.problem(message)
    return classes


def _classes(entries: Iterable[MemberClass | tuple[str, ...]]) -> tuple[tuple[MemberClass, ...], tuple[str, ...]]:
    """A member's classes from their entries, each a class or what is wrong with it; and every problem."""
    classes: dict[str, MemberClass] = {}
    problems: list[str] = []
    for entry in entries:
        if not isinstance(entry, MemberClass):
            problems.extend(entry)
        elif entry.name in classes:
            problems.append(f"class {entry.name!r} is listed twice; give each class once, with its current dates")
        else:
            classes[entry.name] = entry
    if not classes and not problems:
        problems.append("classes names no membership class")
    return tuple(classes.values()), tuple(problems)


# Rosters repeat the same few class entries and lists of them, so reading each once saves most of the work.
@lru_cache(maxsize=16384)
def _listed_classes(text: str) -> tuple[tuple[MemberClass, ...], tuple[str, ...]]:
    """The classes of the own CSV's ``classes`` field (``name:start:end`` entries separated by ``;``)."""
    return _classes(_class_entry(entry) for entry in text.split(";") if entry.strip())


@lru_cache(maxsize=4096)
def _class_entry(entry: str) -> MemberClass | tuple[str, ...]:
    """A ``name:start:end`` entry of the own CSV format, or what is wrong with it."""
    parts = entry.split(":")
    if len(parts) > 3:
        return (f"class {entry.strip()!r} is not name:start:end",)
    label, start, end = (*parts, "", "")[:3]
    return _member_class(label, start, end)


@lru_cache(maxsize=4096)
def _member_class(label: str, start: str, end: str) -> MemberClass | tuple[str, ...]:
    """A class with its optional ISO dates, or what is wrong with them."""
    tidy = [_tidy(text) for text in (label, start, end)]
    if None in tidy:
        return ("class contains a control character or line break",)
    label, start, end = (text or "" for text in tidy)
    name = _class_name(label)
    start_date, end_date = _iso_date(start), _iso_date(end)
    errors = [] if name else [f"class {label!r} is not a membership class"]
    for what, text, day in (("start", start, start_date), ("end", end, end_date)):
        if text and day is None:
            errors.append(f"{what} of class {label!r} {text!r} is not a date (YYYY-MM-DD)")
    if start_date and end_date and end_date < start_date:
        errors.append(f"class {name or label!r} ends ({end_date}) before it starts ({start_date})")
    if name is None or errors:
        return tuple(errors)
    return MemberClass(name, start_date, end_date)


def _iso_date(text: str) -> dt.date | None:
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:  # no such day, as 2026-02-30
            pass
    return None


def _read_pythonorg(row: _Row) -> RosterMember | None:
    class_name = _membership_type(row, "membership_type", _PYTHONORG_CODES)
    email = row.email("email_address")
    key = row.text("creator") or email
    votes = row.flag("votes")
    affirmed = row.moment("last_vote_affirmation")
    if not email:
        return None
    return _export_member(row, key, email, class_name, vote_affirmed_on=affirmed if votes else None)


def _read_civicrm(row: _Row) -> RosterMember | None:
    class_name = _membership_type(row, "MembershipType", {})
    email = row.email("Email")
    if not email:
        return None
    return _export_member(
        row, email, email, class_name, given_name=row.text("FirstName"), family_name=row.text("LastName")
    )


@dataclass(frozen=True)
class _Layout:
    """A roster format: its columns (as documented), which must be present, and its reader."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    read: Callable[[_Row], RosterMember | None]
    merges_rows: bool  # rows repeating a key are one member; else a repeated key is a problem

    @cached_property
    def _columns_by_key(self) -> dict[str, str]:
        return {column: column for column in self.columns} | {column.casefold(): column for column in self.columns}

    def column_of(self, key: str) -> str | None:
        """This layout's column for a header cell or JSON key, matched loosely."""
        return self._columns_by_key.get(key) or self._columns_by_key.get(key.strip().casefold())

    def matches(self, keys: set[str]) -> bool:
        found = {self.column_of(key) for key in keys}
        return all(column in found for column in self.required)


_BALLOT = _Layout(
    "ballot",
    ("member_id", "given_name", "family_name", "email", "classes", "working_groups", "delegate_for"),
    ("member_id", "email", "classes"),
    _read_ballot,
    merges_rows=False,
)
_PYTHONORG = _Layout(
    "pythonorg",
    ("membership_type", "creator", "email_address", "votes", "last_vote_affirmation"),
    ("membership_type", "email_address"),
    _read_pythonorg,
    merges_rows=True,
)
_CIVICRM = _Layout(
    "civicrm",
    ("FirstName", "LastName", "MembershipType", "Email"),
    ("MembershipType", "Email"),
    _read_civicrm,
    merges_rows=True,
)
_LAYOUTS = (_BALLOT, _PYTHONORG, _CIVICRM)

_EXPECTED_FORMATS = (
    "expected one of: "
    f"{','.join(_BALLOT.columns)} (the service's own; in JSON "
    f'{{"format": "{BALLOT_JSON_FORMAT}", "members": [...]}}), '
    f"{','.join(_PYTHONORG.columns)} (python.org), "
    f"{','.join(_CIVICRM.columns)} (CiviCRM)"
)


def _layout_for(keys: set[str], line: int, what: str, problems: list[Problem]) -> _Layout | None:
    found = [layout for layout in _LAYOUTS if layout.matches(keys)]
    if len(found) > 1:
        names = " and ".join(layout.name for layout in found)
        problems.append(Problem(line, f"the {what} match more than one roster format ({names})"))
        return None
    if not found:
        problems.append(Problem(line, f"the {what} match no roster format; {_EXPECTED_FORMATS}"))
        return None
    return found[0]


def _known_columns(
    layout: _Layout, names: Iterable[str], places: Iterable[_P]
) -> tuple[tuple[str, ...], tuple[_P, ...]]:
    """The layout's columns among a header's cells or a record's keys (``names``), and where each is."""
    known = [(column, place) for name, place in zip(names, places, strict=True) if (column := layout.column_of(name))]
    return tuple(column for column, _ in known), tuple(place for _, place in known)


def _fields(columns: tuple[str, ...], places: tuple[_P, ...], record: Any) -> dict[str, object]:
    """A record's values by column: ``places`` are their indices in a CSV row or keys in a JSON object."""
    return dict(zip(columns, map(record.__getitem__, places), strict=True))


# --- CSV ------------------------------------------------------------------


def _csv_rows(text: str, problems: list[Problem]) -> tuple[str, _Layout | None, Iterator[_Row]]:
    records = _csv_records(text, _delimiter(text), problems)
    first = next(records, None)
    if first is None:
        return "", None, iter(())
    header_line, header = first
    layout = _layout_for(set(header), header_line, "header's columns", problems)
    if layout is None:
        return "", None, iter(())
    columns = [layout.column_of(cell) for cell in header]
    repeated = sorted({column for column in columns if column and columns.count(column) > 1})
    for column in repeated:
        problems.append(Problem(header_line, f"column {column!r} appears more than once in the header"))
    if repeated:
        return "", None, iter(())
    format_name = "ballot-csv" if layout is _BALLOT else layout.name
    return format_name, layout, _csv_members(records, header, layout, problems)


def _delimiter(text: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the header into a known format's columns."""
    header = next(line for line in io.StringIO(text, newline="") if line.strip())
    for delimiter in ",;\t":
        try:
            cells = set(next(csv.reader([header], delimiter=delimiter)))
        except csv.Error:  # the reader of the whole file reports it
            continue
        if any(layout.matches(cells) for layout in _LAYOUTS):
            return delimiter
    return ","


def _csv_records(text: str, delimiter: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """The CSV records that have a non-blank field, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True)
    start = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.append(Problem(start, f"the line is not valid CSV: {error}"))
        else:
            if "".join(values).strip():
                yield start, values
        start = reader.line_num + 1


def _csv_members(
    records: Iterator[tuple[int, list[str]]], header: list[str], layout: _Layout, problems: list[Problem]
) -> Iterator[_Row]:
    columns, places = _known_columns(layout, header, range(len(header)))
    every_column = places == tuple(range(len(header)))  # the usual header: the format's columns and no others
    for line, values in records:
        if len(values) != len(header):
            hint = " (an unquoted comma in a name?)" if len(values) > len(header) else ""
            problems.append(Problem(line, f"the row has {len(values)} fields but the header has {len(header)}{hint}"))
        else:
            fields: dict[str, object] = (dict(zip(columns, values, strict=True)) if every_column
                                         else _fields(columns, places, values))
            yield _Row(line, 0, fields, problems)


# --- JSON -----------------------------------------------------------------

_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")


def _json_rows(text: str, problems: list[Problem]) -> tuple[str, _Layout | None, Iterator[_Row]]:
    nothing: tuple[str, _Layout | None, Iterator[_Row]] = ("", None, iter(()))
    try:
        document, offsets = _load_json(text)
    except json.JSONDecodeError as error:
        problems.append(Problem(error.lineno, f"the file is not valid JSON: {error.msg} (column {error.colno})"))
        return nothing
    except (ValueError, RecursionError) as error:
        problems.append(Problem(0, f"the file is not valid JSON: {error}"))
        return nothing
    if isinstance(document, dict):
        records = document.get("members")
        if document.get("format") != BALLOT_JSON_FORMAT or not isinstance(records, list):
            problems.append(
                Problem(1, f'a JSON roster object must be {{"format": "{BALLOT_JSON_FORMAT}", "members": [...]}}')
            )
            return nothing
        layout: _Layout | None = _BALLOT
    elif isinstance(document, list):
        records = document
        if not records:
            return nothing
        keys = {key for record in records if isinstance(record, dict) for key in record}
        if _BALLOT.matches(keys):
            shape = f'{{"format": "{BALLOT_JSON_FORMAT}", "members": [...]}}'
            problems.append(Problem(1, f"the service's own format is an object {shape}"))
            return nothing
        layout = _layout_for(keys, 1, "JSON keys", problems)
    else:
        problems.append(Problem(1, "a JSON roster must be an object or a list of members"))
        return nothing
    if layout is None:
        return nothing
    format_name = "ballot-json" if layout is _BALLOT else layout.name
    return format_name, layout, _json_members(text, offsets, records, layout, problems)


def _json_members(
    text: str, offsets: list[int], records: list[object], layout: _Layout, problems: list[Problem]
) -> Iterator[_Row]:
    line, counted = 1, 0
    known: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}  # members mostly share their keys
    for number, (offset, record) in enumerate(zip(offsets, records, strict=True), start=1):
        line += text.count("\n", counted, offset)
        counted = offset
        if isinstance(record, dict):
            keys = tuple(record)
            if keys not in known:
                known[keys] = _known_columns(layout, keys, keys)
            yield _Row(line, number, _fields(*known[keys], record), problems)
        else:
            problems.append(Problem(line, f"record {number}: a member must be a JSON object"))


# The outer levels of a JSON roster are read here, and each member by the C decoder,
# so that one pass over the file also learns where every member starts.
def _load_json(text: str) -> tuple[object, list[int]]:
    """The JSON document, and where each member starts: each item of a top-level
    list, or of the list under the top-level key "members" (the last one, as in
    :func:`json.loads`). Raises :class:`json.JSONDecodeError` as json does.
    """
    decoder = json.JSONDecoder()
    offsets: list[int] = []
    offset = _skip_whitespace(text, 0)
    document: object
    if text.startswith("{", offset):
        document, offset = _read_object(text, offset, decoder, offsets)
    elif text.startswith("[", offset):
        document, offset = _read_array(text, offset, decoder, offsets)
    else:
        document, offset = decoder.raw_decode(text, offset)
    offset = _skip_whitespace(text, offset)
    if offset < len(text):
        raise json.JSONDecodeError("Extra data", text, offset)
    return document, offsets


def _read_object(text: str, offset: int, decoder: json.JSONDecoder, offsets: list[int]) -> tuple[dict, int]:
    document: dict[str, object] = {}
    offset = _skip_whitespace(text, offset + 1)
    if text.startswith("}", offset):
        return document, offset + 1
    while True:
        if not text.startswith('"', offset):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, offset)
        key, offset = decoder.raw_decode(text, offset)
        offset = _skip_whitespace(text, _expect(text, _skip_whitespace(text, offset), ":"))
        if key == "members" and text.startswith("[", offset):
            offsets.clear()
            document[key], offset = _read_array(text, offset, decoder, offsets)
        else:
            document[key], offset = decoder.raw_decode(text, offset)
        offset = _skip_whitespace(text, offset)
        if text.startswith("}", offset):
            return document, offset + 1
        offset = _skip_whitespace(text, _expect(text, offset, ","))


def _read_array(text: str, offset: int, decoder: json.JSONDecoder, offsets: list[int]) -> tuple[list, int]:
    items: list[object] = []
    offset = _skip_whitespace(text, offset + 1)
    if text.startswith("]", offset):
        return items, offset + 1
    while True:
        offsets.append(offset)
        item, offset = decoder.raw_decode(text, offset)
        items.append(item)
        offset = _skip_whitespace(text, offset)
        if text.startswith("]", offset):
            return items, offset + 1
        offset = _skip_whitespace(text, _expect(text, offset, ","))


def _expect(text: str, offset: int, delimiter: str) -> int:
    if not text.startswith(delimiter, offset):
        raise json.JSONDecodeError(f"Expecting {delimiter!r} delimiter", text, offset)
    return offset + 1


def _skip_whitespace(text: str, offset: int) -> int:
    found = _NOT_WHITESPACE.search(text, offset)
    return found.start() if found else len(text)


# --- Members --------------------------------------------------------------


def _collect(rows: Iterator[_Row], layout: _Layout, problems: list[Problem]) -> list[RosterMember]:
    """Read every row, merge or refuse repeated keys, and refuse an email shared by two keys."""
    by_key: dict[str, RosterMember] = {}
    places: dict[str, tuple[int, int]] = {}  # where each key is first named (line, record), for messages
    owners: dict[str, str] = {}  # the key each email belongs to
    for row in rows:
        member = layout.read(row)
        if member is None:
            continue
        first = by_key.get(member.key)
        if first is None:
            owner = owners.setdefault(member.email, member.key)
            if owner != member.key:
                row.problem(f"email {member.email} is also on {_place(*places[owner])}, for {owner!r}")
            by_key[member.key] = member
            places[member.key] = (row.line, row.record)
        elif not layout.merges_rows:
            row.problem(f"member_id {member.key!r} is also on {_place(*places[member.key])}")
        elif first.email != member.email:
            row.problem(f"{member.key!r} has email {member.email} here but {first.email} on "
                        f"{_place(*places[member.key])}")
        else:
            by_key[member.key] = _merge(first, member)
    return list(by_key.values())


def _merge(first: RosterMember, repeat: RosterMember) -> RosterMember:
    affirmed = [day for day in (first.vote_affirmed_on, repeat.vote_affirmed_on) if day]
    return replace(
        first,
        given_name=first.given_name or repeat.given_name,
        family_name=first.family_name or repeat.family_name,
        classes=_unique(first.classes + repeat.classes),
        working_groups=_unique(first.working_groups + repeat.working_groups),
        delegate_for=_unique(first.delegate_for + repeat.delegate_for),
        vote_affirmed_on=max(affirmed, default=None),
    )
