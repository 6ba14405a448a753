"""The console's year: open a period, preview and confirm a roster, opt-in campaign, enrolment, export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from ballot.admin.models import RosterUpload
from ballot.audit.models import AuditEvent
from ballot.eligibility import services as eligibility
from ballot.extensions import db
from ballot.roster.models import Member, RosterImport
from tests.functional.admin.console import YEAR, follow, member, post, roster, upload
from tests.functional.helpers import csrf_token, path_of, run

ROSTER = roster(
    member("ada", "supporting"),
    member("bea", "fellow"),
    member("cy", "basic"),
    member("=cmd", "contributing", email="dan@example.org"),  # a name a spreadsheet would run
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def actions() -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def open_period(console, year: int = YEAR, policy: str = "seed"):
    return follow(console, post(console, "/admin/periods", {"year": str(year), "policy": policy}))


def test_open_a_period_under_a_policy_preset(console):
    page = console.get("/admin/")
    assert "No period is open yet." in page.text and 'value="psf-bylaws"' in page.text
    page = open_period(console, policy="psf-bylaws")
    assert f"The {YEAR} eligibility period" in page.text and "PSF bylaws" in page.text
    assert eligibility.get_period(YEAR).policy["name"] == "psf-bylaws"
    # Opening it twice is refused with the reason, and nothing more is audited.
    again = open_period(console)
    assert "already open" in again.text
    assert actions().count("period.open") == 1


def test_the_roster_preview_writes_nothing_until_confirmed(console):
    open_period(console)
    response = upload(console, YEAR, ROSTER, "members.csv")
    assert response.status_code == 303
    preview = console.get(response.headers["Location"])
    assert preview.status_code == 200
    assert "Nothing has been written yet" in preview.text
    assert "<strong>4</strong> add" in preview.text and "<code>ada</code>" in preview.text
    assert count(Member) == 0 and count(RosterImport) == 0
    kept = db.session.scalar(select(RosterUpload))
    assert kept.filename == "members.csv" and kept.data == ROSTER.encode()

    # The confirmation carries only the upload's id and digest; a different digest is refused.
    token = csrf_token(preview.text)
    confirm = f"/admin/periods/{YEAR}/roster/{kept.id}/confirm"
    refused = follow(
        console, console.post(confirm, data={"csrf_token": token, "upload_id": str(kept.id), "sha256": "0" * 64})
    )
    assert "another file" in refused.text
    assert count(Member) == 0 and count(RosterImport) == 0 and "roster.import" not in actions()

    done = follow(
        console, console.post(confirm, data={"csrf_token": token, "upload_id": str(kept.id), "sha256": kept.sha256})
    )
    assert "Imported 4 members: 4 added, 0 changed, 0 removed" in done.text
    assert count(Member) == 4 and count(RosterUpload) == 0
    assert "members.csv" in done.text  # the import history
    # The same confirmation again finds nothing to import.
    again = console.post(confirm, data={"csrf_token": token, "upload_id": str(kept.id), "sha256": kept.sha256})
    assert again.status_code == 404 and "this upload is gone" in again.text
    assert count(RosterImport) == 1
    assert actions()[-2:] == ["roster.upload", "roster.import"]


def test_a_second_import_previews_changes_and_removals(console):
    open_period(console)
    first = upload(console, YEAR, ROSTER)
    kept = db.session.scalar(select(RosterUpload))
    confirmation = {"upload_id": str(kept.id), "sha256": kept.sha256}
    follow(console, post(console, f"/admin/periods/{YEAR}/roster/{kept.id}/confirm", confirmation))
    assert first.status_code == 303
    changed = roster(
        member("ada", "supporting", email="ada@new.example.org"), member("bea", "fellow"), member("eve", "fellow")
    )
    preview = follow(console, upload(console, YEAR, changed))
    assert "<strong>1</strong> add" in preview.text and "<strong>1</strong> change" in preview.text
    assert "<strong>2</strong> remove" in preview.text
    # By name, with what changes, and the voting rights that follow (issue 10, item 12).
    assert "<strong>1</strong> voting right gained" in preview.text
    assert "<strong>1</strong> voting right lost" in preview.text
    assert ("<tr><th scope=\"row\">Ada Tester</th><td>ada@new.example.org</td><td><code>ada</code></td>"
            "<td>email</td>") in preview.text
    assert "<th scope=\"row\">Eve Tester</th>" in preview.text and "gains individual" in preview.text
    assert "<th scope=\"row\">=Cmd Tester</th><td>dan@example.org</td>" in preview.text
    assert "loses individual" in preview.text
    assert "<th scope=\"row\">Cy Tester</th>" in preview.text  # a Basic member: removed, no right lost
    assert db.session.scalar(select(Member.email).where(Member.key == "ada")) == "ada@example.org"
    # Discarding keeps nothing.
    kept = db.session.scalar(select(RosterUpload))
    page = follow(console, post(console, f"/admin/periods/{YEAR}/roster/{kept.id}/discard"))
    assert "nothing was imported" in page.text and count(RosterUpload) == 0 and count(RosterImport) == 1


def test_a_bad_roster_is_refused_whole_and_not_kept(console):
    open_period(console)
    bad = roster(member("ada"), "bea,Bea,,not-an-address,supporting:2020-01-01:,,")
    response = upload(console, YEAR, bad)
    assert response.status_code == 400
    assert "The roster was refused" in response.text and "line 3" in response.text
    assert count(RosterUpload) == 0 and count(Member) == 0
    assert "roster.upload" not in actions()
    empty = console.post(f"/admin/periods/{YEAR}/roster", data={"csrf_token": csrf_token(console.get("/admin/").text)})
    assert "Choose a roster file." in follow(console, empty).text


def test_uploads_older_than_a_day_are_gone(console, runner):
    import datetime as dt

    from ballot.admin.uploads import purge_expired_uploads

    open_period(console)
    upload(console, YEAR, ROSTER)
    kept = db.session.scalar(select(RosterUpload))
    kept.uploaded_at -= dt.timedelta(days=1, minutes=1)
    db.session.commit()
    assert console.get(f"/admin/periods/{YEAR}/roster/{kept.id}").status_code == 404
    assert purge_expired_uploads() == 1 and count(RosterUpload) == 0


def test_opt_in_campaign_confirmations_enrolment_and_export(console, client, runner, inbox):
    open_period(console)
    upload(console, YEAR, ROSTER)
    kept = db.session.scalar(select(RosterUpload))
    confirmation = {"upload_id": str(kept.id), "sha256": kept.sha256}
    follow(console, post(console, f"/admin/periods/{YEAR}/roster/{kept.id}/confirm", confirmation))

    page = follow(console, post(console, f"/admin/periods/{YEAR}/opt-in"))
    assert "Queued 3 opt-in messages." in page.text
    run(runner, "mail", "send")
    assert {m["To"] for m in inbox.messages} == {"ada@example.org", "bea@example.org", "dan@example.org"}

    # Two voters confirm through their pages.
    voter = console
    for address in ("ada@example.org", "bea@example.org"):
        link = path_of(inbox.links(address)[0])
        voter.post(link, data={"csrf_token": csrf_token(voter.get(link).text)})
    page = console.get(f"/admin/periods/{YEAR}")
    labels = ["Voting rights", "Qualifying today", "Asked to opt in", "Can vote now", "opted in by their link"]
    counts = {label: page.text.split(f"<dt>{label}</dt><dd>")[1].split("<")[0] for label in labels}
    assert counts == {"Voting rights": "3", "Qualifying today": "3", "Asked to opt in": "3", "Can vote now": "2",
                      "opted in by their link": "2"}
    assert "Confirmations by their link, per day" in page.text

    exported = console.get(f"/admin/periods/{YEAR}/enrolled.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["email"] for r in rows) == ["ada@example.org", "bea@example.org"]
    assert {r["capacity"] for r in rows} == {"individual"}

    page = follow(console, post(console, f"/admin/periods/{YEAR}/close-enrolment"))
    assert "Enrolment is closed" in page.text and "Send the opt-in messages" not in page.text
    late = path_of(inbox.links("dan@example.org")[0])
    assert "Enrolment for" in voter.get(late).text
    refused = voter.post(late, data={"csrf_token": csrf_token(console.get("/admin/").text)})
    assert refused.status_code == 409
    again = follow(console, post(console, f"/admin/periods/{YEAR}/close-enrolment"))
    assert "already closed" in again.text
    assert [a for a in actions() if a.startswith("period.")] == [
        "period.open", "period.send-opt-in", "period.export-enrolled", "period.close-enrolment"]


def test_exports_quote_cells_a_spreadsheet_would_run(console, runner, tmp_path):
    open_period(console)
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    run(runner, "roster", "import", str(path), "--period", str(YEAR))
    for right in eligibility.rights_of(eligibility.get_period(YEAR)):
        eligibility.confirm_opt_in(right)
    text = console.get(f"/admin/periods/{YEAR}/enrolled.csv").text
    assert "'=Cmd Tester" in text and "\n=" not in text and ",=" not in text


def test_a_bad_year_is_shown_by_its_field(console):
    """Issue 10, item 13: the dashboard again, the problem next to the field, nothing opened."""
    page = post(console, "/admin/periods", {"year": "1999", "policy": "nonsense"})
    assert page.status_code == 400
    assert '<p class="problem" id="year-error">Number must be between 2000 and 2200.</p>' in page.text
    assert '<p class="problem" id="policy-error">Not a valid choice.</p>' in page.text
    assert 'value="1999"' in page.text and count(RosterImport) == 0 and "period.open" not in actions()
