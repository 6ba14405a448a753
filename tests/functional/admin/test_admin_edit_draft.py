"""A draft can be edited until it opens (issue 10, item 11): in the console and by `ballot vote edit`;
every rule is checked again against the policy, and the edit is audited with what changed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from ballot.votes.models import Vote
from tests.functional.admin.console import follow, post, when
from tests.functional.factories import create, invoke, refused, run, setup

PEOPLE = [("ada", "supporting"), ("bea", "fellow"), ("cy", "fellow")]


def edits() -> list[dict]:
    return [e.detail for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "vote.edit")
                                                 .order_by(AuditEvent.id))]


def test_a_drafts_form_comes_filled_in_and_saves_what_changed(console, runner, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea", "cy"])
    vote_id = create(runner, "--kind", "board", "--title", "Board", "--seats", "1", "--method", "approval",
                     "--candidate", "A. Person", "--candidate", "B. Person")["id"]
    page = console.get(f"/admin/votes/{vote_id}")
    assert f'href="/admin/votes/{vote_id}/edit"' in page.text
    form = console.get(f"/admin/votes/{vote_id}/edit")
    assert form.status_code == 200 and "Edit the draft: Board" in form.text
    assert 'value="Board"' in form.text and "A. Person\nB. Person</textarea>" in form.text

    fields = {"title": "Board of Directors", "candidates": "A. Person\nB. Person\nC. Person", "seats": "2",
              "method": "approval", "election": "regular", "closes_at": when(5)}
    saved = follow(console, post(console, f"/admin/votes/{vote_id}/edit", fields, page=f"/admin/votes/{vote_id}/edit"))
    assert "The draft is saved: changed title, closing time, questions, nominees or candidates, rules." in saved.text
    assert "Seats: 2." in saved.text and "C. Person" in saved.text
    vote = db.session.get(Vote, vote_id)
    assert vote.title == "Board of Directors" and vote.questions[0]["choices"][-1] == "C. Person"
    detail = edits()[-1]
    assert detail["changed"] == ["title", "closing time", "questions, nominees or candidates", "rules"]
    assert detail["was"] == "Board" and detail["rules"] == ["board_size", "seats"]  # the Board is the seats, uncapped

    # The same again changes nothing and writes nothing.
    again = follow(console, post(console, f"/admin/votes/{vote_id}/edit",
                                 fields | {"closes_at": vote.closes_at.strftime("%Y-%m-%dT%H:%M")},
                                 page=f"/admin/votes/{vote_id}/edit"))
    assert "Nothing was changed." in again.text and len(edits()) == 1


def test_rules_are_checked_again_and_a_refused_edit_changes_nothing(console, runner, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea", "cy"])
    vote_id = create(runner, "--kind", "fellow", "--title", "Fellows", "--question", "K. Johnson")["id"]
    form = console.get(f"/admin/votes/{vote_id}/edit")
    assert '<option selected value="2/3">' in form.text or 'value="2/3" selected' in form.text
    refused_page = post(console, f"/admin/votes/{vote_id}/edit",
                        {"title": "Fellows", "nominees": "K. Johnson", "closes_at": when(5), "electorate": "group",
                         "threshold": "2/3", "denominator": "participating"}, page=f"/admin/votes/{vote_id}/edit")
    assert refused_page.status_code == 400 and "needs the group&#39;s name and its members" in refused_page.text
    assert db.session.get(Vote, vote_id).rules["electorate"] == "fellows" and edits() == []

    output = refused(runner, "vote", "edit", str(vote_id), "--threshold", "1/2")
    assert "a Fellow nomination passes at 2/3 or 3/4" in output
    changed = run(runner, "vote", "edit", str(vote_id), "--threshold", "3/4", "--question", "K. Johnson",
                  "--question", "D. Ritchie")
    assert changed["changed"] == ["questions, nominees or candidates", "rules"]
    assert [q["title"] for q in changed["questions"]] == ["K. Johnson", "D. Ritchie"]
    assert changed["rules"]["threshold"] == "3/4"
    assert edits()[-1]["rules"] == ["threshold"]
    text = invoke(runner, "vote", "edit", str(vote_id), "--title", "Fellows, Q4").output
    assert "changed: title" in text and "at least 3/4" in text


def test_only_a_draft_can_be_edited(console, runner, inbox, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada"])
    vote_id = create(runner, "--kind", "charter", "--title", "Charter", "--question", "Q?")["id"]
    an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert "closing time must be in the future" in refused(runner, "vote", "edit", str(vote_id), "--closes-at",
                                                           an_hour_ago)
    assert "only Fellow votes" in refused(runner, "vote", "edit", str(vote_id), "--electorate", "fellows")
    run(runner, "vote", "open", str(vote_id))
    assert "only a draft vote can be edited" in refused(runner, "vote", "edit", str(vote_id), "--title", "X")
    page = follow(console, console.get(f"/admin/votes/{vote_id}/edit"))
    assert "only a draft can be edited" in page.text
    assert f'/admin/votes/{vote_id}/edit"' not in page.text
    assert db.session.get(Vote, vote_id).title == "Charter" and edits() == []


@pytest.mark.parametrize("args", [
    ["--kind", "charter", "--title", "C", "--question", "Q1?", "--question", "Q2?", "--quorum", "1/4"],
    ["--kind", "policy", "--title", "P", "--question", "Q?", "--threshold", "more than 2/3"],
    ["--kind", "board", "--title", "B", "--seats", "2", "--method", "meek-stv", "--candidate", "X",
     "--candidate", "Y", "--candidate", "Z", "--candidate-order", "fixed"],
    ["--kind", "fellow", "--title", "F", "--question", "N", "--electorate", "group", "--group-name", "the Board",
     "--group-member", "ada", "--group-member", "bea"],
])
def test_an_edit_that_changes_nothing_keeps_every_rule(app, runner, tmp_path, args):
    setup(runner, tmp_path, PEOPLE, policy="seed", opted_in=["ada", "bea", "cy"])
    created = create(runner, *args)
    edited = run(runner, "vote", "edit", str(created["id"]))
    assert edited["changed"] == [] and edited["rules"] == created["rules"] and edits() == []


def test_the_edit_form_under_psf_bylaws_keeps_member_nominees(console, runner, tmp_path):
    setup(runner, tmp_path, PEOPLE, policy="psf-bylaws", opted_in=["ada"])
    vote_id = create(runner, "--kind", "fellow", "--title", "Fellows", "--question", "ada")["id"]
    form = console.get(f"/admin/votes/{vote_id}/edit")
    nominees = re.search(r'<textarea[^>]*name="nominees"[^>]*>\s*([^<]*)</textarea>', form.text).group(1)
    assert nominees.strip() == "Ada Tester"
    saved = follow(console, post(console, f"/admin/votes/{vote_id}/edit",
                                 {"title": "Fellows", "nominees": "Ada Tester\nbea", "closes_at": when(5),
                                  "electorate": "voting-members", "threshold": "2/3", "denominator": "electorate"},
                                 page=f"/admin/votes/{vote_id}/edit"))
    assert "The draft is saved" in saved.text, saved.text
    assert [q["title"] for q in db.session.get(Vote, vote_id).questions] == ["Ada Tester", "Bea Tester"]
