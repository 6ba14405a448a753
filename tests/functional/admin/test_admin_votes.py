"""Votes from the console: a form per kind, rules and electorate before opening, then the whole life."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select, update

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from ballot.votes.models import VoteReminder
from tests.functional.admin.console import (
    YEAR,
    follow,
    post,
    submit_vote_form,
    vote_id_of,
    when,
)
from tests.functional.factories import links, setup
from tests.functional.helpers import cast, run

VOTERS = ["ada", "bea", "cy", "dan"]  # bea and cy are Fellows


@pytest.fixture
def year(app, runner, tmp_path):
    """The period under the seed, four enrolled voters (two of them Fellows), one member not enrolled."""
    setup(runner, tmp_path, [("ada", "supporting"), ("bea", "fellow"), ("cy", "fellow"), ("dan", "contributing"),
                             ("eve", "supporting")], policy="seed", opted_in=VOTERS)
    return YEAR


def mail(runner, inbox) -> list:
    """Send the outbox; returns (to, subject) of what arrived, and empties the inbox."""
    run(runner, "mail", "send")
    arrived = [(m["To"], m["Subject"]) for m in inbox.messages]
    inbox.clear()
    return arrived


@pytest.mark.parametrize("form_name, fields, electorate, rules", [
    ("board", {"candidates": "A. Person\nB. Person\nC. Person", "seats": "2", "method": "approval"}, 4,
     ["Seats: 2. Approve as many candidates as you like; the 2 with the most approvals are elected."]),
    ("board", {"candidates": "A. Person\nB. Person\nC. Person", "seats": "1", "method": "schulze"}, 4,
     ["Seats: 1, filled by the Schulze method"]),
    ("charter", {"questions": "Charter the Packaging WG?"}, 4, ["Passes when yes answers are more than 1/2"]),
    ("sponsor-admission", {"questions": "Admit ACME Corp as a Sponsor Member?"}, 4,
     ["Passes when yes answers are more than 1/2 of the yes and no answers (abstentions do not count)."]),
    ("fellow", {"nominees": "Katherine Johnson\nDennis Ritchie", "threshold": "3/4", "denominator": "participating"}, 2,
     ["Who votes: Fellows enrolled to vote as individuals.",
      "Passes when agree answers are at least 3/4 of all who cast a ballot (abstentions count)."]),
    ("other", {"kind": "policy", "questions": "Ratify the code of conduct?", "threshold": "2/3", "quorum": "1/3",
               "denominator": ""}, 4,
     ["Passes when yes answers are at least 2/3", "Quorum: at least 1/3 of the electorate must vote"]),
])
def test_each_kind_shows_its_electorate_and_rules_before_opening(year, console, form_name, fields, electorate, rules):
    form = console.get(f"/admin/periods/{YEAR}/votes/new/{form_name}")
    assert form.status_code == 200 and f"{electorate} voting rights would take part" in form.text
    page = submit_vote_form(console, form_name, **fields)
    assert page.status_code == 200, page.text
    assert "The draft is saved" in page.text
    assert f"<strong>{electorate}</strong> voting rights would take part if the vote opened now" in page.text
    assert f"Electorate: {electorate} voting rights." in page.text
    for line in rules:
        assert line in page.text, line
    assert "Open the vote now" in page.text


@pytest.mark.parametrize("form_name, fields, problem", [
    ("board", {"candidates": "A. Person", "seats": ""}, "This field is required."),
    ("board", {"candidates": "A. Person\nA. Person", "seats": "1"}, "a candidate is named twice"),
    ("other", {"kind": "governance", "questions": "Q?", "threshold": "two thirds", "denominator": ""},
     "is not a share such as &#39;more than 1/2&#39;"),
    ("fellow", {"nominees": "K. Johnson", "threshold": "1/2"}, "Not a valid choice"),
    ("charter", {"questions": "Q?", "closes_at": "next week"}, "is not a date and time as YYYY-MM-DD HH:MM (UTC)"),
])
def test_a_bad_vote_form_is_explained_and_nothing_is_saved(year, console, form_name, fields, problem):
    page = submit_vote_form(console, form_name, **fields)
    assert page.status_code == 400 and problem in page.text
    assert run(console.application.test_cli_runner(), "vote", "list") == []
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "vote.create")).all()


def test_the_life_of_a_vote_from_the_console(year, console, runner, inbox):
    page = submit_vote_form(console, "charter", questions="Charter the Packaging WG?")
    vote_id = vote_id_of(page)
    inbox.clear()

    page = follow(console, post(console, f"/admin/votes/{vote_id}/open"))
    assert "The vote is open: 4 ballot links are queued." in page.text
    first = links(runner, inbox, vote_id)
    assert sorted(first) == VOTERS

    # Ada votes; the page shows turnout per day, never what was voted.
    assert cast(console, first["ada"], {"q1": "yes"}).status_code == 200
    page = console.get(f"/admin/votes/{vote_id}")
    assert "<strong>1</strong> of 4 have voted (25.0%)" in page.text
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert f"<tr><td>{today}</td><td>1</td></tr>" in page.text
    assert 'role="img"' in page.text and "<title" in page.text
    assert "Yes" not in page.text and ">yes<" not in page.text and "Passed" not in page.text

    # Extend: later only; the three who have not voted get a fresh link that expires at the new time.
    refused = follow(console, post(console, f"/admin/votes/{vote_id}/extend", {"closes_at": when(6)}))
    assert "can only be extended" in refused.text
    page = follow(console, post(console, f"/admin/votes/{vote_id}/extend", {"closes_at": when(10)}))
    assert "fresh links are queued to the 3 who have not voted" in page.text
    fresh = links(runner, inbox, vote_id)
    assert sorted(fresh) == ["bea", "cy", "dan"]
    assert cast(console, fresh["bea"], {"q1": "no"}).status_code == 200

    # A reminder by hand goes only to those who have not voted.
    page = follow(console, post(console, f"/admin/votes/{vote_id}/remind"))
    assert "Reminders are queued to the 2 voting rights that have not voted." in page.text
    reminder = "You have not voted yet (as an individual member): A charter vote"
    assert sorted(mail(runner, inbox)) == [("cy@example.org", reminder), ("dan@example.org", reminder)]

    # A scheduled one is sent by the worker when its time comes, to those who still have not voted.
    page = follow(console, post(console, f"/admin/votes/{vote_id}/reminders", {"scheduled_at": when(1)}))
    assert "A reminder will go at" in page.text and "scheduled" in page.text
    assert cast(console, fresh["cy"], {"q1": "abstain"}).status_code == 200
    run_worker = runner.invoke(args=["worker", "--once"])
    assert run_worker.exit_code == 0 and not inbox.messages  # not due yet
    db.session.execute(update(VoteReminder).where(VoteReminder.sent_at.is_(None))
                       .values(scheduled_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert [(m["To"], m["Subject"]) for m in inbox.messages] == [("dan@example.org", reminder)]
    worker = db.session.scalars(select(AuditEvent).where(AuditEvent.actor == "worker")).all()
    assert [(e.action, e.detail["recipients"]) for e in worker] == [("vote.remind", 1)]
    inbox.clear()
    assert "1 voting rights" in console.get(f"/admin/votes/{vote_id}").text

    # Resend one voter's link: find them in the electorate by email.
    page = console.get(f"/admin/votes/{vote_id}?email=DAN@")
    assert "Dan Tester &lt;dan@example.org&gt;, as an individual member" in page.text
    assert "ada@example.org" not in page.text
    right_id = re.search(r'name="right_id" value="(\d+)"', page.text).group(1)
    page = follow(console, post(console, f"/admin/votes/{vote_id}/resend", {"right_id": right_id}))
    assert "The ballot link is queued again to dan@example.org." in page.text
    assert mail(runner, inbox) == [("dan@example.org", "Your ballot (as an individual member): A charter vote")]
    assert "Nobody in this vote" in console.get(f"/admin/votes/{vote_id}?email=nobody").text

    # Close and count: the result with its chart, not yet public.
    page = follow(console, post(console, f"/admin/votes/{vote_id}/close", {"confirm": "yes"}))
    assert "The vote is closed and counted." in page.text
    svg = re.search(r"<svg .*?</svg>", page.text, re.DOTALL).group(0)
    assert 'role="img"' in svg and "<title" in svg and "yes 1; no 1; abstain 1" in svg
    assert svg.count("<rect") == 3 and "style=" not in svg
    assert "<td>yes</td><td>1</td>" in page.text
    assert console.get(f"/votes/{vote_id}/results").status_code == 404

    page = follow(console, post(console, f"/admin/votes/{vote_id}/publish"))
    assert "The result and the signed record are published." in page.text
    assert console.get(f"/votes/{vote_id}/results").status_code == 200

    exported = console.get(f"/admin/votes/{vote_id}/participation.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["email"] for r in rows) == ["ada@example.org", "bea@example.org", "cy@example.org"]
    assert {r["voted_on"] for r in rows} == {today}

    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[actions.index("vote.create"):] == [
        "vote.create", "vote.open", "vote.extend", "vote.remind", "vote.schedule-reminder",
        "vote.remind",  # by the worker, at the scheduled time
        "vote.resend-link", "vote.close", "vote.publish", "vote.export-participation"]


def test_extension_stays_within_the_policy_and_the_open_period(console, runner, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting")], policy="psf-bylaws", opted_in={"ada"})
    vote_id = vote_id_of(submit_vote_form(console, "charter", questions="Q?"))
    page = follow(console, post(console, f"/admin/votes/{vote_id}/extend", {"closes_at": when(20)}))
    assert "only an open vote can be extended" in page.text
    follow(console, post(console, f"/admin/votes/{vote_id}/open"))
    page = follow(console, post(console, f"/admin/votes/{vote_id}/extend", {"closes_at": when(61)}))
    assert "at most 60 days" in page.text
    page = post(console, f"/admin/votes/{vote_id}/extend", {"closes_at": "soon"})
    assert page.status_code == 400  # the vote's page again, the problem by the field
    assert ('<p class="problem" id="closes_at-error">&#39;soon&#39; is not a date and time as YYYY-MM-DD HH:MM '
            "(UTC)") in page.text and 'value="soon"' in page.text
    actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "vote.extend" not in actions  # refused actions leave no audit event


def test_scheduling_a_drafts_close_and_its_reminders(year, console):
    vote_id = vote_id_of(submit_vote_form(console, "charter", questions="Q?"))
    page = follow(console, post(console, f"/admin/votes/{vote_id}/schedule", {"closes_at": when(3)}))
    assert "The vote will close at" in page.text
    page = follow(console, post(console, f"/admin/votes/{vote_id}/schedule", {"closes_at": when(-1)}))
    assert "must be in the future" in page.text
    page = follow(console, post(console, f"/admin/votes/{vote_id}/reminders", {"scheduled_at": when(5)}))
    assert "between now and the close" in page.text
    page = follow(console, post(console, f"/admin/votes/{vote_id}/reminders", {"scheduled_at": when(2)}))
    assert "A reminder will go at" in page.text
    reminder = db.session.scalar(select(VoteReminder))
    page = follow(console, post(console, f"/admin/votes/{vote_id}/reminders/{reminder.id}/cancel"))
    assert "The reminder will not be sent." in page.text and db.session.scalar(select(VoteReminder)) is None
    page = follow(console, post(console, f"/admin/votes/{vote_id}/remind"))
    assert "is not open" in page.text


def test_cancel_needs_a_reason(year, console, runner, inbox):
    vote_id = vote_id_of(submit_vote_form(console, "charter", questions="Q?"))
    follow(console, post(console, f"/admin/votes/{vote_id}/open"))
    page = follow(console, post(console, f"/admin/votes/{vote_id}/cancel", {"reason": "  "}))
    assert "Say why the vote is cancelled" in page.text and "<strong class=\"status status-open\">open" in page.text
    page = post(console, f"/admin/votes/{vote_id}/cancel", {"reason": "The charter was withdrawn."})
    assert page.status_code == 200 and "Yes, cancel the vote" in page.text  # asked first; nothing done yet
    page = follow(console, post(console, f"/admin/votes/{vote_id}/cancel",
                                {"reason": "The charter was withdrawn.", "confirm": "yes"}))
    assert "counts for nobody" in page.text and "Cancelled" in page.text and "The charter was withdrawn." in page.text
    voters = links(runner, inbox, vote_id)
    assert console.get(voters["ada"].removeprefix("https://vote.test")).status_code == 409
    page = follow(console, post(console, f"/admin/votes/{vote_id}/publish"))
    assert "only a closed vote can be published" in page.text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "vote.cancel"))
    assert event.detail == {"reason": "The charter was withdrawn."}


def test_unknown_votes_and_periods_are_404_pages_not_500s(year, console):
    assert console.get("/admin/votes/999").status_code == 404
    assert console.get("/admin/votes/99999999999").status_code == 404
    assert console.get("/admin/periods/1999").status_code == 404
    assert console.get(f"/admin/periods/{YEAR}/votes/new/referendum").status_code == 404
    response = post(console, "/admin/votes/999/close", {"confirm": "yes"})
    assert response.status_code == 404 and "there is no vote 999" in response.text
    assert console.get("/admin/participation/last-board.csv").status_code == 400


def test_results_chart_and_the_last_board_elections_participation(year, console, runner, inbox):
    def board(title: str, voters: dict[str, list[str]]) -> int:
        page = submit_vote_form(console, "board", title=title, candidates="A. Person\nB. Person\nC. Person", seats="2",
                      method="approval")
        vote_id = vote_id_of(page)
        follow(console, post(console, f"/admin/votes/{vote_id}/open"))
        found = links(runner, inbox, vote_id)
        for who, approved in voters.items():
            assert cast(console, found[who], {"board": approved}).status_code == 200
        return vote_id

    earlier = board("Board 1", {"ada": ["A. Person", "B. Person"], "bea": ["A. Person"]})
    later = board("Board 2", {"cy": ["C. Person"], "dan": ["A. Person", "C. Person"]})
    still_open = board("Board 3", {"ada": ["B. Person"]})
    follow(console, post(console, f"/admin/votes/{earlier}/close", {"confirm": "yes"}))
    page = follow(console, post(console, f"/admin/votes/{later}/close", {"confirm": "yes"}))
    svg = re.search(r"<svg .*?</svg>", page.text, re.DOTALL).group(0)
    assert "approvals per candidate" in svg and "A. Person 1; B. Person 0; C. Person 2" in svg
    assert svg.count("chart-highlight") == 2  # the elected
    assert "<strong>Elected:</strong>" in page.text

    dashboard = console.get("/admin/")
    assert "Board 2" in dashboard.text.split("Participation in the last Board election")[1]
    exported = console.get("/admin/participation/last-board.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["name"], r["email"], r["capacity"]) for r in rows] == [
        ("Cy Tester", "cy@example.org", "individual"), ("Dan Tester", "dan@example.org", "individual")]
    assert console.get(f"/admin/votes/{still_open}/participation.csv").status_code == 409
    assert console.get(f"/admin/votes/{earlier}/participation.csv").status_code == 200


def test_scheduling_a_drafts_opening(year, console, runner):
    vote_id = vote_id_of(submit_vote_form(console, "charter", questions="Q?"))
    page = follow(console, post(console, f"/admin/votes/{vote_id}/schedule-opening", {"opens_at": when(8)}))
    assert "after its closing time" in page.text
    page = follow(console, post(console, f"/admin/votes/{vote_id}/schedule-opening", {"opens_at": when(2)}))
    assert "The vote will open at" in page.text and "It is scheduled to open at" in page.text
    opens_at = run(runner, "vote", "show", str(vote_id))
    assert opens_at["status"] == "draft"
    page = follow(console, post(console, f"/admin/votes/{vote_id}/schedule-opening", {"clear": "1"}))
    assert "The vote has no scheduled opening." in page.text and "It is scheduled to open at" not in page.text
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "vote.schedule-opening")).all()
    assert len(actions) == 2  # the refused one left no audit event


def test_every_problem_of_a_vote_form_at_once_next_to_its_field(year, console):
    """Issue 10, item 13: the form's own checks and the vote's rules, all in one answer, each by its field,
    with a summary linking to them; the closing time in the documented format, in UTC."""
    page = submit_vote_form(console, "board", title="", candidates="A. Person\nA. Person", seats="2", method="irv",
                  quorum="most", closes_at="1 Dec")
    assert page.status_code == 400
    errors = dict(re.findall(r'<p class="problem" id="([a-z_]+)-error">([^<]*)</p>', page.text))
    assert errors.keys() == {"title", "candidates", "seats", "quorum", "closes_at"}, errors
    assert errors["candidates"] == "a candidate is named twice"
    assert "instant runoff fills one seat" in errors["seats"]
    assert "quorum" in errors["quorum"] and "is not a date and time as YYYY-MM-DD HH:MM (UTC)" in errors["closes_at"]
    assert "5 problems to fix before the draft is saved" in page.text
    assert '<a href="#seats">Seats to fill</a>' in page.text
    assert 'aria-invalid="true"' in page.text and 'aria-describedby="closes_at-hint closes_at-error"' in page.text

    # Typed as the form says, with or without the T, a Z or "UTC": read as UTC.
    for typed in ("2030-01-02 03:04", "2030-01-02T03:04", "2030-01-02 03:04 UTC", "2030-01-02T03:04Z"):
        form = console.get(f"/admin/periods/{YEAR}/votes/new/charter")
        assert 'placeholder="YYYY-MM-DD HH:MM"' in form.text and 'type="text"' in form.text
        draft = submit_vote_form(console, "charter", questions="Q?", closes_at=typed)
        assert "closes 2030-01-02 03:04 UTC" in draft.text, typed
        vote_id = vote_id_of(draft)
        assert 'value="2030-01-02 03:04"' in console.get(f"/admin/votes/{vote_id}/edit").text
        refused = post(console, f"/admin/votes/{vote_id}/reminders", {"scheduled_at": "tomorrow"})
        assert refused.status_code == 400 and '<p class="problem" id="scheduled_at-error">' in refused.text
        refused = post(console, f"/admin/votes/{vote_id}/schedule-opening", {"opens_at": ""})
        assert refused.status_code == 400 and '<p class="problem" id="opens_at-error">This field is required.' \
            in refused.text


def test_statements_are_entered_in_the_console_checked_by_their_field_and_kept_by_an_edit(year, console):
    """Issue 10, item 3: a Board candidate's statement link from the console's form, on the draft and its ballot."""
    url = "https://example.org/elections/a-person"
    page = submit_vote_form(console, "board", candidates="A. Person\nB. Person", seats="1", method="approval",
                  statements="C. Nobody = https://example.org/c")
    assert page.status_code == 400
    assert '<p class="problem" id="statements-error">statements: C. Nobody is not one of the candidates' in page.text
    assert run(console.application.test_cli_runner(), "vote", "list") == []
    page = submit_vote_form(console, "board", candidates="A. Person\nB. Person", seats="1", method="approval",
                  statements=f"A. Person = {url}")
    assert page.status_code == 200, page.text
    vote_id = vote_id_of(page)
    shown = run(console.application.test_cli_runner(), "vote", "show", str(vote_id))
    assert shown["rules"]["statements"] == {"A. Person": url}
    form = console.get(f"/admin/votes/{vote_id}/edit")
    assert f"A. Person = {url}" in form.text  # the edit form shows it, so saving keeps it
    edited = follow(console, post(console, f"/admin/votes/{vote_id}/edit", {
        "title": "A renamed vote", "closes_at": when(7), "candidates": "A. Person\nB. Person", "seats": "1",
        "method": "approval", "election": "regular", "candidate_order": "random",
        "statements": f"A. Person = {url}"}, page=f"/admin/votes/{vote_id}/edit"))
    assert "changed title" in edited.text, edited.text
    shown = run(console.application.test_cli_runner(), "vote", "show", str(vote_id))
    assert shown["title"] == "A renamed vote" and shown["rules"]["statements"] == {"A. Person": url}
