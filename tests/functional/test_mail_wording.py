"""What the mail says: reminders say the voter has not voted yet and what missing a vote costs under the
policy in force; a person with two rights gets subjects that tell them apart; one word for enrolment;
those sent a ballot link are told when the vote is cancelled, and why."""

from __future__ import annotations

from tests.functional.factories import CURRENT, YEAR, closes, member_row, opened, roster_file, run, setup
from tests.functional.helpers import cast


def subject(message) -> str:
    return str(message["Subject"]).strip()  # a long subject is folded onto its own line


def sent(runner, inbox) -> list:
    run(runner, "mail", "send")
    messages = list(inbox.messages)
    inbox.clear()
    return messages


def test_a_reminder_says_not_voted_yet_and_what_missing_costs(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting"), ("bea", "supporting"), ("fay", "fellow")],
          opted_in=("ada", "bea"))
    vote_id, links = opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                            "--question", "Charter the Packaging WG")
    cast(client, links["ada"], {"q1": "yes"})
    run(runner, "vote", "remind", str(vote_id))
    reminders = sent(runner, inbox)
    assert sorted(m["To"] for m in reminders) == ["bea@example.org", "fay@example.org"]  # not Ada: she voted
    for message in reminders:
        assert subject(message) == "You have not voted yet (as an individual member): Charter the Packaging WG"
        for body in (inbox.text(message), inbox.html(message)):
            assert "You have not voted yet in" in body
            # psf-bylaws 4.11 and 4.09, as the policy says them
            assert ("Missing 4 votes in a calendar year ends your voting rights for the rest of that year. "
                    "Fellows never lose their voting rights this way.") in body
            assert "delegate" not in body.lower(), "no delegate wording where delegates do not vote"


def test_two_rights_get_subjects_that_tell_them_apart_and_enrolment_is_one_word(app, runner, inbox, tmp_path):
    run(runner, "period", "open", str(YEAR), "--policy", "seed")
    roster = roster_file(tmp_path, member_row("ada", f"supporting:{CURRENT};sponsor:{CURRENT}", delegate_for="ACME"))
    run(runner, "roster", "import", str(roster), "--period", str(YEAR))
    run(runner, "period", "send-opt-in", str(YEAR))
    opt_ins = sent(runner, inbox)
    assert sorted(subject(m) for m in opt_ins) == [
        f"Do you want to vote in the PSF in {YEAR}, as an individual member?",
        f"Do you want to vote in the PSF in {YEAR}, as delegate of ACME?"]
    for message in opt_ins:
        text = inbox.text(message)
        assert "enrolment" in text and "enrollment" not in text.lower()
        assert "Missing 2 votes in the eligibility period ends your voting rights until the next period." in text


def test_those_sent_links_are_told_when_a_vote_is_cancelled(app, runner, client, inbox, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting"), ("bea", "supporting"), ("cy", "supporting")],
          opted_in=("ada", "bea"))
    vote_id, links = opened(runner, inbox, "--kind", "charter", "--title", "Charter the Packaging WG",
                            "--question", "Charter the Packaging WG")
    assert sorted(links) == ["ada", "bea"]
    cast(client, links["ada"], {"q1": "yes"})
    run(runner, "vote", "cancel", str(vote_id), "--reason", "The charter was withdrawn by its authors.")
    notices = sent(runner, inbox)
    assert sorted(m["To"] for m in notices) == ["ada@example.org", "bea@example.org"]
    for message in notices:
        assert subject(message) == "Cancelled (as an individual member): Charter the Packaging WG"
        assert "The charter was withdrawn by its authors." in inbox.text(message)
        assert "counts for nobody" in inbox.text(message)
    # A draft sent no links: cancelling it tells nobody.
    draft = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Draft",
                "--question", "Draft", "--closes-at", closes(3))
    run(runner, "vote", "cancel", str(draft["id"]), "--reason", "Never mind.")
    assert sent(runner, inbox) == []
