"""After a cast: the receipt survives reload and Back, with and without JavaScript, at phone and desktop
widths; it can be copied and printed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, browser_context
from tests.browser.steps import NOMINEES, Administrator, Audit, cast, link_in_mail, opt_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_receipt_survives_reload_and_back(sqlite_site, browser, inbox, tmp_path, javascript, viewport):
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    with browser_context(browser, viewport=viewport, java_script_enabled=javascript) as context:
        if javascript:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        page = context.new_page()
        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        inbox.clear()
        vote_id = admin.open_fellow_vote()
        link = link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/")
        receipt = cast(page, link, {NOMINEES[0]: "Agree", NOMINEES[1]: "Disagree"})
        assert page.url == link, "the cast lands on the ballot link (POST-redirect-GET)"

        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")
        expect(page.locator(".receipt strong")).to_have_text(receipt)

        copy = page.get_by_role("button", name="Copy the receipt")
        printing = page.get_by_role("button", name="Print this page")
        if javascript:
            copy.click()
            expect(page.get_by_role("status")).to_contain_text("Receipt copied")
            assert page.evaluate("navigator.clipboard.readText()") == receipt
            expect(printing).to_be_visible()
        else:
            expect(copy).to_be_hidden()
            expect(printing).to_be_hidden()
            expect(page.get_by_role("main")).to_contain_text("write it down")
        page.emulate_media(media="print")
        expect(page.locator(".receipt strong")).to_be_visible()
        expect(page.locator("header.site")).to_be_hidden()
        expect(copy).to_be_hidden()
        page.emulate_media(media="screen")

        # Away to the standing page, and Back: the receipt again.
        page.get_by_role("link", name="See your voting standing").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Your voting standing")
        page.go_back()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")
        expect(page.locator(".receipt strong")).to_have_text(receipt)
        if javascript:
            # Back from the receipt: the page before the cast was replaced by the receipt in the history.
            page.go_back()
            expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")
            expect(page.locator(".receipt strong")).to_have_text(receipt)
        assert admin.run("vote", "show", str(vote_id))["participants"] == 1


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_checking_a_receipt_forgives_and_lands_on_the_answer(sqlite_site, browser, inbox, tmp_path, axe_script,
                                                              javascript, viewport):
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    with browser_context(browser, viewport=viewport, java_script_enabled=javascript, bypass_csp=True) as context:
        page = context.new_page()
        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        inbox.clear()
        vote_id = admin.open_fellow_vote()
        receipt = cast(page, link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/"),
                       {NOMINEES[0]: "Agree", NOMINEES[1]: "Disagree"})
        admin.close_and_publish(vote_id)
        page.goto(f"{site.url}/votes/{vote_id}/results")
        typed = " ".join(receipt.lower().split("-")).replace("o", "0").replace("i", "1")
        page.get_by_role("textbox", name="Receipt").fill(typed)
        page.get_by_role("button", name="Check").click()
        answer = page.locator("#receipt-answer")
        expect(answer).to_contain_text(f"Receipt {receipt} is among the counted ballots")
        expect(answer).to_contain_text(f"{NOMINEES[1]}: disagree")
        expect(answer).to_be_focused()
        expect(answer).to_be_in_viewport()
        audit = Audit(page, axe_script)
        if javascript:  # axe-core is a script: it runs where scripts do (the page is the same without)
            audit.check("results, receipt found")

        page.get_by_role("textbox", name="Receipt").fill("ABCD-EFGH-IJKL-MNOP-QRST-UVWX")
        page.get_by_role("button", name="Check").click()
        expect(answer).to_contain_text("We did not find receipt ABCD-EFGH-IJKL-MNOP-QRST-UVWX")
        expect(answer).to_contain_text("does not mean that your ballot was not counted")
        expect(answer.get_by_role("link", name="elections@127.0.0.1")).to_be_visible()
        expect(answer).to_be_focused()
        expect(answer).to_be_in_viewport()
        if javascript:
            audit.check("results, receipt not found")
        assert audit.problems == {}, audit.report()
