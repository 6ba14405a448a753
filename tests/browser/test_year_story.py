"""A year's story in real browsers: the administrator in the console, the voters following their mail.

The administrator imports a roster and opens the period, voters opt in, the
administrator opens a Fellow vote, two voters cast, the administrator closes
and publishes it, and a voter finds their receipt in the published results.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, browser_context
from tests.browser.steps import NOMINEES, YEAR, Console, cast, link_in_mail, opt_in

pytestmark = pytest.mark.browser


def test_a_fellow_vote_from_roster_to_receipt(site, browser, inbox, tmp_path):
    # Each person uses their own browser (their own cookies), as people do.
    with contextlib.ExitStack() as browsers:
        admin_page, ada, grace = (browsers.enter_context(browser_context(browser, viewport=size)).new_page()
                                  for size in (DESKTOP, PHONE, DESKTOP))
        admin = Console(site, admin_page, tmp_path)
        admin.sign_in()
        admin.open_period_with_roster()

        opt_in(ada, link_in_mail(inbox, site, "ada@example.org", "/opt-in/"))
        opt_in(grace, link_in_mail(inbox, site, "grace@example.org", "/opt-in/"))
        assert re.search(r"Can vote now\D*2\b", admin.enrolled()), admin.enrolled()

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
        grace.get_by_role("link", name="Change my choices").click()
        expect(grace.get_by_role("group", name=NOMINEES[0]).get_by_role("radio", name="Disagree", exact=True)
               ).to_be_checked()
        grace_receipt = cast(grace, grace.url, {NOMINEES[0]: "Abstain", NOMINEES[1]: "Agree"})
        assert ada_receipt != grace_receipt

        # The same link again: in her browser, her receipt; in another, already voted, and nothing to cast.
        grace_link = link_in_mail(inbox, site, "grace@example.org", f"/votes/{vote_id}/ballot/")
        grace.goto(grace_link)
        expect(grace.locator(".receipt strong")).to_have_text(grace_receipt)
        ada.goto(grace_link)
        expect(ada.get_by_role("heading", level=1)).to_have_text("You have already voted")
        expect(ada.get_by_role("main")).not_to_contain_text(grace_receipt)

        admin_page.reload()
        expect(admin_page.get_by_role("main")).to_contain_text("2 of 2")  # turnout, never a partial result
        admin.close_and_publish()

        # Ada finds the results from the home page and checks her receipt.
        ada.goto(site.url + "/")
        ada.get_by_role("link", name=re.compile(f"Fellows {YEAR}")).click()
        expect(ada.get_by_role("heading", level=1)).to_contain_text("Results")
        ada.get_by_role("textbox", name="Receipt").fill(ada_receipt)
        ada.get_by_role("button", name="Check").click()
        expect(ada.get_by_role("status")).to_contain_text(
            f"Receipt {ada_receipt} is among the counted ballots. It was counted as:"
        )
        expect(ada.locator("ul.receipts")).to_contain_text(grace_receipt)
        first, second = (ada.get_by_role("region", name=nominee, exact=True) for nominee in NOMINEES)
        for name in ("Agree 1", "Disagree 0", "Abstain 1"):
            expect(first.get_by_role("row", name=name, exact=True)).to_be_visible()
        expect(first).to_contain_text("Not passed")  # 1 agree of 2 participating is short of 2/3
        expect(second.get_by_role("row", name="Agree 2", exact=True)).to_be_visible()
        expect(second).to_contain_text("Passed")
