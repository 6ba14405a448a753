"""The PSF's bylaws (psf/bylaws, bylaws.md), rule by rule, through the commands and the pages.

Each test quotes the words it implements and runs under the `psf-bylaws`
preset, against the seed preset where the two differ. docs/DOMAIN.md has the
table of sections, words, policy keys and modules.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from ballot.eligibility.models import Forfeiture, VotingRight
from ballot.extensions import db
from ballot.roster.models import Member
from tests.functional.admin.console import follow, post
from tests.functional.factories import (
    CURRENT,
    YEAR,
    audited,
    closes,
    create,
    enrolled,
    invoke,
    links,
    member_row,
    opened,
    refused,
    roster,
    roster_file,
    run,
    setup,
)
from tests.functional.helpers import cast, path_of

# Who votes -------------------------------------------------------------------------------

def test_fellows_are_always_voting_members_and_never_forfeit(app, runner, client, inbox, tmp_path):
    """4.09: "Fellows are always considered voting members as per section 4.2." and 4.11 exempts them:
    they keep their rights however many votes they miss."""
    setup(runner, tmp_path, [("ada", "supporting"), ("fay", "fellow"), ("sam", "supporting")], opted_in={"ada"})
    assert enrolled(runner) == {"ada": "link", "fay": "always"}
    shown = run(runner, "period", "show", str(YEAR))
    assert (shown["can_vote"], shown["always_voting"]) == (2, 1)
    for n in range(5):  # more than the four missed votes that revoke a right (4.11)
        vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", f"Matter {n}", "--question", "Q?")
        assert set(by_voter) == {"ada", "fay"}
        assert cast(client, by_voter["ada"], {"q1": "yes"}).status_code == 200
        run(runner, "vote", "close", str(vote_id))
    assert enrolled(runner) == {"ada": "link", "fay": "always"}
    assert not db.session.scalars(select(Forfeiture)).all()


def test_the_seed_keeps_the_opt_in_for_fellows(app, runner, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting"), ("fay", "fellow")], policy="seed", opted_in={"ada"})
    assert enrolled(runner) == {"ada": "link"}


def test_the_quorum_counts_fellows_only_if_they_vote(app, runner, client, inbox, tmp_path):
    """4.8: "Fellows may exercise voting rights at any time, and if they vote, shall be counted for purposes
    of a quorum." 3.9: "a quorum shall be reached as soon as one-third (1/3) of the members entitled to vote
    (the voting members) have cast their vote. If the voting period ends before a quorum is reached, the vote
    is declared void." """
    people = [("ada", "supporting"), ("bob", "supporting"), ("cy", "supporting"),
              ("fay", "fellow"), ("fox", "fellow"), ("fry", "fellow")]
    setup(runner, tmp_path, people, opted_in={"ada", "bob", "cy"})
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "One voter", "--question", "Q?")
    assert len(by_voter) == 6
    assert cast(client, by_voter["ada"], {"q1": "yes"}).status_code == 200
    result = run(runner, "vote", "close", str(vote_id))["result"]
    # One of the three voting members who are not Fellows: a third of a base of 3, not of 6.
    assert (result["electorate"], result["quorum_base"], result["quorum_met"]) == (6, 3, True)
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Fellows vote", "--question", "Q?")
    assert cast(client, by_voter["fay"], {"q1": "yes"}).status_code == 200
    result = run(runner, "vote", "close", str(vote_id))["result"]
    # The Fellow who voted counts: 1 of a base of 4 is below a third, so the vote is void.
    assert (result["quorum_base"], result["quorum_met"], result["void"]) == (4, False, True)


def board_election(runner, client, inbox, year: int, election: str, voters: list[str]) -> int:
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", f"{election} Board {year}",
                               "--seats", "1", "--candidate", "Guido", "--candidate", "Brett",
                               "--election", election, "--board-size", "1", year=year)
    for key in voters:
        assert cast(client, by_voter[key], {"board": "Guido"}).status_code == 200
    run(runner, "vote", "close", str(vote_id))
    return vote_id


def test_the_affirmation_waiver_enrols_last_regular_board_elections_voters(app, runner, console, inbox, tmp_path):
    """4.2: "The corporation may choose to waive the affirmation requirement for any member who has voted in
    the most recent preceding regular Board of Directors election." """
    people = [("ada", "supporting"), ("bob", "supporting"), ("cy", "contributing"), ("fay", "fellow")]
    setup(runner, tmp_path, people, opted_in={"ada", "bob", "cy"}, year=YEAR - 1)
    election = board_election(runner, client=console, inbox=inbox, year=YEAR - 1, election="regular",
                              voters=["ada", "cy", "fay"])
    board_election(runner, client=console, inbox=inbox, year=YEAR - 1, election="special", voters=["bob"])
    setup(runner, tmp_path, people)
    preview = run(runner, "period", "waive-affirmation", str(YEAR), "--dry-run")
    # Fay, a Fellow, votes without opting in; the special election does not count.
    assert (preview["election"], preview["voters"], preview["enrolled"]) == (election, 3, 2)
    assert enrolled(runner) == {"fay": "always"}
    page = console.get(f"/admin/periods/{YEAR}")
    assert "most recent preceding regular Board of Directors election" in page.text
    assert "<strong>2</strong> voting rights would be enrolled" in page.text
    page = follow(console, post(console, f"/admin/periods/{YEAR}/affirmation-waiver", page=f"/admin/periods/{YEAR}"))
    assert "Enrolled 2 voting rights by the affirmation waiver." in page.text
    assert enrolled(runner) == {"ada": "waiver", "cy": "waiver", "fay": "always"}
    assert audited("period.affirmation-waiver") == [{"election": election, "enrolled": 2}]
    assert run(runner, "period", "waive-affirmation", str(YEAR))["enrolled"] == 0  # nothing twice


def test_the_seed_has_no_waiver(app, runner, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting")], policy="seed")
    assert "has no affirmation waiver" in refused(runner, "period", "waive-affirmation", str(YEAR))


def test_revocation_ends_with_the_calendar_year(app, runner, client, inbox, tmp_path):
    """4.11: "A voting member who does not cast a vote for four (4) votes within a single calendar year shall
    immediately have his or her voting rights revoked for the remainder of such year." """
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], opted_in={"ada", "bob"})
    vote_id = create(runner, "--kind", "other", "--title", "Earlier", "--question", "Q?")["id"]
    bob = db.session.scalar(select(VotingRight).join(Member).where(Member.key == "bob"))
    last_year = dt.datetime(YEAR - 1, 12, 31, 23, 0, tzinfo=dt.UTC)
    db.session.add(Forfeiture(right_id=bob.id, year=YEAR - 1, vote_id=vote_id, forfeited_at=last_year))
    db.session.commit()
    # Revoked on 31 December, Bob is back on the voting roll from 1 January.
    assert enrolled(runner) == {"ada": "link", "bob": "link"}
    assert not any(r["forfeited"] for r in run(runner, "period", "enrolled", str(YEAR)))
    _, by_voter = opened(runner, inbox, "--kind", "other", "--title", "This year", "--question", "Q?")
    assert set(by_voter) == {"ada", "bob"}
    this_year = dt.datetime(YEAR, 1, 1, 0, 0, tzinfo=dt.UTC)
    db.session.add(Forfeiture(right_id=bob.id, year=YEAR, vote_id=vote_id + 1, forfeited_at=this_year))
    db.session.commit()
    assert [r["forfeited"] for r in run(runner, "period", "enrolled", str(YEAR)) if r["member_key"] == "bob"] == [True]


def test_managing_members_import_as_contributing(app, runner, tmp_path):
    """4.6: "All active Managing Members who were eligible prior to the adoption of these Bylaws shall be
    re-certified as Contributing Members"."""
    run(runner, "period", "open", str(YEAR), "--policy", "psf-bylaws")
    path = tmp_path / "pythonorg.csv"
    path.write_text("membership_type,creator,email_address,votes,last_vote_affirmation\n"
                    f"3,guido,guido@example.org,True,{YEAR}-02-01 10:00:00+00:00\n"
                    f"Managing,barry,barry@example.org,True,{YEAR}-02-01 10:00:00+00:00\n"
                    f"4,carol,carol@example.org,True,{YEAR}-02-01 10:00:00+00:00\n")
    result = invoke(runner, "roster", "import", str(path), "--period", str(YEAR))
    assert result.exit_code == 0, result.output
    assert "2 members' class 'managing' read as 'contributing' (PSF bylaws)." in result.output
    members = db.session.scalars(select(Member).where(Member.key.in_(["guido", "barry"]))).all()
    assert {c.name for m in members for c in m.classes} == {"contributing"}
    assert len(run(runner, "period", "enrolled", str(YEAR))) == 3


def test_options_for_classes_the_bylaws_lack_are_refused(app, runner, tmp_path):
    """4.1 lists four classes (Basic, Supporting, Contributing, Fellow): no Sponsor admission, no Managing
    Members' years, no delegates' wording."""
    setup(runner, tmp_path, [("ada", "supporting"), ("fay", "fellow")], opted_in={"ada"})
    output = refused(runner, "vote", "create", "--period", str(YEAR), "--kind", "sponsor-admission",
                     "--title", "Admit", "--question", "ACME?", "--closes-at", closes())
    assert "no sponsor member admission under PSF bylaws" in output
    output = refused(runner, "vote", "create", "--period", str(YEAR), "--kind", "fellow", "--title", "F",
                     "--question", "ada", "--managing-years", "2", "--closes-at", closes())
    assert "managing" in output.lower()


def test_removed_members_drop_out_of_every_count(app, runner, console, inbox, tmp_path):
    """Who can vote is one answer: `period show`, `period enrolled`, the console and `vote open` agree, and a
    member removed by a re-import is in none of them."""
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], opted_in={"ada", "bob"})
    run(runner, "roster", "import", str(roster(tmp_path, YEAR, ("ada", "supporting"))), "--period", str(YEAR))
    assert run(runner, "period", "show", str(YEAR))["can_vote"] == 1
    assert enrolled(runner) == {"ada": "link"}
    assert re.search(r"<dt>Can vote now</dt><dd>1</dd>", console.get(f"/admin/periods/{YEAR}").text)
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Q", "--question", "Q?")
    assert set(by_voter) == {"ada"} and run(runner, "vote", "show", str(vote_id))["electorate"] == 1


def test_a_roster_from_another_format_keeps_enrolments_by_email(app, runner, tmp_path):
    """Switching from python.org's export (keyed by username) to a CiviCRM-style file (keyed by email) in the
    same period matches members by email: their rights and enrolments stay."""
    run(runner, "period", "open", str(YEAR), "--policy", "psf-bylaws")
    first = tmp_path / "pythonorg.csv"
    first.write_text("membership_type,creator,email_address,votes,last_vote_affirmation\n"
                     f"1,ada,ada@example.org,True,{YEAR}-02-01 10:00:00+00:00\n"
                     f"1,bob,bob@example.org,True,{YEAR}-02-01 10:00:00+00:00\n")
    run(runner, "roster", "import", str(first), "--period", str(YEAR))
    assert enrolled(runner) == {"ada": "roster", "bob": "roster"}
    second = roster_file(tmp_path, *(member_row(f"{key}@example.org", f"supporting:{CURRENT}", given=key.title(),
                                                email=f"{key}@example.org") for key in ("ada", "bob")), name="own.csv")
    report = run(runner, "roster", "import", str(second), "--period", str(YEAR))
    assert (report["rekeyed"], report["removed"], report["added"]) == (2, 0, 0)
    assert enrolled(runner) == {"ada@example.org": "roster", "bob@example.org": "roster"}


def test_a_missed_member_is_added_to_an_open_vote(app, runner, console, client, inbox, tmp_path):
    """The PSF's practice: "new voters may need to be added as they were missed"."""
    setup(runner, tmp_path, [("ada", "supporting"), ("bob", "supporting")], opted_in={"ada", "bob"})
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Q", "--question", "Q?", "--quorum",
                               "1/3")
    assert set(by_voter) == {"ada", "bob"}
    # Cy was left off the roster: the corrected roster comes first, then the addition.
    assert "no member 'cy'" in refused(runner, "vote", "add-voter", str(vote_id), "cy", "--reason", "missed")
    run(runner, "roster", "import", str(roster(tmp_path, YEAR, ("ada", "supporting"), ("bob", "supporting"),
                                              ("cy", "supporting"), ("dee", "supporting"))), "--period", str(YEAR))
    added = run(runner, "vote", "add-voter", str(vote_id), "cy", "--reason", "left off the roster")
    assert (added["added"], added["electorate"]) == (1, 3)
    assert "already in this vote's electorate" in refused(
        runner, "vote", "add-voter", str(vote_id), "cy@example.org", "--reason", "again")
    page = follow(console, post(console, f"/admin/votes/{vote_id}/add-voter",
                                {"member": "dee@example.org", "reason": "joined late"}, page=f"/admin/votes/{vote_id}"))
    assert "is added to the electorate" in page.text and "joined late" in page.text
    new_links = links(runner, inbox, vote_id)
    assert set(new_links) == {"cy", "dee"}
    assert cast(client, new_links["cy"], {"q1": "yes"}).status_code == 200
    result = run(runner, "vote", "close", str(vote_id))["result"]
    assert (result["electorate"], result["added_after_opening"], result["participants"]) == (4, 2, 1)
    assert [d["member"] for d in audited("vote.add-voter")] == ["cy", "dee"]
    assert "2 voting rights added after opening" in console.get(f"/admin/votes/{vote_id}").text


# How votes pass ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--kind", "other", "--question", "Q?", "--quorum", "1/4"], "3.9"),
    (["--kind", "other", "--question", "Q?", "--threshold", "at least 1/2"], "3.9"),
    (["--kind", "fellow", "--question", "ada", "--threshold", "3/5"], "4.8"),
    (["--kind", "termination", "--question", "End ada's membership?", "--threshold", "more than 1/2"], "4.15"),
])
def test_a_vote_below_its_floor_is_refused_naming_the_bylaw(app, runner, tmp_path, args, words):
    """14.8: "Each such vote shall have a specific approval requirement identified prior to the commencement
    of such vote, which requirement shall not be less than the requirements set forth in ... these Bylaws"."""
    setup(runner, tmp_path, [("ada", "supporting")], opted_in={"ada"})
    output = refused(runner, "vote", "create", "--period", str(YEAR), "--title", "Low", "--closes-at", closes(),
                     *args)
    assert f"(section {words}: " in output
    assert run(runner, "vote", "list") == []


def test_a_majority_is_more_than_half(app, runner, client, inbox, tmp_path):
    """3.9: "the affirmative vote of a majority of the members ... shall be the act of the members": a tie is
    not a majority."""
    setup(runner, tmp_path, [(k, "supporting") for k in ("ada", "bob", "cy", "dee")],
          opted_in={"ada", "bob", "cy", "dee"})
    vote_id, by_voter = opened(runner, inbox, "--kind", "other", "--title", "Tie", "--question", "Adopt?")
    for key, answer in zip(("ada", "bob", "cy", "dee"), ("yes", "yes", "no", "no"), strict=True):
        assert cast(client, by_voter[key], {"q1": answer}).status_code == 200
    question = run(runner, "vote", "close", str(vote_id))["result"]["questions"][0]
    assert (question["outcome"], question["strict"]) == ("failed", True)
    run(runner, "vote", "publish", str(vote_id))
    assert "it needed more than 1/2" in client.get(f"/votes/{vote_id}/results").text


def test_removing_a_director_needs_a_majority_of_the_whole_electorate(app, runner, client, inbox, tmp_path):
    """5.6: "removed ... by a vote of the majority of the members entitled to vote for the election of
    directors": of everyone entitled, not of those who voted."""
    keys = ("ada", "bob", "cy", "dee", "eve")
    setup(runner, tmp_path, [(k, "supporting") for k in keys], opted_in=set(keys))
    vote_id, by_voter = opened(runner, inbox, "--kind", "director-removal", "--title", "Remove X",
                               "--question", "Remove director X?")
    for key, answer in zip(("ada", "bob", "cy"), ("yes", "yes", "no"), strict=True):
        cast(client, by_voter[key], {"q1": answer})
    question = run(runner, "vote", "close", str(vote_id))["result"]["questions"][0]
    # 2 yes of 3 who voted would pass among participants; of the 5 entitled it is not a majority.
    assert (question["outcome"], question["denominator"]) == ("failed", 5)


def test_fellow_approval_by_two_thirds_of_the_members_entitled_to_vote(app, runner, client, inbox, tmp_path):
    """4.8: "approval of two-thirds (2/3) of the members entitled to vote, or two-thirds (2/3) of the members
    of the chartered Working Group, or two-thirds (2/3) of the Board of Directors, shall be required in order
    for a member to become a Fellow"; "only Members could be nominated"."""
    keys = ("ada", "bob", "cy")
    setup(runner, tmp_path, [(k, "supporting") for k in keys] + [("fay", "fellow")], opted_in=set(keys))
    assert "not a member" in refused(runner, "vote", "create", "--period", str(YEAR), "--kind", "fellow",
                                     "--title", "F", "--question", "Katherine Johnson", "--closes-at", closes())
    vote_id, by_voter = opened(runner, inbox, "--kind", "fellow", "--title", "Fellows", "--question", "ada")
    assert set(by_voter) == {"ada", "bob", "cy", "fay"}  # the voting members, not only the Fellows
    for key in ("bob", "cy"):
        cast(client, by_voter[key], {"q1": "agree"})
    question = run(runner, "vote", "close", str(vote_id))["result"]["questions"][0]
    assert (question["outcome"], question["denominator"]) == ("failed", 4)  # 2 of the 4 entitled: short of 2/3
    group = create(runner, "--kind", "fellow", "--title", "By the Board", "--question", "ada",
                   "--electorate", "group", "--group-name", "the Board of Directors",
                   "--group-member", "bob", "--group-member", "cy@example.org")
    run(runner, "vote", "open", str(group["id"]))
    assert set(links(runner, inbox, group["id"])) == {"bob", "cy"}
    assert "not members holding a voting right" in refused(
        runner, "vote", "create", "--period", str(YEAR), "--kind", "fellow", "--title", "G", "--question", "ada",
        "--electorate", "group", "--group-name", "the Packaging WG", "--group-member", "nobody@example.org",
        "--closes-at", closes())


def test_a_void_vote_decides_nothing(app, runner, console, client, inbox, tmp_path):
    """3.9: "If the voting period ends before a quorum is reached, the vote is declared void." """
    keys = ("ada", "bob", "cy", "dee")
    setup(runner, tmp_path, [(k, "supporting") for k in keys], opted_in=set(keys))
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", "Board", "--seats", "1",
                               "--candidate", "Guido", "--candidate", "Brett", "--board-size", "1")
    cast(client, by_voter["ada"], {"board": "Guido"})
    closed = invoke(runner, "vote", "close", str(vote_id))
    assert "the vote is void" in closed.output and "elected" not in closed.output
    shown = run(runner, "vote", "show", str(vote_id))
    question = shown["result"]["questions"][0]
    assert shown["result"]["void"] and question["outcome"] == "void" and "elected" not in question
    run(runner, "vote", "publish", str(vote_id))
    for page in (client.get(f"/votes/{vote_id}/results").text, console.get(f"/admin/votes/{vote_id}").text):
        assert "the vote is void" in page and "Elected" not in page and "Passed" not in page
    record = client.get(f"/votes/{vote_id}/record.json").json
    assert record["record"]["result"]["void"] and "elected" not in record["record"]["result"]["questions"][0]


# The Board -------------------------------------------------------------------------------------

def test_directors_are_elected_by_plurality_only(app, runner, tmp_path):
    """3.9: "The directors shall be elected by a plurality of the votes of the members"."""
    setup(runner, tmp_path, [("ada", "supporting")], opted_in={"ada"})
    output = refused(runner, "vote", "create", "--period", str(YEAR), "--kind", "board", "--title", "B",
                     "--seats", "1", "--candidate", "A", "--candidate", "B", "--method", "schulze",
                     "--board-size", "1", "--closes-at", closes())
    assert "by approval voting, not the Schulze method" in output


def test_the_affiliation_cap_counts_the_whole_board(app, runner, client, inbox, tmp_path):
    """5.15: "No more than one-quarter (1/4) of the members of the Board of Directors may share any Affiliation";
    5.5: "the candidate ... shall be passed over and the next highest ranking candidate shall be elected"."""
    keys = ("ada", "bob", "cy")
    setup(runner, tmp_path, [(k, "supporting") for k in keys], opted_in=set(keys))
    output = refused(runner, "vote", "create", "--period", str(YEAR), "--kind", "board", "--title", "B",
                     "--seats", "1", "--candidate", "A", "--candidate", "B", "--closes-at", closes())
    assert "5.15" in output and "--board-size" in output
    # A Board of 4 (the seat filled now and 3 staying): one director from ACME stays, so a quarter is used up.
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", "Board", "--seats", "1",
                               "--candidate", "Amy", "--candidate", "Ben", "--board-size", "4",
                               "--affiliation", "Amy=ACME", "--affiliation", "Ben=Initech; Globex",
                               "--continuing", "ACME", "--continuing", "-", "--continuing", "-")
    page = client.get(path_of(by_voter["ada"])).text
    assert "(affiliations: ACME)" in page and "(affiliations: Initech; Globex)" in page
    for key in ("ada", "bob"):
        cast(client, by_voter[key], {"board": "Amy"})
    cast(client, by_voter["cy"], {"board": "Ben"})
    question = run(runner, "vote", "close", str(vote_id))["result"]["questions"][0]
    assert question["counts"] == {"Amy": 2, "Ben": 1} and question["elected"] == ["Ben"]


def test_each_ballot_lists_the_candidates_in_its_own_order(app, runner, client, inbox, tmp_path):
    """The PSF shuffles the candidates on each ballot: an order per ballot, the same each time it is opened;
    the results keep one fixed order."""
    keys = [f"m{i}" for i in range(8)]
    setup(runner, tmp_path, [(k, "supporting") for k in keys], opted_in=set(keys))
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", "Board", "--seats", "1",
                               "--board-size", "1", *[a for n in names for a in ("--candidate", n)])

    def order(link: str) -> list[str]:
        return re.findall(r'name="board" value="([A-Za-z]+)"', client.get(path_of(link)).text)

    orders = {key: order(link) for key, link in by_voter.items()}
    assert all(sorted(o) == sorted(names) for o in orders.values())
    assert len({tuple(o) for o in orders.values()}) > 1
    assert all(order(by_voter[key]) == orders[key] for key in keys[:3])  # the same on every visit
    for key in keys:
        cast(client, by_voter[key], {"board": "Echo"})
    question = run(runner, "vote", "close", str(vote_id))["result"]["questions"][0]
    assert list(question["counts"]) == names


def test_a_tie_is_broken_by_the_psf_script_and_its_procedure_shown(app, runner, client, inbox, tmp_path):
    """psf/elections' break-ties.py decides a tie for the last seat; the result says how to repeat the draw."""
    keys = ("ada", "bob")
    setup(runner, tmp_path, [(k, "supporting") for k in keys], opted_in=set(keys))
    vote_id, by_voter = opened(runner, inbox, "--kind", "board", "--title", "Board", "--seats", "1",
                               "--candidate", "Amy", "--candidate", "Ben", "--board-size", "1")
    cast(client, by_voter["ada"], {"board": "Amy"})
    cast(client, by_voter["bob"], {"board": "Ben"})
    question = run(runner, "vote", "close", str(vote_id))["result"]["questions"][0]
    tie = question["report"]["tie_break"]
    assert sorted(tie["tied"]) == ["Amy", "Ben"] and len(question["elected"]) == 1
    run(runner, "vote", "publish", str(vote_id))
    page = client.get(f"/votes/{vote_id}/results").text
    assert "break-ties" in page and str(tie["seed"]) in page
