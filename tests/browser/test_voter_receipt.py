"""Casting step by step: the ballot, the review and the receipt survive reload and Back, with and without
JavaScript, at phone and desktop widths; the receipt can be copied and printed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import DESKTOP, PHONE, browser_context
from tests.browser.steps import NOMINEES, YEAR, Administrator, Audit, cast, choose, link_in_mail, opt_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_step_of_the_cast_survives_reload_and_back(sqlite_site, browser, inbox, tmp_path, axe_script,
                                                         javascript, viewport):
    """The ballot, the review and the receipt are pages of their own (GETs): reload and Back show them
    again, never a browser error or a question about sending a form again; after the cast, every one of
    them shows the receipt."""
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    with browser_context(browser, viewport=viewport, java_script_enabled=javascript, bypass_csp=True) as context:
        if javascript:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        page = context.new_page()
        audit = Audit(page, axe_script)
        heading = page.get_by_role("heading", level=1)

        def arrive(move, title: str) -> None:
            """Reload, Back or Forward lands on a page the service answered to a GET, titled ``title``."""
            response = move()
            assert response is not None, "no page was loaded"
            assert response.request.method == "GET" and response.ok, (response.request.method, response.status)
            assert not page.url.startswith("chrome-error:"), page.url
            expect(heading).to_have_text(title)

        def answered(question: str) -> Locator:
            return page.get_by_role("group", name=question).get_by_role("radio", checked=True)

        def check(name: str) -> None:
            if javascript:  # axe-core is a script: it runs where scripts do (the page is the same without)
                audit.check(name)
                page.set_viewport_size(viewport)

        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        # Enrolled by a POST that sends the browser back to the link (POST-redirect-GET): reload and Back
        # land on the link's page, which now says so.
        arrive(page.reload, "You are enrolled")
        arrive(page.go_back, "You are enrolled")
        inbox.clear()
        vote_id = admin.open_fellow_vote()
        link = link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/")
        title = f"Fellows {YEAR}, first batch"
        # Opened from the mail, a page of another site: cookies that only this site's own pages may send
        # (SameSite=Strict) would be left out of every reload and Back of the ballot page.
        page.goto(f"data:text/html,<a href='{link}'>Your ballot</a>")
        page.get_by_role("link", name="Your ballot").click()
        expect(heading).to_have_text(title)
        arrive(page.reload, title)
        choose(page, {NOMINEES[0]: "Agree", NOMINEES[1]: "Disagree"})
        page.get_by_role("button", name="Review my ballot").click()
        expect(heading).to_have_text("Review your ballot")
        assert page.url == link + "/review", "the review is a page of its own, and the choices are not in its URL"
        arrive(page.reload, "Review your ballot")
        expect(page.get_by_role("row", name=re.compile(NOMINEES[1]))).to_contain_text("Disagree")

        # Back to the ballot: the choices are still made; Forward to the review again.
        arrive(page.go_back, title)
        expect(answered(NOMINEES[0])).to_have_accessible_name("Agree")
        expect(answered(NOMINEES[1])).to_have_accessible_name("Disagree")
        check("ballot, choices kept")
        arrive(page.reload, title)
        expect(answered(NOMINEES[1])).to_have_accessible_name("Disagree")
        arrive(page.go_forward, "Review your ballot")

        # Change a choice from the review page: the ballot comes back filled in.
        page.get_by_role("link", name="Change my choices").click()
        expect(heading).to_have_text(title)
        expect(answered(NOMINEES[0])).to_have_accessible_name("Agree")
        choose(page, {NOMINEES[1]: "Abstain"})
        page.get_by_role("button", name="Review my ballot").click()
        expect(page.get_by_role("row", name=re.compile(NOMINEES[1]))).to_contain_text("Abstain")
        check("review, changed")

        page.get_by_role("button", name="Cast my ballot").click()
        expect(heading).to_have_text("Your ballot is cast")
        assert page.url == link, "the cast lands on the ballot link (POST-redirect-GET)"
        receipt = page.locator(".receipt strong").inner_text()
        arrive(page.reload, "Your ballot is cast")
        expect(page.locator(".receipt strong")).to_have_text(receipt)

        # Back, step by step, to the ballot page first opened: each page says the ballot is cast, with the
        # receipt. (With JavaScript the receipt took the last review's place in the history: one step less.)
        for _ in range(3 if javascript else 4):
            arrive(page.go_back, "Your ballot is cast")
            expect(page.locator(".receipt strong")).to_have_text(receipt)
            arrive(page.reload, "Your ballot is cast")
        assert page.url == link
        check("receipt, after Back")
        page.go_back()  # to the mail
        expect(page.get_by_role("link", name="Your ballot")).to_be_visible()
        arrive(page.go_forward, "Your ballot is cast")

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

        # Away to the standing page, and Back: the receipt again; the review page's address shows it too.
        page.get_by_role("link", name="See your voting standing").click()
        expect(heading).to_contain_text("Your voting standing")
        arrive(page.go_back, "Your ballot is cast")
        expect(page.locator(".receipt strong")).to_have_text(receipt)
        page.goto(link + "/review")
        expect(page.locator(".receipt strong")).to_have_text(receipt)
        assert admin.run("vote", "show", str(vote_id))["participants"] == 1
        assert audit.problems == {}, audit.problems


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
        assert audit.problems == {}, audit.problems
