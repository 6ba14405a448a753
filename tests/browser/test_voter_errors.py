"""A refused ballot: the error summary takes the focus and is on screen, on a phone as on a desktop,
with and without JavaScript; each problem links to its question, which says what is wrong."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, browser_context
from tests.browser.steps import Administrator, Audit, link_in_mail, opt_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_error_summary_is_focused_on_screen_and_linked_to_the_question(
        sqlite_site, browser, inbox, tmp_path, axe_script, javascript, viewport):
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    with browser_context(browser, viewport=viewport, java_script_enabled=javascript, bypass_csp=True) as context:
        page = context.new_page()
        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        inbox.clear()
        vote_id = admin.open_board_vote(method="approval")
        page.goto(link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/"))
        # Nothing approved and no abstention: the browser lets it through, the service refuses it.
        page.get_by_role("button", name="Review my ballot").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Please correct your ballot")
        expect(page.locator("#problems")).to_be_focused()
        expect(page.locator("#problems")).to_be_in_viewport()
        question = page.get_by_role("group", name="Board of Directors")
        expect(question).to_contain_text("approve at least one candidate, or tick 'I abstain'")
        link = summary.get_by_role("link", name=re.compile("Board of Directors: approve at least one candidate"))
        link.click()
        assert page.url.endswith("#question-board")
        expect(question).to_be_in_viewport()
        if javascript:  # axe-core is a script (the page is the same without)
            audit = Audit(page, axe_script)
            audit.check("ballot, refused")
            assert audit.problems == {}, audit.report()
        # Corrected, the ballot goes through.
        question.get_by_role("checkbox", name=re.compile("Barbara Liskov")).check()
        page.get_by_role("button", name="Review my ballot").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
