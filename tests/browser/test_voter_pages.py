"""Every voter page: no axe-core violations (WCAG 2.2 A and AA, and best practice), no sideways
scrolling on a phone or a desktop, and a ballot cast with the keyboard alone.

With BALLOT_SCREENSHOTS=1 the walk also writes the screenshots under docs/screenshots/
that the README shows (`BALLOT_SCREENSHOTS=1 make test`, or pytest on this file).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, browser_context
from tests.browser.steps import (
    CANDIDATES,
    NOMINEES,
    SHOWN,
    Administrator,
    Audit,
    cast,
    choose,
    link_in_mail,
    opt_in,
)

pytestmark = pytest.mark.browser

def test_every_voter_page_is_accessible_and_fits_a_phone(sqlite_site, browser, inbox, tmp_path, axe_script):
    site = sqlite_site
    admin = Administrator(site, tmp_path)
    # axe-core is injected as a script, which the pages' Content-Security-Policy rightly forbids.
    with browser_context(browser, viewport=PHONE, bypass_csp=True) as context:
        page = context.new_page()
        audit = Audit(page, axe_script)
        page.goto(site.url + "/")
        audit.check("home")
        page.goto(site.url + "/link-again")
        audit.check("link-again")
        page.get_by_role("button", name="Send me my links").click()
        expect(page.get_by_role("alert")).to_contain_text("Enter the email address")
        audit.check("link-again, no address")
        page.get_by_role("textbox", name="Your email address").fill("ada@example.org")
        page.get_by_role("button", name="Send me my links").click()
        audit.check("link-again, sent")
        admin.send_mail()  # the worker answers the request: nobody is on a roster yet, so nothing is sent
        assert inbox.messages == []

        admin.open_period_with_roster()
        page.goto(link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        audit.check("opt-in")
        page.get_by_role("button", name=re.compile("Yes, enrol me")).click()
        audit.check("enrolled")
        page.get_by_role("link", name="See your voting standing").click()
        standing = page.url
        audit.check("standing")
        opt_in(page, link_in_mail(inbox, site, "grace@example.org", "/opt-in/"))

        inbox.clear()
        vote_id = admin.open_fellow_vote()
        page.goto(site.url + "/")
        expect(page.get_by_role("main")).to_contain_text(re.compile(r"Fellows \d{4}, first batch\s*closes"))
        audit.check("home, with open votes")
        link = link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/")
        page.goto(link)
        audit.check("ballot")
        # The browser would refuse an unanswered ballot itself; let the service refuse it.
        page.evaluate("document.querySelector('main form').noValidate = true")
        page.get_by_role("button", name="Review my ballot").click()
        expect(page.get_by_role("alert")).to_be_visible()
        audit.check("ballot, not answered")
        choose(page, {NOMINEES[0]: "Agree", NOMINEES[1]: "Abstain"})
        page.get_by_role("button", name="Review my ballot").click()
        audit.check("review")
        page.get_by_role("button", name="Cast my ballot").click()
        receipt = page.locator(".receipt strong").inner_text()
        audit.check("receipt")
        page.goto(link)
        audit.check("already voted")
        page.goto(link[:-4] + "AAAA")
        audit.check("error")
        cast(page, link_in_mail(inbox, site, "grace@example.org", f"/votes/{vote_id}/ballot/"),
             {NOMINEES[0]: "Disagree", NOMINEES[1]: "Agree"})

        # A ranked Board ballot, with its script putting candidates in order.
        inbox.clear()
        board_id = admin.open_board_vote()
        grace_board = link_in_mail(inbox, site, "grace@example.org", f"/votes/{board_id}/ballot/")
        page.goto(link_in_mail(inbox, site, "ada@example.org", f"/votes/{board_id}/ballot/"))
        for candidate in (CANDIDATES[2], CANDIDATES[0], CANDIDATES[1]):
            page.get_by_role("button", name=f"Add {candidate} to your ranking").click()
        page.get_by_role("button", name=f"Move {CANDIDATES[0]} up").click()
        audit.check("ballot, ranked")
        page.get_by_role("button", name="Review my ballot").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
        audit.check("review, ranked")
        page.get_by_role("button", name="Cast my ballot").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")

        admin.close_and_publish(vote_id)
        admin.close_and_publish(board_id)
        page.goto(f"{site.url}/votes/{vote_id}/results")
        page.get_by_role("textbox", name="Receipt").fill(receipt)
        page.get_by_role("button", name="Check").click()
        expect(page.get_by_role("status")).to_contain_text("is among the counted ballots")
        audit.check("results")
        # The outcome first, in words; the chart on the public page; no closing time of a closed vote.
        outcome = page.get_by_role("region", name="Outcome")
        expect(outcome).to_contain_text(f"{NOMINEES[0]}: Not passed")  # 1 of 2 agree: below 2/3
        expect(outcome).to_contain_text(f"{NOMINEES[1]}: Not passed")
        expect(page.locator("svg.chart").first).to_be_visible()
        expect(page.get_by_role("main")).not_to_contain_text("Closes")
        page.goto(f"{site.url}/votes/{board_id}/results")
        expect(page.get_by_role("region", name="Outcome")).to_contain_text("Elected: ")
        expect(page.get_by_role("img", name=re.compile("first preferences per candidate"))).to_be_visible()
        audit.check("results, ranked")
        page.goto(site.url + "/")
        audit.check("home, with results")
        # Dead ends: a closed vote's link leads to its results; a cancelled vote gives its reason.
        page.goto(grace_board)
        page.get_by_role("link", name=re.compile("See the results")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Results: Board of Directors")
        page.go_back()
        audit.check("closed vote's link")
        inbox.clear()
        cancelled = admin.open_fellow_vote("Ada Lovelace")
        admin.run("vote", "cancel", str(cancelled), "--reason", "The nomination was withdrawn.")
        page.goto(link_in_mail(inbox, site, "grace@example.org", f"/votes/{cancelled}/ballot/"))
        expect(page.get_by_role("main")).to_contain_text("The nomination was withdrawn.")
        audit.check("cancelled vote's link")
        # Ada's standing: the period's votes, what she did in each, what missing votes means.
        page.goto(standing)
        votes = page.get_by_role("region", name="This period's votes")
        expect(votes.get_by_role("row", name=re.compile(r"Fellows \d{4}, first batch .* took part"))).to_be_visible()
        expect(votes.get_by_role("row", name=re.compile("Board of Directors .* took part"))).to_be_visible()
        expect(votes.get_by_role("row", name=re.compile("cancelled: counts for nobody"))).to_be_visible()
        expect(page.get_by_role("region", name="What missing votes means")).to_contain_text("Missing 2 votes")
        audit.check("standing, with votes")
    assert audit.problems == {}, audit.report()
    assert SHOWN <= set(audit.seen)


def test_a_ballot_cast_with_the_keyboard_alone(site, page, inbox, tmp_path):
    """Tab, Space and Enter only: no mouse, no arrow keys, and the focus always visible."""
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    keyboard = Keyboard(page)

    page.goto(link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
    keyboard.tab_to("a.skip")  # the first stop: skip to the content
    keyboard.tab_to("button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are enrolled")

    inbox.clear()
    vote_id = admin.open_fellow_vote()
    page.goto(link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/"))
    keyboard.tab_to("a.skip")
    page.keyboard.press("Enter")  # skip the header
    for question in ("q1", "q2"):
        keyboard.tab_to(f"input[name={question}]")
        page.keyboard.press("Space")
    keyboard.tab_to("button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
    expect(page.get_by_role("row", name=re.compile(NOMINEES[0]))).to_contain_text("Agree")
    expect(page.get_by_role("row", name=re.compile(NOMINEES[1]))).to_contain_text("Agree")
    keyboard.tab_to("button[value=cast]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")
    assert admin.run("vote", "show", str(vote_id))["participants"] == 1


class Keyboard:
    def __init__(self, page: Page):
        self.page = page

    def tab_to(self, selector: str, most: int = 25) -> None:
        """Press Tab until the focus is on ``selector``; each stop must show where the focus is."""
        for _ in range(most):
            self.page.keyboard.press("Tab")
            focused = self.page.evaluate(
                """(selector) => {
                    const el = document.activeElement, style = getComputedStyle(el);
                    const box = el.getBoundingClientRect();
                    return {match: el.matches(selector), tag: el.outerHTML.slice(0, 80),
                            outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
                                     && box.width > 2 && box.height > 2};
                }""",
                selector,
            )
            assert focused["outline"], f"no visible focus on {focused['tag']}"
            if focused["match"]:
                return
        raise AssertionError(f"{selector} not reached with {most} presses of Tab")


def test_a_ranked_ballot_cast_with_the_keyboard_alone(site, page, inbox, tmp_path):
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()
    opt_in(page, link_in_mail(inbox, site, "grace@example.org", "/opt-in/"))
    inbox.clear()
    vote_id = admin.open_board_vote()
    keyboard = Keyboard(page)
    page.goto(link_in_mail(inbox, site, "grace@example.org", f"/votes/{vote_id}/ballot/"))
    for candidate in (CANDIDATES[3], CANDIDATES[1]):
        keyboard.tab_to(f"button[aria-label='Add {candidate} to your ranking']")
        page.keyboard.press("Enter")
    # Adding a candidate puts the focus on its "up" button: one more Enter moves it up.
    expect(page.get_by_role("button", name=f"Move {CANDIDATES[1]} up")).to_be_focused()
    page.keyboard.press("Enter")
    keyboard.tab_to("main form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
    expect(page.get_by_role("row", name=re.compile("Board"))).to_contain_text(f"{CANDIDATES[1]}{CANDIDATES[3]}")
    keyboard.tab_to("button[value=cast]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")
