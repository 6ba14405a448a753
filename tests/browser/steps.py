"""Steps of a year as its people take them: the administrator's commands, the voters' clicks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.functional.helpers import run

YEAR = dt.datetime.now(dt.UTC).year
THIS_YEAR = f"{YEAR}-01-01:{YEAR}-12-31"
NOMINEES = ("Katherine Johnson", "Dennis Ritchie")
CANDIDATES = ("Barbara Liskov", "Guido van Rossum", "Frances Allen", "Tim Peters")


def roster_csv() -> str:
    """Two Fellows, a Supporting member, and a Basic member who has no vote."""
    return "\n".join([
        "member_id,given_name,family_name,email,classes,working_groups,delegate_for",
        'ada,Ada,"Lovelace, Countess",ada@example.org,fellow:2015-05-01:,,',
        "grace,Grace,Hopper,grace@example.org,fellow:2012-03-01:;managing:2020-01-01:,Infrastructure,",
        f"brian,Brian,Kernighan,brian@example.org,supporting:{THIS_YEAR},,",
        "basic,Basic,Member,basic@example.org,basic::,,",
    ]) + "\n"


class Administrator:
    """The election administrator, on the real command line against the served app's database.

    The web console (issue 4) is not in the tree yet; when it is, these steps move to its pages.
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

    def open_fellow_vote(self, *nominees: str) -> int:
        closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
        args = ["vote", "create", "--period", str(YEAR), "--kind", "fellow", "--title", f"Fellows {YEAR}, first batch",
                "--description", "The Board nominates these people for Fellowship.", "--closes-at", closes]
        for nominee in nominees or NOMINEES:
            args += ["--question", nominee]
        vote_id = self.run(*args)["id"]
        self.run("vote", "open", str(vote_id))
        self.send_mail()
        return vote_id

    def open_board_vote(self, method: str = "meek-stv") -> int:
        closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
        args = ["vote", "create", "--period", str(YEAR), "--kind", "board", "--title", f"Board of Directors {YEAR}",
                "--seats", "2", "--method", method, "--closes-at", closes]
        for candidate in CANDIDATES:
            args += ["--candidate", candidate]
        vote_id = self.run(*args)["id"]
        self.run("vote", "open", str(vote_id))
        self.send_mail()
        return vote_id

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
