"""Importing the roster through `ballot roster import`: formats, refusals, dry runs, re-imports, history."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ballot.eligibility.models import Enrollment, VotingRight
from ballot.extensions import db
from ballot.roster.models import Member, RosterImport
from tests.functional.factories import CURRENT, TODAY, invoke, refused, roster_file, roster_text, run

DATA = Path(__file__).parents[1] / "data" / "roster"
LAPSED = f"{TODAY - dt.timedelta(days=600)}:{TODAY - dt.timedelta(days=200)}"


def import_file(runner, path: Path | str, *options: str, year: int = 2026) -> dict:
    return run(runner, "roster", "import", str(path), "--period", str(year), *options)


def state() -> dict:
    """Everything an import writes, for comparing before and after."""
    return {
        "members": db.session.execute(
            select(Member.key, Member.email, Member.given_name, Member.family_name, Member.details, Member.removed_at)
            .order_by(Member.key)
        ).all(),
        "rights": db.session.execute(
            select(Member.key, VotingRight.capacity, VotingRight.sponsor)
            .join(Member, Member.id == VotingRight.member_id).order_by(Member.key, VotingRight.capacity)
        ).all(),
        "enrolments": db.session.execute(
            select(Member.key, VotingRight.capacity, Enrollment.source)
            .join(VotingRight, VotingRight.id == Enrollment.right_id)
            .join(Member, Member.id == VotingRight.member_id).order_by(Member.key, VotingRight.capacity)
        ).all(),
    }


def imports() -> int:
    return db.session.scalar(select(func.count()).select_from(RosterImport))


def rights_by_member() -> dict[str, list[tuple[str, str]]]:
    rights: dict[str, list[tuple[str, str]]] = {}
    for key, capacity, sponsor in state()["rights"]:
        rights.setdefault(key, []).append((capacity, sponsor))
    return rights


@pytest.fixture
def period(runner):
    result = invoke(runner, "period", "open", "2026")
    assert result.exit_code == 0, result.output
    return 2026


# --- Formats ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("sample", "fmt", "members"),
    [
        ("ballot.csv", "ballot-csv", 7),
        ("ballot.json", "ballot-json", 7),
        ("pythonorg.csv", "pythonorg", 6),
        ("pythonorg.json", "pythonorg", 6),
        ("civicrm.csv", "civicrm", 7),
    ],
)
def test_each_format_is_detected_and_imported(period, runner, sample, fmt, members):
    report = import_file(runner, DATA / sample)
    assert (report["format"], report["members"], report["added"]) == (fmt, members, members)
    assert (report["changed"], report["removed"], report["dry_run"]) == (0, 0, False)
    assert len(report["changes"]["added"]) == members
    assert db.session.scalar(select(func.count()).select_from(Member)) == members
    history = run(runner, "period", "show", "2026")["imports"]
    assert [(i["file"], i["format"], i["members"], i["added"]) for i in history] == [(sample, fmt, members, members)]


def test_the_content_decides_the_format_not_the_file_name(period, runner, tmp_path):
    path = tmp_path / "export.txt"
    shutil.copy(DATA / "ballot.json", path)
    assert import_file(runner, path)["format"] == "ballot-json"


def test_the_text_report_says_what_was_imported(period, runner):
    result = invoke(runner, "roster", "import", str(DATA / "pythonorg.csv"), "--period", "2026")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "Imported 6 members (pythonorg): 6 added, 0 changed, 0 removed; "
        "5 new voting rights, 3 enrolled from the export's opt-ins."
    )


def test_names_survive_the_encoding_of_the_file_and_the_database(period, runner, tmp_path):
    path = tmp_path / "civicrm-windows.csv"
    path.write_bytes("FirstName,LastName,MembershipType,Email\r\nJürgen,Müller-Lüdenscheidt,Fellow,jm@example.de\r\n"
                     .encode("cp1252"))
    import_file(runner, path)
    names = db.session.execute(select(Member.given_name, Member.family_name)).all()
    assert [tuple(n) for n in names] == [("Jürgen", "Müller-Lüdenscheidt")]


# --- Refusals -----------------------------------------------------------------

def test_a_malformed_roster_is_refused_whole_naming_every_problem_by_line(period, runner):
    before = state()
    output = refused(runner, "roster", "import", str(DATA / "bad.csv"), "--period", "2026")
    assert "nothing was imported" in output
    for line, words in [
        (3, "'bob@example' is not a valid email address"),
        (4, "'wizard' is not a membership class"),
        (5, "member_id 'M-0001' is also on line 2"),
        (6, "email ada@example.org is also on line 2"),
        (7, "ends (2026-01-01) before it starts (2026-05-01)"),
        (9, "'2026-02-30' is not a date"),
        (10, "member_id is blank"),
        (11, "the row has 8 fields but the header has 7"),
        (12, "classes names no membership class"),
        (13, "the sponsor class needs the Sponsor Member's name in delegate_for"),
    ]:
        assert f"line {line}: " in output and words in output, (line, output)
    assert "line 2:" not in output.replace("also on line 2", "")  # Ada's own line is fine
    assert state() == before
    assert imports() == 0


def test_a_malformed_roster_after_a_good_one_changes_nothing(period, runner, tmp_path):
    import_file(runner, DATA / "ballot.csv")
    before = state()
    bad = roster_file(tmp_path, "M-0001,Ada,Lovelace,ada@example.org,fellow:2019-05-01,,",
                      "M-0002,Bob,,not-an-address,basic,,")
    output = refused(runner, "roster", "import", str(bad), "--period", "2026")
    assert "line 3: email 'not-an-address' is not a valid email address" in output
    assert state() == before
    assert imports() == 1


def test_a_refusal_is_json_with_json(period, runner):
    result = invoke(runner, "roster", "import", str(DATA / "bad.csv"), "--period", "2026", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert "line 13:" in error and "10 problems" in error


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("roster.csv", b"", "the file is empty"),
        ("roster.csv", b"name,address\nAda,ada@example.org\n", "match no roster format"),
        ("roster.csv", roster_text().encode(), "the file names no members"),
        ("roster.json", b'{"format": "ballot-roster/1", "members": [', "not valid JSON"),
        ("roster.json", b"name,address\n", "line 1: the file is not valid JSON"),
    ],
)
def test_files_that_are_no_roster_are_refused(period, runner, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert message in refused(runner, "roster", "import", str(path), "--period", "2026")
    assert imports() == 0


def test_a_missing_file_or_period_is_a_clear_error(period, runner, tmp_path):
    assert "cannot read" in refused(runner, "roster", "import", str(tmp_path / "nope.csv"), "--period", "2026")
    assert "there is no 2031 eligibility period" in refused(
        runner, "roster", "import", str(DATA / "ballot.csv"), "--period", "2031")
    huge = "99999999999999999999"  # beyond any database integer: still a plain answer
    assert f"there is no {huge} eligibility period" in refused(
        runner, "roster", "import", str(DATA / "ballot.csv"), "--period", huge)
    assert f"there is no {huge} eligibility period" in refused(runner, "period", "show", huge)


def test_classes_the_policy_does_not_have_are_refused_by_line(runner):
    assert invoke(runner, "period", "open", "2026", "--policy", "psf-bylaws").exit_code == 0
    output = refused(runner, "roster", "import", str(DATA / "pythonorg.csv"), "--period", "2026")
    assert "line 5: class 'sponsor' is not a class of this organisation (PSF bylaws)" in output
    # A retired class the policy maps to another (4.6: Managing read as Contributing) is no problem.
    assert "managing" not in output and "1 problem" in output
    output = refused(runner, "roster", "import", str(DATA / "ballot.csv"), "--period", "2026")
    assert "line 2: class 'sponsor' is not a class of this organisation" in output and "managing" not in output
    assert state() == {"members": [], "rights": [], "enrolments": []}
    assert imports() == 0


# --- Dry runs -------------------------------------------------------------------

def test_a_dry_run_reports_and_writes_nothing(period, runner):
    report = import_file(runner, DATA / "ballot.csv", "--dry-run")
    assert (report["dry_run"], report["members"], report["added"]) == (True, 7, 7)
    assert report["rights_added"] == 0
    assert state() == {"members": [], "rights": [], "enrolments": []}
    assert imports() == 0
    result = invoke(runner, "roster", "import", str(DATA / "ballot.csv"), "--period", "2026", "--dry-run")
    assert result.output.startswith("Would import 7 members (ballot-csv): 7 added, 0 changed, 0 removed.")
    assert imports() == 0


def test_a_dry_run_against_a_stored_roster_reports_the_changes(period, runner, tmp_path):
    first = roster_file(
        tmp_path, f"a,Ada,,ada@example.org,supporting:{CURRENT},,", "b,Bea,,bea@example.org,fellow:2010-01-01,,"
    )
    import_file(runner, first)
    before = state()
    second = roster_file(tmp_path, f"a,Ada,,ada@new.example.org,supporting:{CURRENT},,",
                         f"c,Cy,,cy@example.org,contributing:{CURRENT},,", name="second.csv")
    report = import_file(runner, second, "--dry-run")
    assert report["changes"] == {"added": ["c"], "changed": ["a"], "removed": ["b"]}
    # How many rights would follow, and who by name with what changes (issue 10, items 12 and 16).
    assert (report["rights_gained"], report["rights_lost"]) == (1, 1)
    assert [(c["name"], c["change"], c["fields"], c["rights_gained"], c["rights_lost"])
            for c in report["members_changed"]] == [
        ("Ada", "changed", ["email"], [], []), ("Cy", "added", [], ["individual"], []),
        ("Bea", "removed", [], [], ["individual"])]
    text = invoke(runner, "roster", "import", str(second), "--period", "2026", "--dry-run").output
    assert "It would give 1 voting rights that did not qualify before, and take 1 away." in text
    assert "  changed Ada <ada@new.example.org>: email" in text
    assert "  removed Bea <bea@example.org>; loses individual" in text
    assert state() == before
    assert imports() == 1


# --- Re-imports and history ---------------------------------------------------------

def test_importing_the_same_file_again_changes_nothing(period, runner):
    import_file(runner, DATA / "pythonorg.csv")
    before = state()
    report = import_file(runner, DATA / "pythonorg.csv")
    assert (report["added"], report["changed"], report["removed"]) == (0, 0, 0)
    assert (report["rights_added"], report["enrolled_from_roster"]) == (0, 0)
    assert state() == before
    history = run(runner, "period", "show", "2026")["imports"]
    assert [(i["added"], i["changed"], i["removed"]) for i in history] == [(6, 0, 0), (0, 0, 0)]


def test_the_same_roster_in_another_format_changes_nothing(period, runner):
    import_file(runner, DATA / "ballot.csv")
    before = state()
    report = import_file(runner, DATA / "ballot.json")
    assert (report["added"], report["changed"], report["removed"]) == (0, 0, 0)
    assert state() == before


def test_a_changed_roster_reports_what_was_added_changed_and_removed(period, runner, tmp_path):
    first = roster_file(
        tmp_path,
        f"a,Ada,Lovelace,ada@example.org,supporting:{CURRENT},,",
        "b,Bea,,bea@example.org,fellow:2010-01-01,,",
        "c,Cy,,cy@example.org,basic,,",
        name="january.csv",
    )
    second = roster_file(
        tmp_path,
        f"a,Ada,Lovelace,ada@example.org,supporting:{CURRENT},,",  # unchanged
        "c,Cy,,cy@example.org,basic;fellow:2026-01-01,,",  # became a Fellow
        f"d,Dee,,dee@example.org,contributing:{CURRENT},,",  # new
        name="june.csv",
    )  # b is gone
    import_file(runner, first)
    report = import_file(runner, second)
    assert (report["added"], report["changed"], report["removed"]) == (1, 1, 1)
    assert report["changes"] == {"added": ["d"], "changed": ["c"], "removed": ["b"]}
    assert report["rights_added"] == 2  # c's and d's individual rights

    history = run(runner, "period", "show", "2026")["imports"]
    assert [(i["file"], i["members"], i["added"], i["changed"], i["removed"]) for i in history] == [
        ("january.csv", 3, 3, 0, 0),
        ("june.csv", 3, 1, 1, 1),
    ]
    # The removed member is kept (with their right's history), marked removed.
    removed = db.session.execute(select(Member.key).where(Member.removed_at.is_not(None))).scalars().all()
    assert removed == ["b"]
    assert set(rights_by_member()) == {"a", "b", "c", "d"}

    # Importing the first file again brings b back and undoes the rest.
    report = import_file(runner, first)
    assert report["changes"] == {"added": ["b"], "changed": ["c"], "removed": ["d"]}
    assert db.session.execute(select(Member.key).where(Member.removed_at.is_not(None))).scalars().all() == ["d"]
    assert len(run(runner, "period", "show", "2026")["imports"]) == 3


def test_a_roster_of_another_period_is_kept_apart(period, runner):
    assert invoke(runner, "period", "open", "2027").exit_code == 0
    import_file(runner, DATA / "ballot.csv")
    report = import_file(runner, DATA / "ballot.csv", year=2027)
    assert report["added"] == 7
    assert len(run(runner, "period", "show", "2027")["imports"]) == 1


# --- Rights from the roster -------------------------------------------------------------

def test_one_individual_right_per_person_and_a_delegate_right_for_a_sponsor_delegate(period, runner, tmp_path):
    path = roster_file(
        tmp_path,
        f"ada,Ada,Lovelace,ada@example.org,supporting:{CURRENT};fellow:2015-05-01,,",
        f"grace,Grace,Hopper,grace@example.org,supporting:{CURRENT};fellow:2012-01-01;sponsor:{CURRENT},,ACME Corp",
        f"lapsed,Lapsed,Supporter,lapsed@example.org,supporting:{LAPSED},,",
        "life,Life,Supporter,life@example.org,supporting:2001-01-01:,,",
        f"ended,Ended,Delegate,ended@example.org,sponsor:{LAPSED},,Gone Corp",
        "basic,Basic,Member,basic@example.org,basic,,",
    )
    report = import_file(runner, path)
    assert report["rights_added"] == 4
    assert rights_by_member() == {
        "ada": [("individual", "")],
        "grace": [("delegate", "ACME Corp"), ("individual", "")],
        "life": [("individual", "")],
    }
    assert run(runner, "period", "show", "2026")["rights"] == 4


def test_a_person_who_becomes_a_delegate_gains_a_second_right(period, runner, tmp_path):
    import_file(runner, roster_file(tmp_path, "ada,Ada,,ada@example.org,fellow:2015-05-01,,"))
    report = import_file(runner, roster_file(
        tmp_path, f"ada,Ada,,ada@example.org,fellow:2015-05-01;sponsor:{CURRENT},,ACME Corp", name="v2.csv"))
    assert (report["changed"], report["rights_added"]) == (1, 1)
    assert rights_by_member() == {"ada": [("delegate", "ACME Corp"), ("individual", "")]}


def test_a_pythonorg_export_with_a_recent_affirmation_enrols_from_the_roster(period, runner):
    report = import_file(runner, DATA / "pythonorg.csv")
    assert (report["rights_added"], report["enrolled_from_roster"]) == (5, 3)
    enrolled = run(runner, "period", "enrolled", "2026")
    assert sorted((r["member_key"], r["capacity"], r["sponsor"], r["how"]) for r in enrolled) == [
        ("ada", "individual", "", "roster"),  # Supporting and Fellow on two rows: one right
        ("engines-rep", "delegate", "sponsor:engines-rep", "roster"),
        ("mgarcia", "individual", "", "roster"),
    ]
    # cwei affirmed in 2025, before this period; kai said no; jmueller is Basic.
    assert rights_by_member()["cwei"] == [("individual", "")]
    assert rights_by_member()["kai@example.org"] == [("individual", "")]
    assert "jmueller" not in rights_by_member()


def test_an_export_affirmation_does_not_enrol_after_enrolment_closed(period, runner):
    assert invoke(runner, "period", "close-enrolment", "2026").exit_code == 0
    report = import_file(runner, DATA / "pythonorg.json")
    assert (report["rights_added"], report["enrolled_from_roster"]) == (5, 0)
    assert run(runner, "period", "enrolled", "2026") == []
