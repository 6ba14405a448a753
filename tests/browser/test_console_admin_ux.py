"""The console's second pass in a browser (issue 10, items 9 to 15): a roster previewed by name, a
draft edited with every problem shown by its field, closing and cancelling asked first with their
consequences, a vote past its time shown as closing, who is at risk, the audit log filtered, tables at
a desktop's width with no word broken. At 390 px and 1280 px, with and without JavaScript; with it,
every page is also checked by axe-core and for sideways scrolling (the checks of
test_voter_pages.Audit, at 320, 390 and 1280 px)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from ballot.extensions import db
from ballot.votes.models import Vote
from tests.browser.conftest import DESKTOP, PHONE, browser_context
from tests.browser.steps import YEAR, Audit, Console, link_in_mail, opt_in, roster_csv
from tests.functional.admin.console import when
from tests.functional.factories import closes

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport, javascript", [(PHONE, True), (DESKTOP, False), (PHONE, False)],
                         ids=["390px-js", "1280px-no-js", "390px-no-js"])
def test_editing_closing_cancelling_and_who_is_at_risk(sqlite_site, browser, inbox, tmp_path, axe_script, viewport,
                                                         javascript):
    site = sqlite_site
    with browser_context(browser, viewport=viewport, bypass_csp=True, java_script_enabled=javascript) as context:
        page = context.new_page()
        audit = Audit(page, axe_script)
        check = audit.check if javascript else (lambda name: audit.seen.append(name))
        console = Console(site, page, tmp_path)
        cli = console.cli
        console.sign_in()
        cli.open_period_with_roster()
        opt_in(page, link_in_mail(inbox, site, "brian@example.org", "/opt-in/"))

        # A second roster previewed: who is added, changed (which fields) and removed, by name, and the rights.
        changed = tmp_path / "changed.csv"
        kept = "\n".join(roster_csv().splitlines()[:3])  # the header, Ada and Grace: Brian and the Basic member go
        changed.write_text(kept.replace("grace@example.org", "grace@new.example.org")
                           + "\nkatherine,Katherine,Johnson,kj@example.org,fellow:2019-01-01:,,\n")
        page.goto(f"{site.url}/admin/periods/{YEAR}")
        page.get_by_label("Roster file (CSV or JSON)").set_input_files(changed)
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_role("row", name=re.compile("Grace Hopper"))).to_contain_text("email")
        expect(page.get_by_role("row", name=re.compile("Katherine Johnson"))).to_contain_text("gains individual")
        expect(page.get_by_role("row", name=re.compile("Brian Kernighan"))).to_contain_text("loses individual")
        expect(page.get_by_role("main")).to_contain_text("1 voting right gained")
        check("roster preview, changes")
        page.get_by_role("button", name="Discard it").click()
        expect(page.get_by_text("nothing was imported")).to_be_visible()

        # A draft, edited: the form comes filled in; every problem at once, each by its field.
        draft = cli.run("vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Packaging",
                        "--question", "Charter the Packaging WG?", "--closes-at", closes(7))["id"]
        page.goto(f"{site.url}/admin/votes/{draft}")
        page.get_by_role("link", name="Edit the draft").click()
        expect(page.get_by_label("Title")).to_have_value("Packaging")
        page.get_by_label("Title").fill("")
        page.get_by_label("Closes at").fill("next week")
        page.get_by_label(re.compile("^Quorum")).fill("most")
        page.get_by_role("button", name="Save the changes").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("3 problems to fix")
        for label in ("Title", "Closes at", re.compile("^Quorum")):
            expect(page.get_by_label(label)).to_have_attribute("aria-invalid", "true")
        check("edit form, refused")
        page.get_by_label("Title").fill("Packaging WG charter")
        page.get_by_label("Closes at").fill(when(5))
        page.get_by_label(re.compile("^Quorum")).fill("")
        page.get_by_role("button", name="Save the changes").click()
        expect(page.get_by_text("The draft is saved: changed title, closing time.")).to_be_visible()
        check("draft vote, edited")

        # Open it; closing asks first, saying what it does; "No" changes nothing.
        page.get_by_role("button", name="Open the vote now").click()
        expect(page.get_by_text("The vote is open")).to_be_visible()
        page.get_by_role("link", name="Close and count now…").click()
        consequences = page.get_by_role("region", name="What closing it now does")
        expect(consequences).to_contain_text("It is early")
        expect(consequences).to_contain_text("0 of 1 voting rights have voted")
        expect(consequences).to_contain_text("1 voting right has not voted: each will get a missed vote")
        check("close confirmation")
        page.get_by_role("link", name="No, go back to the vote").click()
        expect(page.locator(".status")).to_have_text("open")

        # Cancelling: the reason, then what it does, then the cancellation.
        page.get_by_label(re.compile("^Why is the vote cancelled")).fill("The charter was withdrawn.")
        page.get_by_role("button", name="Cancel the vote…").click()
        expect(page.get_by_role("region", name="What cancelling it now does")).to_contain_text(
            "nobody gets a missed vote")
        check("cancel confirmation")
        page.get_by_role("button", name="Yes, cancel the vote").click()
        expect(page.get_by_text("The vote is cancelled: it counts for nobody.")).to_be_visible()

        # A vote past its closing time shows as closing until it is closed.
        late = cli.run("vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Late",
                       "--question", "Q?", "--closes-at", closes(3))["id"]
        cli.run("vote", "open", str(late))
        with site.app.app_context():
            db.session.execute(update(Vote).where(Vote.id == late)
                               .values(closes_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)))
            db.session.commit()
        page.goto(f"{site.url}/admin/votes")
        expect(page.get_by_role("row", name=re.compile("Late"))).to_contain_text("closing")
        page.get_by_role("link", name="Late").click()
        expect(page.locator(".status")).to_have_text("closing")
        check("closing vote")
        page.get_by_role("link", name="Close and count now…").click()
        expect(page.get_by_role("region", name="What closing it now does")).not_to_contain_text("It is early")
        page.get_by_role("button", name="Yes, close and count it now").click()
        expect(page.get_by_text("The vote is closed and counted.")).to_be_visible()

        # Who is at risk: everyone missed the late vote; one more ends their rights under the seed's two.
        page.goto(f"{site.url}/admin/periods/{YEAR}")
        page.get_by_role("link", name=re.compile("^Who is at risk")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Who is at risk in {YEAR}")
        expect(page.get_by_role("row", name=re.compile("Brian Kernighan"))).to_contain_text(
            "one more missed vote ends their voting rights")
        check("at risk")
    assert audit.problems == {}, audit.report()


# Words that a line break cuts in two: each word of the page's text, measured; one drawn on two lines is
# broken. A hyphen is a place a word may break (sponsor-admission), as in print.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('main td, main th, main p, main li')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/[^\\s-]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


def test_the_console_uses_the_screen_and_breaks_no_word(sqlite_site, browser, inbox, tmp_path):
    site = sqlite_site
    with browser_context(browser, viewport=DESKTOP) as context:
        page = context.new_page()
        console = Console(site, page, tmp_path)
        console.sign_in("a.very.long.administrator.address@elections.example.org")
        cli = console.cli
        cli.open_period_with_roster()
        opt_in(page, link_in_mail(inbox, site, "brian@example.org", "/opt-in/"))
        vote_id = cli.run("vote", "create", "--period", str(YEAR), "--kind", "sponsor-admission",
                          "--title", "Admit the Extraordinarily Longnamed Internationalisation Foundation",
                          "--question", "Admit it?", "--closes-at", closes(7))["id"]
        cli.run("vote", "open", str(vote_id))
        pages = {"votes": "/admin/votes", "dashboard": "/admin/", "audit": "/admin/audit",
                 "audit, one vote": f"/admin/audit?vote={vote_id}", "at risk": f"/admin/periods/{YEAR}/at-risk",
                 "period": f"/admin/periods/{YEAR}"}
        for name, path in pages.items():
            page.goto(site.url + path)
            for size in (DESKTOP, PHONE):
                page.set_viewport_size(size)
                assert page.evaluate(BROKEN_WORDS) == [], (name, size)
        page.set_viewport_size(DESKTOP)
        page.goto(site.url + "/admin/audit")
        table = page.locator("table.audit").bounding_box()
        assert table["width"] > 1000  # the table uses the desktop's width, not a column of text
        expect(page.get_by_role("row", name=re.compile("vote.open"))).to_contain_text(
            f"vote {vote_id}: Admit the Extraordinarily Longnamed Internationalisation Foundation")
        page.get_by_label("Action").select_option("vote.open")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("status")).to_have_text("1 entry matches.")
        page.goto(site.url + "/admin/votes")
        expect(page.get_by_role("row", name=re.compile("Extraordinarily"))).to_contain_text("0 of 1 (0.0%)")
