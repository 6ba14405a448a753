"""A refused ballot: the error summary takes the focus and is on screen, on a phone as on a desktop,
with and without JavaScript, also on reload; each problem links to its question, which says what is wrong;
Back from the review shows the corrected ballot. Choices kept past their hour, or altered, are explained."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from ballot.tokens import CHOICES_KEPT, token_service
from ballot.votes.views import CHOICES_COOKIE
from tests.browser.conftest import DESKTOP, PHONE, browser_context
from tests.browser.steps import YEAR, Administrator, Audit, link_in_mail, opt_in

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
        # The refusal is a page of its own (POST-redirect-GET): a reload shows it again, focused.
        reloaded = page.reload()
        assert reloaded.request.method == "GET" and reloaded.status == 400
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
            assert audit.problems == {}, audit.problems
        # Corrected, the ballot goes through; Back shows the corrected ballot, with no problem left to name.
        question.get_by_role("checkbox", name=re.compile("Barbara Liskov")).check()
        page.get_by_role("button", name="Review my ballot").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
        back = page.go_back()
        assert back.request.method == "GET" and back.status == 200
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Board of Directors {YEAR}")
        expect(page.get_by_role("alert")).to_have_count(0)
        expect(question.get_by_role("checkbox", name=re.compile("Barbara Liskov"))).to_be_checked()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_kept_choices_past_their_hour_or_altered_are_explained(sqlite_site, browser, inbox, tmp_path, axe_script,
                                                               javascript, viewport):
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    with browser_context(browser, viewport=viewport, java_script_enabled=javascript, bypass_csp=True) as context:
        page = context.new_page()
        audit = Audit(page, axe_script)
        opt_in(page, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        inbox.clear()
        vote_id = admin.open_fellow_vote()
        link = link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/")
        service = token_service(site.app.config, CHOICES_KEPT)
        now = dt.datetime.now(dt.UTC)

        def keep(value: str) -> None:
            context.add_cookies([{"name": CHOICES_COOKIE, "value": value, "domain": "127.0.0.1",
                                  "path": urlsplit(link).path, "httpOnly": True, "sameSite": "Lax"}])

        keep(service.dumps({"v": vote_id, "f": {"q1": ["agree"]}}, now - dt.timedelta(seconds=1)))
        page.goto(link + "/review")  # past their hour: nothing to review
        assert page.url == link
        expect(page.get_by_role("main")).to_contain_text("they are forgotten now")
        expect(page.get_by_role("radio", checked=True)).to_have_count(0)
        if javascript:
            audit.check("ballot, choices forgotten")
        page.reload()
        expect(page.get_by_role("main")).not_to_contain_text("forgotten")

        signed = service.dumps({"v": vote_id, "f": {"q1": ["agree"]}}, now + dt.timedelta(minutes=5))
        keep(signed[:5] + ("B" if signed[5] == "A" else "A") + signed[6:])  # altered
        response = page.goto(link)
        assert response.status == 400
        expect(page.get_by_role("alert")).to_contain_text("The choices this browser kept for your ballot were altered")
        if javascript:
            audit.check("ballot, choices altered")
        page.set_viewport_size(viewport)
        assert page.reload().status == 200, "the altered cookie is dropped"
        expect(page.get_by_role("button", name="Review my ballot")).to_be_visible()
        assert audit.problems == {}, audit.problems
