"""Steps of a year as its people take them: the administrator's commands, the voters' clicks."""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from ballot.admin import credentials
from tests.browser.conftest import DESKTOP, PHONE, ROOT
from tests.functional.admin.console import when
from tests.functional.factories import YEAR, closes, roster_text
from tests.functional.helpers import run

THIS_YEAR = f"{YEAR}-01-01:{YEAR}-12-31"
NOMINEES = ("Katherine Johnson", "Dennis Ritchie")
CANDIDATES = ("Barbara Liskov", "Guido van Rossum", "Frances Allen", "Tim Peters")


def roster_csv() -> str:
    """Two Fellows, a Supporting member, and a Basic member who has no vote."""
    return roster_text(
        'ada,Ada,"Lovelace, Countess",ada@example.org,fellow:2015-05-01:,,',
        "grace,Grace,Hopper,grace@example.org,fellow:2012-03-01:;managing:2020-01-01:,Infrastructure,",
        f"brian,Brian,Kernighan,brian@example.org,supporting:{THIS_YEAR},,",
        "basic,Basic,Member,basic@example.org,basic::,,",
    )


class Administrator:
    """The election administrator on the real command line, against the served app's database.

    Quick to set up a year for checks of the voters' pages; the whole story in
    ``test_year_story`` goes through the console instead (``Console``).
    """

    def __init__(self, site, tmp_path: Path):
        self.app = site.app
        self.runner = site.app.test_cli_runner()
        self.tmp_path = tmp_path

    def run(self, *args: str):
        """One `ballot ... --json` command, in its own app context as from a shell."""
        with self.app.app_context():
            return run(self.runner, *args)

    def send_mail(self) -> None:
        sent = self.run("mail", "send")
        assert sent["failed"] == 0 and sent["retry"] == 0, sent

    def open_period_with_roster(self) -> None:
        self.run("period", "open", str(YEAR))
        roster = self.tmp_path / "roster.csv"
        roster.write_text(roster_csv())
        assert self.run("roster", "import", str(roster), "--period", str(YEAR))["added"] == 4
        assert self.run("period", "send-opt-in", str(YEAR))["queued"] == 3
        self.send_mail()

    def open_vote(self, kind: str, title: str, *args: str) -> int:
        """`ballot vote create` closing in a week, then `vote open`, and the links sent; the vote's id."""
        vote_id = self.run("vote", "create", "--period", str(YEAR), "--kind", kind, "--title", title,
                           "--closes-at", closes(), *args)["id"]
        self.run("vote", "open", str(vote_id))
        self.send_mail()
        return vote_id

    def open_fellow_vote(self, *nominees: str) -> int:
        return self.open_vote("fellow", f"Fellows {YEAR}, first batch",
                              "--description", "The Board nominates these people for Fellowship.",
                              *(arg for nominee in nominees or NOMINEES for arg in ("--question", nominee)))

    def open_board_vote(self, method: str = "meek-stv", seats: int = 2, *args: str) -> int:
        return self.open_vote("board", f"Board of Directors {YEAR}", "--seats", str(seats), "--method", method,
                              *(arg for candidate in CANDIDATES for arg in ("--candidate", candidate)), *args)

    def close_and_publish(self, vote_id: int) -> dict:
        closed = self.run("vote", "close", str(vote_id))
        self.run("vote", "publish", str(vote_id))
        return closed


def link_in_mail(inbox, site, address: str, path_part: str) -> str:
    """The one link to ``path_part`` that ``address`` was sent."""
    links = [link for link in inbox.links(address, site.link_pattern) if path_part in link]
    assert len(links) == 1, f"{address}: {links}"
    return links[0]


def opt_in(page: Page, link: str) -> None:
    """Follow the opt-in link and press the button (opening the link alone enrols nobody)."""
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Do you want to vote")
    page.get_by_role("button", name=re.compile("Yes, enrol me")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are enrolled")


def choose(page: Page, answers: dict[str, str]) -> None:
    """Tick one answer per question, by the question's and the answer's visible names."""
    for question, answer in answers.items():
        group = page.get_by_role("group", name=question)
        group.get_by_role("radio", name=answer, exact=True).check()


def cast(page: Page, link: str, answers: dict[str, str]) -> str:
    """Open the ballot, choose, review, cast; returns the receipt shown."""
    page.goto(link)
    choose(page, answers)
    page.get_by_role("button", name="Review my ballot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
    for question, answer in answers.items():
        expect(page.get_by_role("row", name=re.compile(re.escape(question)))).to_contain_text(answer)
    page.get_by_role("button", name="Cast my ballot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your ballot is cast")
    return page.locator(".receipt strong").inner_text()


class Console:
    """The election administrator in the web console, in a browser of their own.

    Mail leaves through the outbox worker, here `ballot mail send` from the command line.
    ``look``, if given, is shown each page on the way that the steps do not stay on
    (by name: "sign-in", "code", "roster preview", "vote form, fellow", "draft vote",
    "closed vote"), for checks of what the pages look like.
    """

    PASSWORD = "correct horse battery staple"

    def __init__(self, site, page: Page, tmp_path: Path, look: Callable[[str], object] | None = None):
        self.site = site
        self.page = page
        self.cli = Administrator(site, tmp_path)
        self.tmp_path = tmp_path
        self.look = look or (lambda name: None)

    def sign_in(self, email: str = "admin@example.org") -> None:
        """An account made by `ballot admin create`, then the password and the authenticator's code."""
        password_file = self.tmp_path / "admin.password"
        password_file.write_text(self.PASSWORD + "\n")
        account = self.cli.run("admin", "create", email, "--password-file", str(password_file))
        secret = base64.b32decode(account["totp_secret"])
        page = self.page
        page.goto(self.site.url + "/admin/")
        self.look("sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(self.PASSWORD)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
        self.look("code")
        page.get_by_label("Code from your authenticator app").fill(credentials.totp_code(secret, time.time()))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    def open_period_with_roster(self) -> None:
        page = self.page
        page.get_by_label("Year").fill(str(YEAR))
        page.get_by_role("button", name="Open the period").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"The {YEAR} eligibility period")
        roster = self.tmp_path / "roster.csv"
        roster.write_text(roster_csv())
        page.get_by_label("Roster file (CSV or JSON)").set_input_files(roster)
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check before importing")
        expect(page.get_by_role("main")).to_contain_text("4 members")
        self.look("roster preview")
        page.get_by_role("button", name="Import this file").click()
        expect(page.get_by_text("Imported 4 members: 4 added")).to_be_visible()
        page.get_by_role("button", name="Send the opt-in messages").click()
        expect(page.get_by_text("Queued 3 opt-in messages")).to_be_visible()
        self.cli.send_mail()

    def enrolled(self) -> str:
        """The period page's enrolment section, as the administrator reads it."""
        self.page.goto(f"{self.site.url}/admin/periods/{YEAR}")
        return self.page.get_by_role("region", name="Opt-in and enrolment").inner_text()

    def open_fellow_vote(self) -> int:
        page = self.page
        page.goto(f"{self.site.url}/admin/periods/{YEAR}")
        page.get_by_role("link", name="Fellow nomination").click()
        self.look("vote form, fellow")
        page.get_by_label("Title").fill(f"Fellows {YEAR}, first batch")
        page.get_by_label("Description (optional)").fill("The Board nominates these people for Fellowship.")
        page.get_by_label("Closes at").fill(when(7))
        page.get_by_label(re.compile("^Nominees")).fill("\n".join(NOMINEES))
        page.get_by_role("button", name="Save the draft").click()
        expect(page.get_by_role("main")).to_contain_text("2 voting rights")
        self.look("draft vote")
        page.get_by_role("button", name="Open the vote now").click()
        expect(page.get_by_text("The vote is open: 2 ballot links are queued.")).to_be_visible()
        self.cli.send_mail()
        return int(re.search(r"/admin/votes/(\d+)", page.url).group(1))

    def close_and_publish(self) -> None:
        """On the open vote's page: close and count, then publish."""
        page = self.page
        page.get_by_role("link", name="Close and count now…").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Close and count")
        self.look("close confirmation")
        page.get_by_role("button", name="Yes, close and count it now").click()
        expect(page.get_by_text("The vote is closed and counted.")).to_be_visible()
        self.look("closed vote")
        page.get_by_role("button", name="Publish the result").click()
        expect(page.get_by_text("The result and the signed record are published.")).to_be_visible()


# Checking pages ------------------------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
# The pages the README shows.
NARROWEST = {"width": 320, "height": 640}
SHOWN = {"opt-in", "ballot", "review", "receipt", "standing, with votes", "results", "link-again", "ballot, ranked",
         "results, ranked", "home, with results"}


class Audit:
    """Checks each page it is shown and collects every problem, so that one run names them all."""

    def __init__(self, page: Page, axe_script):
        self.page = page
        self.axe_script = axe_script
        self.problems: dict[str, list[str]] = {}
        self.seen: list[str] = []
        self.screenshots = bool(os.environ.get("BALLOT_SCREENSHOTS"))

    def check(self, name: str) -> None:
        self.page.wait_for_load_state()
        self.seen.append(name)
        found = []
        for label, size in (("narrowest phone", NARROWEST), ("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            scroll = self.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if scroll[0] > scroll[1]:
                found.append(f"{label}: scrolls sideways ({scroll[0]}px of content in {scroll[1]}px)")
            if size is NARROWEST:
                continue  # WCAG's reflow width: only the sideways scrolling is checked there
            found += [f"{label}: {v}" for v in self.axe()]
            if self.screenshots:
                self.shoot(name, label)
        self.page.set_viewport_size(PHONE)
        if found:
            self.problems[name] = found

    def report(self) -> str:
        """Every problem found, page by page."""
        return "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in self.problems.items())

    def shoot(self, name: str, label: str) -> None:
        """The README's picture of this page at this width, if it shows one."""
        if name in SHOWN:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            slug = name.replace(", ", "-").replace(" ", "-")
            self.page.screenshot(path=SCREENSHOTS / f"{slug}-{label}.png", full_page=label == "phone")

    def axe(self) -> list[str]:
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(self.axe_script))
        violations = self.page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
            ".map(v => `${v.id} (${v.impact}): ${v.help}: ` + v.nodes.map(n => n.target.join(' ')).join(', '))",
            AXE_TAGS,
        )
        return violations
