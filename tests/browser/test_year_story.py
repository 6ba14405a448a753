"""A year's story in a real browser: roster, opt-in, a Fellow vote, two ballots, results, a receipt found."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import NOMINEES, YEAR, Administrator, cast, link_in_mail, opt_in

pytestmark = pytest.mark.browser


def test_a_fellow_vote_from_roster_to_receipt(site, browser, inbox, tmp_path):
    admin = Administrator(site, tmp_path)
    admin.open_period_with_roster()

    # Each voter uses their own browser (their own cookies), as people do.
    ada = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    grace = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        opt_in(ada, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        opt_in(grace, link_in_mail(inbox, site, "grace@example.org", "/opt-in/"))
        assert {r["member_key"] for r in admin.run("period", "enrolled", str(YEAR))} == {"ada", "grace"}

        inbox.clear()
        vote_id = admin.open_fellow_vote()
        assert not inbox.to("brian@example.org")  # not a Fellow, and not enrolled
        ada_receipt = cast(ada, link_in_mail(inbox, site, "ada@example.org", f"/votes/{vote_id}/ballot/"),
                           {NOMINEES[0]: "Agree", NOMINEES[1]: "Agree"})

        # Grace changes her mind on the review page before casting.
        grace.goto(link_in_mail(inbox, site, "grace@example.org", f"/votes/{vote_id}/ballot/"))
        expect(grace.get_by_role("region", name="The rules of this vote")).to_contain_text("2/3")
        grace.get_by_role("group", name=NOMINEES[0]).get_by_role("radio", name="Disagree", exact=True).check()
        grace.get_by_role("group", name=NOMINEES[1]).get_by_role("radio", name="Agree", exact=True).check()
        grace.get_by_role("button", name="Review my ballot").click()
        grace.get_by_role("button", name="Change my choices").click()
        expect(grace.get_by_role("group", name=NOMINEES[0]).get_by_role("radio", name="Disagree", exact=True)).to_be_checked()
        grace_receipt = cast(grace, grace.url, {NOMINEES[0]: "Abstain", NOMINEES[1]: "Agree"})
        assert ada_receipt != grace_receipt

        # The same link again: already voted, and nothing to cast.
        grace.goto(link_in_mail(inbox, site, "grace@example.org", f"/votes/{vote_id}/ballot/"))
        expect(grace.get_by_role("heading", level=1)).to_have_text("You have already voted")

        closed = admin.close_and_publish(vote_id)
        assert closed["ballots"] == 2 and closed["missed"] == 0
        counts = {q["title"]: q["counts"] for q in closed["result"]["questions"]}
        assert counts[NOMINEES[0]] == {"agree": 1, "disagree": 0, "abstain": 1}
        assert counts[NOMINEES[1]] == {"agree": 2, "disagree": 0, "abstain": 0}

        # Ada finds the results from the home page and checks her receipt.
        ada.goto(site.url + "/")
        ada.get_by_role("link", name=re.compile(f"Fellows {YEAR}")).click()
        expect(ada.get_by_role("heading", level=1)).to_contain_text("Results")
        ada.get_by_role("textbox", name="Receipt").fill(ada_receipt)
        ada.get_by_role("button", name="Check").click()
        expect(ada.get_by_role("status")).to_have_text(f"Receipt {ada_receipt} is among the counted ballots.")
        expect(ada.locator("ul.receipts")).to_contain_text(grace_receipt)
        passed = ada.get_by_role("region", name=NOMINEES[1])
        expect(passed).to_contain_text("Passed")
    finally:
        ada.context.close()
        grace.context.close()
