"""Factories for functional tests: a period with its roster, votes made and opened, each voter's link.

Every step goes through the real commands (`ballot ...`) as an administrator
would; only the opt-in confirmation is taken as given (the opt-in page has its
own tests), and committed, as the page would commit it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.eligibility import services as eligibility
from ballot.extensions import db

YEAR = dt.datetime.now(dt.UTC).year
TODAY = dt.datetime.now(dt.UTC).date()
CURRENT = f"{TODAY - dt.timedelta(days=400)}:{TODAY + dt.timedelta(days=300)}"
HEADER = "member_id,given_name,family_name,email,classes,working_groups,delegate_for"


# Steps ---------------------------------------------------------------------------------

def invoke(runner, *args: str):
    result = runner.invoke(args=list(args))
    assert "Traceback" not in result.output
    return result


def run(runner, *args: str):
    """A command with --json that must succeed; its parsed standard output."""
    result = invoke(runner, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(runner, *args: str) -> str:
    """A command refused with a plain message and exit status 1 (no traceback); its output."""
    result = invoke(runner, *args)
    assert result.exit_code == 1 and result.output.startswith("error: "), result.output
    assert isinstance(result.exception, SystemExit), result.exception
    return result.output


def member_row(key: str, classes: str, *, given: str | None = None, family: str = "Tester",
               email: str | None = None, groups: str = "", delegate_for: str = "") -> str:
    """One roster line; ``classes`` as written in the file (``fellow:2015-05-01:;sponsor:...``)."""
    email = f"{key}@example.org" if email is None else email
    return f"{key},{key.title() if given is None else given},{family},{email},{classes},{groups},{delegate_for}"


def roster_text(*rows: str) -> str:
    """A roster CSV: the header, then ``rows``, one a line."""
    return "\n".join([HEADER, *rows]) + "\n"


def roster_file(tmp_path: Path, *rows: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(roster_text(*rows), encoding="utf-8")
    return path


def roster(tmp_path, year: int, *people: tuple[str, str], name: str = "roster.csv"):
    """Import a roster of (key, classes) into ``year``'s period."""
    return roster_file(tmp_path, *(member_row(key, ";".join(f"{c}:{CURRENT}" for c in classes.split()))
                                   for key, classes in people), name=name)


def setup(runner, tmp_path, people, *, policy: str = "psf-bylaws", opted_in=(), year: int = YEAR):
    """A period under ``policy`` with ``people`` on its roster; those in ``opted_in`` confirm their opt-in."""
    run(runner, "period", "open", str(year), "--policy", policy)
    run(runner, "roster", "import", str(roster(tmp_path, year, *people, name=f"roster-{year}.csv")),
        "--period", str(year))
    for right in eligibility.rights_of(eligibility.get_period(year)):
        if right.member.key in opted_in:
            eligibility.confirm_opt_in(right)
    db.session.commit()  # as the opt-in page would: a refused command's rollback must not undo it


def asked_to_opt_in(runner, tmp_path, *rows: str, year: int = YEAR) -> int:
    """A period (under the configured policy, the seed) with a roster of ``rows``, its opt-in messages queued to
    every voting right and sent; how many were asked."""
    run(runner, "period", "open", str(year))
    run(runner, "roster", "import", str(roster_file(tmp_path, *rows, name=f"roster-{year}.csv")), "--period", str(year))
    asked = run(runner, "period", "send-opt-in", str(year))["queued"]
    run(runner, "mail", "send")
    return asked


def fellows(count: int) -> list[tuple[str, str]]:
    """``count`` Fellows, m0, m1, ..., for ``setup``."""
    return [(f"m{n}", "fellow") for n in range(count)]


def enrolled_fellows(runner, tmp_path, count: int) -> None:
    """A period under the seed with ``count`` Fellows, every one of them enrolled."""
    people = fellows(count)
    setup(runner, tmp_path, people, policy="seed", opted_in={key for key, _ in people})


def later(**delta: float) -> str:
    """A time as the commands take it, ``delta`` (``days=7``, ``seconds=3``...) from now."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).isoformat()


def closes(days: float = 7) -> str:
    return later(days=days)


def create(runner, *args: str, year: int = YEAR) -> dict:
    return run(runner, "vote", "create", "--period", str(year), "--closes-at", closes(), *args)


def links(runner, inbox, vote_id: int) -> dict[str, str]:
    """Send the outbox; each voter's (by member key) ballot link for the vote."""
    run(runner, "mail", "send")
    found = {}
    for message in inbox.messages:
        for link in re.findall(rf"https://vote\.test/votes/{vote_id}/ballot/\S+", inbox.text(message)):
            found[message["To"].split("@")[0]] = link
    inbox.clear()
    return found


def opened(runner, inbox, *args: str, year: int = YEAR) -> tuple[int, dict[str, str]]:
    vote_id = create(runner, *args, year=year)["id"]
    run(runner, "vote", "open", str(vote_id))
    return vote_id, links(runner, inbox, vote_id)


def enrolled(runner, year: int = YEAR) -> dict[str, str]:
    """`period enrolled`: how each member on the voting roll votes."""
    return {r["member_key"]: r["how"] for r in run(runner, "period", "enrolled", str(year))}


def audited(action: str) -> list[dict]:
    return [e.detail for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))]
