"""Statements on the ballot and the results: links that a phone shows without scrolling sideways."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.steps import CANDIDATES, YEAR, Administrator, link_in_mail, opt_in
from tests.browser.test_voter_pages import Audit

pytestmark = pytest.mark.browser
LONG = "https://example.org/elections/2026/candidates/" + "a-very-long-statement-address-" * 4 + "end"


def test_statements_and_description_links_fit_every_width(sqlite_site, browser, inbox, tmp_path, axe_script):
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    audit = Audit(page, axe_script)
    try:
        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        inbox.clear()
        closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
        args = ["vote", "create", "--period", str(YEAR), "--kind", "board", "--title", f"Board {YEAR}",
                "--seats", "1", "--method", "irv", "--closes-at", closes,
                "--description", f"The candidates and their statements: {LONG}",
                "--statement", f"{CANDIDATES[0]}={LONG}", "--statement", f"{CANDIDATES[1]}=https://example.org/b"]
        for candidate in CANDIDATES:
            args += ["--candidate", candidate]
        vote_id = admin.run(*args)["id"]
        admin.run("vote", "open", str(vote_id))
        admin.send_mail()
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
    finally:
        context.close()
    assert audit.problems == {}, audit.problems
