"""The roster parser: every format, encoding and real-file nastiness, problems by line."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ballot.errors import InvalidInput
from ballot.roster.formats import RosterInvalid, parse_roster
from ballot.roster.records import (
    BASIC,
    CLASSES,
    CONTRIBUTING,
    FELLOW,
    MANAGING,
    SPONSOR,
    SUPPORTING,
    MemberClass,
    Problem,
    RosterMember,
)

DATA = Path(__file__).parents[2] / "data" / "roster"

BALLOT_HEADER = "member_id,given_name,family_name,email,classes,working_groups,delegate_for"
PYTHONORG_HEADER = "membership_type,creator,email_address,votes,last_vote_affirmation"
CIVICRM_HEADER = "FirstName,LastName,MembershipType,Email"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def problems_of(data: bytes, filename: str = "") -> list[tuple[int, str]]:
    with pytest.raises(RosterInvalid) as refused:
        parse_roster(data, filename)
    return [(problem.line, problem.message) for problem in refused.value.problems]


def only_problem(data: bytes, filename: str = "") -> tuple[int, str]:
    problems = problems_of(data, filename)
    assert len(problems) == 1, problems
    return problems[0]


def ballot_csv(*rows: str) -> bytes:
    return "\n".join([BALLOT_HEADER, *rows, ""]).encode()


def without_lines(members: list[RosterMember]) -> list[RosterMember]:
    return [replace(member, line=0) for member in members]


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- The sample files -----------------------------------------------------

SAMPLE_BALLOT_MEMBERS = [
    RosterMember(
        key="M-0001",
        email="ada.lovelace@example.org",
        given_name="Ada",
        family_name="Lovelace",
        classes=(
            MemberClass(SUPPORTING, d("2026-01-15"), d("2027-01-14")),
            MemberClass(FELLOW, d("2019-05-01")),
            MemberClass(SPONSOR, d("2026-03-01"), d("2027-02-28")),
        ),
        delegate_for=("Analytical Engines Ltd",),
        line=2,
    ),
    RosterMember(
        key="M-0002",
        email="juergen.mueller@example.de",
        given_name="Jürgen",
        family_name="Müller",
        classes=(MemberClass(BASIC, d("2024-06-01")),),
        line=3,
    ),
    RosterMember(
        key="M-0003",
        email="maria.garcia@example.org",
        given_name="María",
        family_name="García, PhD",
        classes=(MemberClass(MANAGING, d("2026-02-01"), d("2027-01-31")),),
        working_groups=("Board", "Packaging WG"),
        line=4,
    ),
    RosterMember(
        key="M-0004",
        email="chen.wei@example.cn",
        given_name="Wei",
        family_name="Chen",
        classes=(MemberClass(CONTRIBUTING, d("2026-01-01"), d("2026-12-31")),),
        line=5,
    ),
    RosterMember(
        key="M-0005",
        email="sam.taylor@example.org",
        given_name="Sam (@sam_codes)",
        family_name="Taylor",
        classes=(MemberClass(SUPPORTING, d("2024-03-01"), d("2025-02-28")),),
        line=6,
    ),
    RosterMember(
        key="M-0006",
        email="olu.adeyemi@example.ng",
        given_name="Olu",
        family_name="Adeyemi",
        classes=(MemberClass(SUPPORTING, d("2020-01-01")),),
        line=7,
    ),
    RosterMember(
        key="M-0007",
        email="kai@example.org",
        given_name="Kai",
        classes=(MemberClass(FELLOW, d("2015-07-01")), MemberClass(MANAGING)),
        working_groups=("Code of Conduct WG",),
        line=8,
    ),
]

SAMPLE_PYTHONORG_MEMBERS = [
    RosterMember(
        key="ada",
        email="ada.lovelace@example.org",
        classes=(MemberClass(SUPPORTING), MemberClass(FELLOW)),
        vote_affirmed_on=d("2026-02-01"),
        line=2,
    ),
    RosterMember(key="jmueller", email="juergen.mueller@example.de", classes=(MemberClass(BASIC),), line=4),
    RosterMember(
        key="engines-rep",
        email="rep@engines.example.com",
        classes=(MemberClass(SPONSOR),),
        delegate_for=("sponsor:engines-rep",),
        vote_affirmed_on=d("2026-01-20"),
        line=5,
    ),
    RosterMember(
        key="cwei",
        email="chen.wei@example.cn",
        classes=(MemberClass(CONTRIBUTING),),
        vote_affirmed_on=d("2025-12-01"),
        line=6,
    ),
    RosterMember(
        key="mgarcia",
        email="maria.garcia@example.org",
        classes=(MemberClass(MANAGING),),
        vote_affirmed_on=d("2026-01-05"),
        line=7,
    ),
    # no creator: keyed by the email; votes "no", so the old affirmation is dropped
    RosterMember(key="kai@example.org", email="kai@example.org", classes=(MemberClass(FELLOW),), line=8),
]


def test_ballot_csv_sample() -> None:
    roster = parse_roster(sample("ballot.csv"), "ballot.csv")

    assert roster.format == "ballot-csv"
    assert roster.members == SAMPLE_BALLOT_MEMBERS


def test_ballot_json_sample_holds_the_same_members_with_the_lines_of_their_records() -> None:
    roster = parse_roster(sample("ballot.json"), "ballot.json")

    assert roster.format == "ballot-json"
    assert without_lines(roster.members) == without_lines(SAMPLE_BALLOT_MEMBERS)
    assert [member.line for member in roster.members] == [4, 17, 24, 33, 40, 47, 54]


@pytest.mark.parametrize("name", ["pythonorg.csv", "pythonorg.json"])
def test_pythonorg_samples(name: str) -> None:
    roster = parse_roster(sample(name), name)

    assert roster.format == "pythonorg"
    assert roster.members == SAMPLE_PYTHONORG_MEMBERS


def test_civicrm_sample_merges_repeated_emails_and_maps_legacy_labels() -> None:
    roster = parse_roster(sample("civicrm.csv"), "civicrm.csv")

    assert roster.format == "civicrm"
    by_key = {member.key: member for member in roster.members}
    assert list(by_key) == [
        "ada.lovelace@example.org",
        "maria.garcia@example.org",
        "sam.taylor@example.org",
        "kai@example.org",
        "juergen.mueller@example.de",
        "rep@engines.example.com",
        "chen.wei@example.cn",
    ]
    ada = by_key["ada.lovelace@example.org"]
    assert (ada.given_name, ada.family_name, ada.line) == ("Ada", "Lovelace", 2)
    assert ada.classes == (MemberClass(SUPPORTING), MemberClass(FELLOW))
    assert by_key["maria.garcia@example.org"].family_name == "García, PhD"
    assert by_key["sam.taylor@example.org"].classes == (MemberClass(SUPPORTING),)  # Associate Member
    assert by_key["kai@example.org"].classes == (MemberClass(FELLOW),)  # Nominated Member
    assert by_key["juergen.mueller@example.de"].classes == (MemberClass(BASIC),)  # Emeritus
    delegate = by_key["rep@engines.example.com"]
    assert (delegate.given_name, delegate.family_name) == ("", "")
    assert delegate.delegate_for == ("sponsor:rep@engines.example.com",)


def test_bad_sample_reports_every_problem_with_its_line() -> None:
    problems = problems_of(sample("bad.csv"))

    expected = [
        (3, "email 'bob@example' is not a valid email address: The part after the @-sign is not valid. "
            "It should have a period"),
        (4, "class 'wizard' is not a membership class"),
        (5, "member_id 'M-0001' is also on line 2"),
        (6, "email ada@example.org is also on line 2, for 'M-0001'"),
        (7, "class 'supporting' ends (2026-01-01) before it starts (2026-05-01)"),
        (9, "start of class 'fellow' '2026-02-30' is not a date (YYYY-MM-DD)"),
        (10, "member_id is blank"),
        (11, "the row has 8 fields but the header has 7 (an unquoted comma in a name?)"),
        (12, "classes names no membership class"),
        (13, "the sponsor class needs the Sponsor Member's name in delegate_for"),
    ]
    assert problems == expected


def test_refusal_is_invalid_input_and_names_every_problem_by_line() -> None:
    with pytest.raises(RosterInvalid) as refused:
        parse_roster(sample("bad.csv"))

    assert isinstance(refused.value, InvalidInput)
    text = str(refused.value)
    assert text.startswith("the roster file was refused (10 problems):")
    for problem in refused.value.problems:
        assert f"line {problem.line}: {problem.message}" in text


def test_a_problem_with_the_whole_file_reads_without_a_line() -> None:
    assert str(RosterInvalid([Problem(0, "the file is empty")])) == (
        "the roster file was refused (1 problem):\n  the file is empty"
    )


# --- Encodings ------------------------------------------------------------

MUELLER = f"{BALLOT_HEADER}\nM-1,Jürgen,Müller,j@example.de,fellow,,\n"


@pytest.mark.parametrize(
    "data",
    [
        MUELLER.encode("utf-8"),
        MUELLER.encode("utf-8-sig"),
        MUELLER.encode("cp1252"),
        MUELLER.encode("utf-16"),
        MUELLER.encode("utf-16-le").join([b"\xff\xfe", b""]),
        MUELLER.encode("utf-16-be").join([b"\xfe\xff", b""]),
        MUELLER.replace("\n", "\r\n").encode("utf-8-sig"),
        MUELLER.replace("\n", "\r\n").encode("utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "crlf-bom", "crlf-utf-16"],
)
def test_encodings(data: bytes) -> None:
    (member,) = parse_roster(data).members

    assert (member.given_name, member.family_name, member.line) == ("Jürgen", "Müller", 2)


def test_cp1252_punctuation_is_read_as_windows_1252() -> None:
    data = f"{CIVICRM_HEADER}\r\nJosé,O’Brien – Smith,Fellow,jose@example.org\r\n".encode("cp1252")

    (member,) = parse_roster(data).members

    assert member.family_name == "O’Brien – Smith"


def test_a_file_mixing_utf8_and_windows_1252_is_refused_at_the_first_bad_byte() -> None:
    data = (
        f"{CIVICRM_HEADER}\nJürgen,Müller,Fellow,j@example.de\n".encode()
        + "Zoë,Brown,Fellow,z@example.org\n".encode("cp1252")
    )

    assert only_problem(data) == (3, "byte 0xeb is not UTF-8, but the file holds UTF-8 text; save the file as UTF-8")


def test_a_utf8_byte_order_mark_followed_by_other_bytes_is_refused() -> None:
    data = codecs.BOM_UTF8 + f"{CIVICRM_HEADER}\nJürgen,Müller,Fellow,j@example.de\n".encode("cp1252")

    assert only_problem(data)[0] == 2


def test_bytes_undefined_in_windows_1252_are_refused_with_their_line() -> None:
    data = f"{CIVICRM_HEADER}\nA,B,Fellow,a@example.org\n".encode() + b"C,D\x81,Fellow,c@example.org\n"

    assert only_problem(data) == (3, "byte 0x81 is neither UTF-8 nor Windows-1252; save the file as UTF-8")


def test_utf16_without_a_byte_order_mark_is_refused_with_a_hint() -> None:
    line, message = only_problem(MUELLER.encode("utf-16-le"))

    assert line == 0
    assert "UTF-16 without a byte order mark" in message


def test_broken_utf16_is_refused() -> None:
    line, message = only_problem(MUELLER.encode("utf-16") + b"\x00")

    assert (line, message) == (0, "the file starts with a UTF-16 byte order mark but is not valid UTF-16")


def test_names_are_nfc_normalised_and_stripped() -> None:
    data = ballot_csv("  M-1 ,  Jo\u0308rg  ,Mu\u0308ller ,  J@Example.DE ,  fellow ,,")

    (member,) = parse_roster(data).members

    assert (member.key, member.given_name, member.family_name) == ("M-1", "Jörg", "Müller")
    assert unicodedata.is_normalized("NFC", member.given_name)
    assert member.email == "j@example.de"


# --- CSV shapes -----------------------------------------------------------


def test_crlf_blank_lines_and_trailing_blank_lines_keep_line_numbers() -> None:
    data = "\r\n".join(
        [
            "",
            CIVICRM_HEADER,
            "A,One,Fellow,a@example.org",
            "",
            ",,,",
            "   ",
            "B,Two,Fellow,not-an-email",
            "",
            "",
        ]
    ).encode()

    line, message = only_problem(data)
    assert line == 7 and message.startswith("Email 'not-an-email' is not a valid email address: ")


def test_commas_at_signs_and_quotes_inside_quoted_names() -> None:
    data = (
        f"{CIVICRM_HEADER}\n"
        '"Smith, Jr.","O\'Neil @ PyCon, ""The Boss""",Fellow,"smith@example.org"\n'
        '"Jane", "Doe, MD", Supporting , jane@example.org\n'
    ).encode()

    first, second = parse_roster(data).members

    assert (first.given_name, first.family_name) == ("Smith, Jr.", 'O\'Neil @ PyCon, "The Boss"')
    assert (second.family_name, second.classes) == ("Doe, MD", (MemberClass(SUPPORTING),))


def test_a_record_spanning_lines_is_named_by_its_first_line_and_later_lines_stay_right() -> None:
    data = (
        f"{CIVICRM_HEADER},Notes\n"
        'A,One,Fellow,a@example.org,"a note\nover two lines"\n'
        '"B\nB",Two,Fellow,b@example.org,\n'
        "C,Three,Wizard,c@example.org,\n"
    ).encode()

    assert problems_of(data) == [
        (4, "FirstName contains a control character or line break"),
        (6, "MembershipType 'Wizard' is not a known membership type"),
    ]


def test_unterminated_quote_is_a_problem_on_the_line_it_starts() -> None:
    data = f'{CIVICRM_HEADER}\nA,One,Fellow,a@example.org\n"B,Two,Fellow,b@example.org\n'.encode()

    assert only_problem(data) == (3, "the line is not valid CSV: unexpected end of data")


def test_malformed_quoting_is_reported_and_the_rest_still_read() -> None:
    data = f'{CIVICRM_HEADER}\n"A"x,One,Fellow,a@example.org\nB,Two,Wizard,b@example.org\n'.encode()

    assert problems_of(data) == [
        (2, "the line is not valid CSV: ',' expected after '\"'"),
        (3, "MembershipType 'Wizard' is not a known membership type"),
    ]


def test_a_field_over_the_csv_size_limit_is_a_problem_on_its_line() -> None:
    data = f'{CIVICRM_HEADER}\n"{"a" * 200_000}",One,Fellow,a@example.org\nB,Two,Wizard,b@example.org\n'.encode()

    assert problems_of(data) == [
        (2, "the line is not valid CSV: field larger than field limit (131072)"),
        (3, "MembershipType 'Wizard' is not a known membership type"),
    ]


def test_too_few_fields_is_a_problem() -> None:
    data = f"{CIVICRM_HEADER}\nA,One,Fellow\n".encode()

    assert only_problem(data) == (2, "the row has 3 fields but the header has 4")


def test_header_is_matched_loosely_and_unknown_columns_are_ignored() -> None:
    data = b" email ,Notes,MEMBERSHIPTYPE,lastname, firstname\nA@Example.org,likes tea,fellow,One,A\n"

    roster = parse_roster(data)

    assert roster.format == "civicrm"
    assert roster.members == [
        RosterMember(
            key="a@example.org",
            email="a@example.org",
            given_name="A",
            family_name="One",
            classes=(MemberClass(FELLOW),),
            line=2,
        )
    ]


def test_optional_columns_may_be_missing() -> None:
    roster = parse_roster(b"email_address,membership_type\nA@example.org,Fellow\n")

    assert roster.members == [
        RosterMember(key="a@example.org", email="a@example.org", classes=(MemberClass(FELLOW),), line=2)
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimited_files(delimiter: str) -> None:
    data = f"{CIVICRM_HEADER}\nA,One,Fellow,a@example.org\n".replace(",", delimiter).encode()

    (member,) = parse_roster(data).members

    assert (member.given_name, member.email) == ("A", "a@example.org")


def test_an_unknown_header_is_one_problem_naming_the_three_formats() -> None:
    line, message = only_problem(b"name,mail,type\nA,a@example.org,Fellow\nB,b@,Nonsense\n")

    assert line == 1
    for header in (BALLOT_HEADER, PYTHONORG_HEADER, CIVICRM_HEADER):
        assert header in message


def test_a_repeated_column_is_refused() -> None:
    assert only_problem(b"Email,MembershipType,email\na@example.org,Fellow,b@example.org\n") == (
        1,
        "column 'Email' appears more than once in the header",
    )


def test_a_header_matching_two_formats_is_refused() -> None:
    line, message = only_problem(b"email,membershiptype,email_address,membership_type\n")

    assert (line, message) == (1, "the header's columns match more than one roster format (pythonorg and civicrm)")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", (0, "the file is empty")),
        (b" \r\n\n\t\n", (0, "the file is empty")),
        (b"\xef\xbb\xbf", (0, "the file is empty")),
        (f"{CIVICRM_HEADER}\n\n,,,\n".encode(), (0, "the file names no members")),
        (b"[]", (0, "the file names no members")),
        (b'{"format": "ballot-roster/1", "members": []}', (0, "the file names no members")),
    ],
)
def test_a_file_without_members_is_refused(data: bytes, problem: tuple[int, str]) -> None:
    assert only_problem(data) == problem


# --- Values ---------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "a@b",
        "@b.org",
        "a b@c.org",
        "a@@b.org",
        "a@b@c.org",
        "a@b..org",
        "a@.b.org",
        "a@b.org.",
        "Ann <a@b.org>",
        "a,b@c.org",
    ],
)
def test_bad_emails_are_problems_on_their_line(address: str) -> None:
    data = f'{CIVICRM_HEADER}\nA,One,Fellow,a@example.org\nB,Two,Fellow,"{address}"\n'.encode()

    line, message = only_problem(data)

    assert line == 3
    assert "is not a valid email address: " in message


def test_a_blank_email_is_a_problem() -> None:
    assert only_problem(f"{CIVICRM_HEADER}\nA,One,Fellow,\n".encode()) == (2, "Email is blank")


def test_emails_are_lower_cased() -> None:
    (member,) = parse_roster(f"{CIVICRM_HEADER}\nA,B,Fellow,Ann.O+Tag@Example.COM\n".encode()).members

    assert member.email == member.key == "ann.o+tag@example.com"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Basic", BASIC),
        ("supporting", SUPPORTING),
        ("Supporting Member", SUPPORTING),
        (" FELLOW   member ", FELLOW),
        ("Managing", MANAGING),
        ("Contributing Member", CONTRIBUTING),
        ("Nominated Member", FELLOW),
        ("Nominated", FELLOW),
        ("Associate Member", SUPPORTING),
        ("Emeritus", BASIC),
        ("Emeritus Member", BASIC),
    ],
)
def test_membership_labels(label: str, expected: str) -> None:
    (member,) = parse_roster(f"{CIVICRM_HEADER}\nA,B,{label},a@example.org\n".encode()).members

    assert member.classes == (MemberClass(expected),)


@pytest.mark.parametrize("label", ["Gold", "Member", "Fellow Members", "1"])
def test_unknown_membership_types_are_problems(label: str) -> None:
    data = f"{CIVICRM_HEADER}\nA,B,Fellow,a@example.org\nC,D,{label},c@example.org\n".encode()

    assert only_problem(data) == (3, f"MembershipType {label!r} is not a known membership type")


def test_a_blank_membership_type_is_a_problem() -> None:
    assert only_problem(f"{CIVICRM_HEADER}\nA,B,,a@example.org\n".encode()) == (2, "MembershipType is blank")


def pythonorg(*rows: str) -> bytes:
    return "\n".join([PYTHONORG_HEADER, *rows, ""]).encode()


@pytest.mark.parametrize(
    ("code", "expected"),
    [("0", BASIC), ("1", SUPPORTING), ("2", SPONSOR), ("3", MANAGING), ("4", CONTRIBUTING), ("5", FELLOW)],
)
def test_pythonorg_type_codes(code: str, expected: str) -> None:
    (member,) = parse_roster(pythonorg(f"{code},u,u@example.org,,")).members

    assert member.classes == (MemberClass(expected),)


def test_pythonorg_unknown_code_is_a_problem() -> None:
    assert only_problem(pythonorg("6,u,u@example.org,,")) == (2, "membership_type '6' is not a known membership type")


@pytest.mark.parametrize("votes", ["true", "True", "TRUE", "1", "yes", "Yes", "t", "y"])
def test_pythonorg_votes_true_keeps_the_affirmation_date(votes: str) -> None:
    (member,) = parse_roster(pythonorg(f"Fellow,u,u@example.org,{votes},2026-03-04")).members

    assert member.vote_affirmed_on == d("2026-03-04")


@pytest.mark.parametrize("votes", ["false", "False", "0", "no", "f", "n", ""])
def test_pythonorg_votes_false_drops_the_affirmation_date(votes: str) -> None:
    (member,) = parse_roster(pythonorg(f"Fellow,u,u@example.org,{votes},2026-03-04")).members

    assert member.vote_affirmed_on is None


@pytest.mark.parametrize(
    "moment",
    [
        "2026-03-04",
        "2026-03-04 23:59:59",
        "2026-03-04T23:59:59Z",
        "2026-03-04T23:59:59.123456+02:00",
        "2026-03-04 10:00:00-05:00",
    ],
)
def test_pythonorg_affirmation_dates_and_times(moment: str) -> None:
    (member,) = parse_roster(pythonorg(f"Fellow,u,u@example.org,true,{moment}")).members

    assert member.vote_affirmed_on == d("2026-03-04")


def test_pythonorg_true_votes_without_a_date_carries_no_affirmation() -> None:
    (member,) = parse_roster(pythonorg("Fellow,u,u@example.org,true,")).members

    assert member.vote_affirmed_on is None


def test_pythonorg_bad_values_are_problems_on_their_lines() -> None:
    data = pythonorg(
        "Fellow,a,a@example.org,maybe,2026-03-04",
        "Fellow,b,b@example.org,true,04/03/2026",
        "Fellow,c,c@example.org,true,2026-02-30",
    )

    assert problems_of(data) == [
        (2, "votes 'maybe' is not true or false"),
        (3, "last_vote_affirmation '04/03/2026' is not an ISO date or date and time"),
        (4, "last_vote_affirmation '2026-02-30' is not an ISO date or date and time"),
    ]


def test_pythonorg_repeated_rows_merge_and_keep_the_latest_affirmation() -> None:
    (member,) = parse_roster(
        pythonorg(
            "Supporting,u,u@example.org,true,2025-01-01",
            "Fellow,u,u@example.org,true,2026-01-01",
            "Supporting,u,u@example.org,false,",
        )
    ).members

    assert member.classes == (MemberClass(SUPPORTING), MemberClass(FELLOW))
    assert (member.vote_affirmed_on, member.line) == (d("2026-01-01"), 2)


def test_pythonorg_one_user_with_two_emails_is_a_problem() -> None:
    data = pythonorg("Fellow,u,u@example.org,,", "Supporting,u,other@example.org,,")

    assert only_problem(data) == (3, "'u' has email other@example.org here but u@example.org on line 2")


def test_a_refused_repeat_does_not_claim_its_email() -> None:
    data = ballot_csv(
        "M-1,A,,a@example.org,fellow,,",
        "M-1,B,,b@example.org,fellow,,",
        "M-2,B,,b@example.org,fellow,,",
    )

    assert problems_of(data) == [(3, "member_id 'M-1' is also on line 2")]


def test_one_email_under_two_keys_is_a_problem() -> None:
    data = pythonorg("Fellow,u,u@example.org,,", "Supporting,,U@example.org,,")

    assert only_problem(data) == (3, "email u@example.org is also on line 2, for 'u'")


def test_a_sponsor_row_makes_the_person_delegate_of_one_organisation() -> None:
    (member,) = parse_roster(pythonorg("Sponsor,acme,rep@acme.example,,", "2,acme,rep@acme.example,,")).members

    assert member.classes == (MemberClass(SPONSOR),)
    assert member.delegate_for == ("sponsor:acme",)


# --- The service's own format ---------------------------------------------


def test_ballot_class_entries() -> None:
    (member,) = parse_roster(
        ballot_csv(
            "M-1,A,B,a@example.org,"
            "supporting:2020-01-01:;fellow:2019-05-01; managing:: ;Contributing Member::2027-01-01;Emeritus;,"
            " Board ; ;Packaging WG;Board,"
        )
    ).members

    assert member.classes == (
        MemberClass(SUPPORTING, d("2020-01-01")),
        MemberClass(FELLOW, d("2019-05-01")),
        MemberClass(MANAGING),
        MemberClass(CONTRIBUTING, None, d("2027-01-01")),
        MemberClass(BASIC),
    )
    assert member.working_groups == ("Board", "Packaging WG")


def test_ballot_class_problems() -> None:
    data = ballot_csv(
        "M-1,A,,a@example.org,fellow:2019-05-01:2020-01-01:x,,",
        "M-2,B,,b@example.org,supporting;Supporting:2026-01-01,,",
        "M-3,C,,c@example.org,fellow:20190501,,",
        "M-4,D,,d@example.org,basic,,Acme",
        "M-5,E,,e@example.org,basic;sponsor:2026-01-01:2026-12-31,,",
        "M-6,F,,f@example.org,fellow:2026-01-01:2026-01-01,,",
    )

    assert problems_of(data) == [
        (2, "class 'fellow:2019-05-01:2020-01-01:x' is not name:start:end"),
        (3, "class 'supporting' is listed twice; give each class once, with its current dates"),
        (4, "start of class 'fellow' '20190501' is not a date (YYYY-MM-DD)"),
        (5, "delegate_for needs a sponsor class with the sponsorship's dates"),
        (6, "the sponsor class needs the Sponsor Member's name in delegate_for"),
    ]


def test_ballot_json_record_lines_and_types() -> None:
    members = [
        {"member_id": 17, "email": "a@example.org", "classes": [{"name": "fellow"}]},
        {"member_id": "M-2", "email": "b@example.org", "classes": "fellow"},
        {"member_id": "M-3", "email": "c@example.org", "classes": ["fellow"], "working_groups": "Board"},
        "M-4",
        {"member_id": "M-5", "email": "e@example.org", "given_name": ["E"], "classes": [{"name": "basic"}]},
    ]
    text = json.dumps({"members": members, "format": "ballot-roster/1"}, indent=2)

    with pytest.raises(RosterInvalid) as refused:
        parse_roster(text.encode())

    lines = text.splitlines()
    record_lines = [number for number, line in enumerate(lines, start=1) if line in ("    {", '    "M-4",')]
    assert [(problem.line, problem.message) for problem in refused.value.problems] == [
        (record_lines[1], "record 2: classes must be a list of classes"),
        (record_lines[1], "record 2: classes names no membership class"),
        (record_lines[2], 'record 3: each class must be an object {"name": ..., "start": ..., "end": ...}'),
        (record_lines[2], "record 3: classes names no membership class"),
        (record_lines[2], "record 3: working_groups must be a list of names"),
        (record_lines[3], "record 4: a member must be a JSON object"),
        (record_lines[4], "record 5: given_name must be text, not list"),
    ]


def test_ballot_json_on_one_line_names_records_by_position() -> None:
    data = json.dumps(
        {
            "format": "ballot-roster/1",
            "members": [
                {"member_id": "M-1", "email": "a@example.org", "classes": [{"name": "fellow"}]},
                {"member_id": "M-2", "email": "b@example.org", "classes": [{"name": "wizard"}]},
                {"member_id": "M-1", "email": "c@example.org", "classes": [{"name": "fellow"}]},
                {"member_id": "M-4", "email": "a@example.org", "classes": [{"name": "fellow"}]},
            ],
        }
    ).encode()

    assert problems_of(data) == [
        (1, "record 2: class 'wizard' is not a membership class"),
        (1, "record 3: member_id 'M-1' is also on line 1 (record 1)"),
        (1, "record 4: email a@example.org is also on line 1 (record 1), for 'M-1'"),
    ]


def test_ballot_json_integer_member_id_reads_as_text() -> None:
    record = {"member_id": 17, "email": "a@example.org", "classes": [{"name": "fellow"}]}
    data = json.dumps({"format": "ballot-roster/1", "members": [record]}).encode()

    (member,) = parse_roster(data).members

    assert member.key == "17"


JSON_OBJECT_SHAPE = 'a JSON roster object must be {"format": "ballot-roster/1", "members": [...]}'


@pytest.mark.parametrize(
    ("document", "line", "message"),
    [
        ('{"members": []}', 1, JSON_OBJECT_SHAPE),
        ('{"format": "ballot-roster/2", "members": []}', 1, JSON_OBJECT_SHAPE),
        ('{"format": "ballot-roster/1", "members": {}}', 1, JSON_OBJECT_SHAPE),
        ('"members"', 1, "a JSON roster must be an object or a list of members"),
        (
            '[{"member_id": "M-1", "email": "a@example.org", "classes": []}]',
            1,
            'the service\'s own format is an object {"format": "ballot-roster/1", "members": [...]}',
        ),
        ('[\n  {"a": 1},\n  {"b": 2}\n]', 1, "the JSON keys match no roster format; expected one of: "),
        ('{\n  "format": "ballot-roster/1",\n  "members": [\n    {"member_id": "M-1",}\n  ]\n}', 4, "the file is not"),
        ('{\n  "format": "ballot-roster/1"\n  "members": []\n}', 3, "the file is not valid JSON: Expecting ','"),
        ('[\n  {"a": 1}\n  {"b": 2}\n]', 3, "the file is not valid JSON: Expecting ','"),
        ('{"format": "ballot-roster/1", "members": []} []', 1, "the file is not valid JSON: Extra data"),
        ("{'format': 1}", 1, "the file is not valid JSON: Expecting property name"),
    ],
)
def test_json_document_problems(document: str, line: int, message: str) -> None:
    problem = only_problem(document.encode(), "roster.json")

    assert problem[0] == line
    assert problem[1].startswith(message)


def test_a_json_file_name_reports_json_errors_for_a_broken_file() -> None:
    line, message = only_problem(b'  "format": "ballot-roster/1"}', "roster.JSON")

    assert line == 1
    assert message.startswith("the file is not valid JSON")


def test_content_decides_over_the_file_name() -> None:
    assert parse_roster(sample("ballot.json"), "roster.csv").format == "ballot-json"


def test_deeply_nested_json_is_refused() -> None:
    line, message = only_problem(b"[" * 100_000)

    assert line == 0 and message.startswith("the file is not valid JSON")


# --- Properties -----------------------------------------------------------


def clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


printable = st.characters(blacklist_categories=("Cc", "Cs"))
names = st.text(printable, max_size=12).map(clean).filter(lambda text: clean(text) == text)
list_names = names.filter(lambda text: bool(text) and ";" not in text)
# Addresses the email-validator package accepts: dot-atoms, hostname labels, real top-level domains.
# A label with "--" as its third and fourth characters is refused unless it is Punycode ("xn--").
emails = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z0-9_+-]{1,4}(\.[a-z0-9_+-]{1,4}){0,2}", fullmatch=True),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True).filter(lambda label: label[2:4] != "--"),
    st.sampled_from(["org", "com", "de"]),
)


@st.composite
def member_classes(draw: st.DrawFn, name: str) -> MemberClass:
    start = draw(st.none() | st.dates())
    end = draw(st.none() | st.dates(min_value=start or dt.date.min))
    return MemberClass(name, start, end)


@st.composite
def roster_members(draw: st.DrawFn) -> list[RosterMember]:
    people = draw(
        st.lists(
            st.tuples(names.filter(bool), emails), min_size=1, max_size=8, unique_by=(lambda p: p[0], lambda p: p[1])
        )
    )
    members = []
    for line, (key, email) in enumerate(people, start=2):
        delegate_for = tuple(draw(st.lists(list_names, max_size=2, unique=True)))
        individual_classes = st.sampled_from([name for name in CLASSES if name != SPONSOR])
        wanted = draw(st.lists(individual_classes, min_size=0 if delegate_for else 1, unique=True))
        classes = [draw(member_classes(name)) for name in wanted]
        if delegate_for:
            classes.append(draw(member_classes(SPONSOR)))
        members.append(
            RosterMember(
                key=key,
                email=email,
                given_name=draw(names),
                family_name=draw(names),
                classes=tuple(classes),
                working_groups=tuple(draw(st.lists(list_names, max_size=3, unique=True))),
                delegate_for=delegate_for,
                line=line,
            )
        )
    return members


def as_ballot_csv(members: list[RosterMember]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BALLOT_HEADER.split(","))
    for member in members:
        classes = ";".join(f"{c.name}:{c.start or ''}:{c.end or ''}" for c in member.classes)
        writer.writerow(
            [
                member.key,
                member.given_name,
                member.family_name,
                member.email,
                classes,
                ";".join(member.working_groups),
                ";".join(member.delegate_for),
            ]
        )
    return out.getvalue()


@given(roster_members(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_a_valid_roster_written_in_the_own_csv_format_parses_back_to_the_same_members(
    members: list[RosterMember], encoding: str
) -> None:
    roster = parse_roster(as_ballot_csv(members).encode(encoding))

    assert roster.format == "ballot-csv"
    assert roster.members == members


def refused_or_parsed(data: bytes, filename: str = "") -> None:
    try:
        parse_roster(data, filename)
    except RosterInvalid as refused:
        assert refused.problems and str(refused)


@given(st.binary(max_size=400), st.sampled_from(["", "x.csv", "x.json"]))
def test_garbage_bytes_are_refused_cleanly(data: bytes, filename: str) -> None:
    refused_or_parsed(data, filename)


@given(st.text(',;:\t\n\r "{}[]@.-aA1é\x00', max_size=200), st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_garbage_text_is_refused_cleanly(text: str, encoding: str) -> None:
    refused_or_parsed(text.encode(encoding, errors="replace"))


SAMPLES = ["ballot.csv", "ballot.json", "pythonorg.csv", "pythonorg.json", "civicrm.csv", "bad.csv"]


@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(0, 3000), st.binary(max_size=4)), max_size=5))
def test_damaged_samples_are_parsed_or_refused_cleanly(name: str, damage: list[tuple[int, bytes]]) -> None:
    data = sample(name)
    for position, junk in damage:
        position %= len(data) + 1
        data = data[:position] + junk + data[position + len(junk) :]
    refused_or_parsed(data, name)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=2)
    | st.dictionaries(st.sampled_from(["name", "start", "end", "x"]), inner, max_size=3),
    max_leaves=4,
)
ballot_keys = st.sampled_from(["member_id", "email", "classes", "given_name", "working_groups", "delegate_for", "name"])
pythonorg_keys = st.sampled_from(["membership_type", "email_address", "creator", "votes", "last_vote_affirmation"])


@given(
    st.lists(st.dictionaries(ballot_keys, json_values, max_size=4), max_size=3),
    st.lists(st.dictionaries(pythonorg_keys, json_values, max_size=4), max_size=3),
)
def test_json_of_any_shape_is_parsed_or_refused_cleanly(
    ballot_members: list[dict[str, object]], pythonorg_records: list[dict[str, object]]
) -> None:
    refused_or_parsed(json.dumps({"format": "ballot-roster/1", "members": ballot_members}).encode())
    refused_or_parsed(json.dumps(pythonorg_records).encode())
