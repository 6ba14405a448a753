"""Who is at risk (issue 10, item 14): per right, how many votes it missed, who is one missed vote from
the limit and who forfeited; a console page and `ballot period at-risk`, participation only."""

from __future__ import annotations

from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from tests.functional.factories import YEAR, invoke, opened, run, setup
from tests.functional.helpers import cast

PEOPLE = [("ada", "supporting"), ("bea", "supporting"), ("cy", "supporting"), ("dan", "fellow")]


def a_year(client, runner, inbox, tmp_path, policy: str = "seed"):
    """Three votes closed: Ada voted in all, Bea missed one, Cy missed two, Dan (a Fellow) missed all."""
    setup(runner, tmp_path, PEOPLE, policy=policy, opted_in=[key for key, _ in PEOPLE])
    for number, voters in enumerate((["ada", "bea"], ["ada"], ["ada", "bea", "cy"]), 1):
        vote_id, found = opened(runner, inbox, "--kind", "charter", "--title", f"Charter {number}", "--question",
                                "Q?")
        for who in voters:
            if who in found:
                assert cast(client, found[who], {"q1": "yes"}).status_code == 200
        run(runner, "vote", "close", str(vote_id))


def test_the_command_lists_missed_votes_near_the_limit_and_forfeited(client, runner, inbox, tmp_path):
    a_year(client, runner, inbox, tmp_path)
    rows = run(runner, "period", "at-risk", str(YEAR))
    assert [(r["member_key"], r["missed"], r["limit"], r["standing"]) for r in rows] == [
        ("cy", 2, 2, "forfeited"), ("dan", 2, 2, "forfeited"), ("bea", 1, 2, "near the limit")]
    assert set(rows[0]) == {"right_id", "member_key", "name", "email", "capacity", "sponsor", "missed", "limit",
                            "standing"}  # nothing about what anyone voted
    text = invoke(runner, "period", "at-risk", str(YEAR)).output
    assert text.startswith(f"3 voting rights in {YEAR} have missed votes that count: 2 forfeited, 1 one missed "
                           "vote from the limit, 0 below it, 0 exempt.")
    assert "Bea Tester <bea@example.org> individual: missed 1 of 2; one more missed vote ends their voting" in text
    assert "Cy Tester <cy@example.org> individual: missed 2 of 2; forfeited: cannot vote until the next period" in text
    assert db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "period.at-risk")).all()


def test_under_the_bylaws_fellows_are_exempt(client, runner, inbox, tmp_path):
    a_year(client, runner, inbox, tmp_path, policy="psf-bylaws")  # four missed votes in a year forfeit
    rows = run(runner, "period", "at-risk", str(YEAR))
    assert [(r["member_key"], r["missed"], r["standing"]) for r in rows] == [
        ("cy", 2, "missed"), ("bea", 1, "missed"), ("dan", 3, "exempt")]


def test_the_console_page(console, runner, inbox, tmp_path):
    a_year(console, runner, inbox, tmp_path)
    page = console.get(f"/admin/periods/{YEAR}")
    assert f'href="/admin/periods/{YEAR}/at-risk"' in page.text
    page = console.get(f"/admin/periods/{YEAR}/at-risk")
    assert page.status_code == 200
    assert "<strong>2</strong> forfeited" in page.text
    assert "<strong>1</strong> one missed vote from the limit" in page.text
    assert ('<th scope="row">Bea Tester</th><td>bea@example.org</td><td>individual</td><td>1 of 2</td>'
            "<td><strong>one more missed vote ends their voting rights</strong></td>") in page.text
    assert "Ada Tester" not in page.text  # voted every time
    assert console.get("/admin/periods/1999/at-risk").status_code == 404
