"""Every page of the administrators' console: no axe-core violations (the voter pages' rule set:
WCAG 2.2 A and AA, and best practice) and no sideways scrolling on a phone or a desktop.

The walk signs in, opens a period with a roster, fills the forms for each kind of vote
(one refused), saves a Board draft and a Fellow draft, opens the Fellow vote, lets two voters
cast, and closes and publishes it, checking each page on the way and the audit log at the end.
With BALLOT_SCREENSHOTS=1 it also writes the console's screenshots that the README shows
(docs/screenshots/console-*.png): `BALLOT_SCREENSHOTS=1 make test`, or pytest on this file.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ballot.extensions import db
from ballot.outbox.models import SENDING, OutboxMessage
from ballot.timestamps import utcnow
from ballot.unit_of_work import unit_of_work
from tests.browser.conftest import PHONE, browser_context
from tests.browser.steps import CANDIDATES, NOMINEES, SCREENSHOTS, YEAR, Audit, Console, cast, link_in_mail, opt_in
from tests.functional.admin.console import when
from tests.functional.factories import closes, roster_text

pytestmark = pytest.mark.browser

# The pages the README shows: the names of their pictures, and the section a picture starts at
# (the top of the page if none). A picture is at most one and a half screens high on a desktop, two on a phone.
SHOWN = {
    "dashboard": ("console-dashboard", None),
    "draft vote": ("console-draft", None),
    "open vote": ("console-turnout", "Turnout so far"),
    "closed vote": ("console-result", "Result"),
    "vote form, board, refused": ("console-form-problems", None),
    "close confirmation": ("console-close-confirm", None),
    "at risk": ("console-at-risk", None),
    "audit log": ("console-audit", None),
}


class ConsoleAudit(Audit):
    """The voter pages' checks (the same axe-core run), with the console's screenshots."""

    def shoot(self, name: str, label: str) -> None:
        if name in SHOWN:
            self.screenshot(*SHOWN[name], label)

    def screenshot(self, slug: str, section: str | None, label: str) -> None:
        size = self.page.viewport_size
        top = 0
        if section:
            heading = self.page.get_by_role("heading", name=section, exact=True, level=2)
            top = heading.evaluate("h => h.getBoundingClientRect().top + window.scrollY") - 16
        page_height = self.page.evaluate("document.documentElement.scrollHeight")
        height = int(size["height"] * (2 if label == "phone" else 1.5))
        top = max(0, min(top, page_height - size["height"]))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{slug}-{label}.png", full_page=True,
                             clip={"x": 0, "y": top, "width": size["width"], "height": min(height, page_height - top)})


def test_every_console_page_is_accessible_and_fits_a_phone(sqlite_site, browser, inbox, tmp_path, axe_script):
    site = sqlite_site
    # axe-core is injected as a script, which the pages' Content-Security-Policy rightly forbids.
    with browser_context(browser, viewport=PHONE, bypass_csp=True) as context:
        page = context.new_page()
        audit = ConsoleAudit(page, axe_script)
        console = Console(site, page, tmp_path, look=audit.check)  # sign-in, code, roster preview, ...
        period_url = f"{site.url}/admin/periods/{YEAR}"
        console.sign_in()
        page.goto(f"{site.url}/admin/votes")
        audit.check("votes, none yet")
        page.goto(f"{site.url}/admin/")
        console.open_period_with_roster()
        audit.check("period")
        bad_roster = tmp_path / "bad.csv"
        bad_roster.write_text(roster_text("x,X,Y,not-an-address,fellow:2015-05-01:,,"))
        page.get_by_label("Roster file (CSV or JSON)").set_input_files(bad_roster)
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("The roster was refused")
        audit.check("roster refused")
        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        opt_in(page, link_in_mail(inbox, site, "grace@example.org", "/opt-in/"))

        # The form of each kind of vote; the Board's refused once, then saved as a draft.
        for form_name in ("charter", "other"):  # a Sponsor admission's form is the charter's
            page.goto(f"{period_url}/votes/new/{form_name}")
            audit.check(f"vote form, {form_name}")
        page.goto(period_url)
        page.get_by_role("link", name="Board of Directors election").click()
        audit.check("vote form, board")
        page.get_by_role("button", name="Save the draft").click()
        expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
        audit.check("vote form, board, refused")
        page.get_by_label("Title").fill(f"Board of Directors {YEAR}")
        page.get_by_label("Candidates (one per line)").fill("\n".join(CANDIDATES))
        page.get_by_label("Seats to fill").fill("2")
        page.get_by_label("Closes at").fill(when(14))
        page.get_by_role("button", name="Save the draft").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Board of Directors {YEAR}")
        audit.check("draft vote, board")

        # A Fellow vote, opened (the form and the draft are checked on the way), and two ballots cast.
        inbox.clear()
        vote_id = console.open_fellow_vote()
        cast(page, link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/"),
             {NOMINEES[0]: "Agree", NOMINEES[1]: "Abstain"})
        cast(page, link_in_mail(inbox, site, "grace@example.org", f"/votes/{vote_id}/ballot/"),
             {NOMINEES[0]: "Agree", NOMINEES[1]: "Agree"})
        page.goto(f"{site.url}/admin/votes/{vote_id}")
        expect(page.get_by_role("img", name=re.compile("^Ballots cast per day"))).to_be_visible()
        audit.check("open vote")
        page.goto(f"{site.url}/admin/votes/{vote_id}?email=grace")
        expect(page.get_by_role("button", name="Send the link again")).to_be_visible()
        audit.check("open vote, a voter found")
        page.goto(f"{site.url}/admin/")
        audit.check("dashboard")

        # A message a stopped worker left half-sent: the dashboard says so, the Mail page releases it.
        with site.app.app_context(), unit_of_work("test"):
            message = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
            message.status, message.next_attempt_at = SENDING, utcnow() - dt.timedelta(minutes=11)
            stuck = message.id
        page.goto(f"{site.url}/admin/")
        page.get_by_role("link", name="check and release it").click()
        audit.check("mail, a message left half-sent")
        page.get_by_role("button", name=f"Release message {stuck}").click()
        expect(page.get_by_role("status")).to_contain_text(f"Released message {stuck}")
        audit.check("mail")

        page.goto(f"{site.url}/admin/votes/{vote_id}")
        console.close_and_publish()  # checks the closed vote's page, with the result chart
        expect(page.get_by_role("img", name=re.compile(f"^{NOMINEES[0]}"))).to_be_visible()
        audit.check("published vote")
        # A charter vote nobody casts in: everyone in its electorate has missed one (who is at risk).
        charter = console.cli.run("vote", "create", "--period", str(YEAR), "--kind", "charter", "--title",
                                  "Packaging WG charter", "--question", "Charter it?", "--closes-at", closes(3))["id"]
        console.cli.run("vote", "open", str(charter))
        console.cli.run("vote", "close", str(charter))
        page.goto(f"{period_url}/at-risk")
        expect(page.get_by_role("row", name=re.compile("Grace Hopper"))).to_contain_text("missed")
        audit.check("at risk")
        page.goto(f"{site.url}/admin/votes")
        audit.check("votes")
        page.goto(f"{site.url}/admin/audit")
        expect(page.get_by_role("cell", name="vote.publish")).to_be_visible()
        audit.check("audit log")
    assert audit.problems == {}, audit.report()
    assert {"sign-in", "code", "roster preview", "vote form, fellow", *SHOWN} <= set(audit.seen)
