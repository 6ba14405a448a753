"""Statements on the ballot and the results: links that a phone shows without scrolling sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, browser_context
from tests.browser.steps import CANDIDATES, Administrator, Audit, link_in_mail, opt_in

pytestmark = pytest.mark.browser
LONG = "https://example.org/elections/2026/candidates/" + "a-very-long-statement-address-" * 4 + "end"


def test_statements_and_description_links_fit_every_width(sqlite_site, browser, inbox, tmp_path, axe_script):
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    with browser_context(browser, viewport=PHONE, bypass_csp=True) as context:
        page = context.new_page()
        audit = Audit(page, axe_script)
        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        inbox.clear()
        vote_id = admin.open_board_vote("irv", 1, "--description", f"The candidates and their statements: {LONG}",
                                        "--statement", f"{CANDIDATES[0]}={LONG}",
                                        "--statement", f"{CANDIDATES[1]}=https://example.org/b")
        page.goto(link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/"))
        candidates = page.get_by_role("region", name="The candidates")
        expect(candidates.get_by_role("link", name=f"statement of {CANDIDATES[0]}")).to_have_attribute("href", LONG)
        expect(page.get_by_role("link", name=LONG)).to_be_visible()
        audit.check("ballot, with statements")
        page.get_by_role("button", name=f"Add {CANDIDATES[0]} to your ranking").click()
        page.get_by_role("button", name="Review my ballot").click()
        page.get_by_role("button", name="Cast my ballot").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")
        admin.close_and_publish(vote_id)
        page.goto(f"{site.url}/votes/{vote_id}/results")
        expect(page.get_by_role("link", name=re.compile(f"statement of {CANDIDATES[1]}"))).to_be_visible()
        audit.check("results, with statements")
    assert audit.problems == {}, audit.report()
