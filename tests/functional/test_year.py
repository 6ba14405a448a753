"""A whole year of the seed model's rules, through the real commands, pages and mail."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from ballot.tokens import BALLOT_LINK, token_service
from tests.functional.factories import YEAR, asked_to_opt_in, closes
from tests.functional.helpers import cast, csrf_token, opt_in, path_of, receipt_of, run

THIS_YEAR = f"{YEAR}-01-01:{YEAR}-12-31"
FELLOWS = [f"fellow{i}" for i in range(2, 10)]  # with Ada: nine Fellows


def members() -> list[str]:
    rows = [
        # Supporting and Fellow: one individual right; also a Sponsor Delegate: a second right.
        f'ada,Ada,"Lovelace, Countess",ada@example.org,'
        f"supporting:{THIS_YEAR};fellow:2015-05-01:;sponsor:{THIS_YEAR},,ACME Corp",
        f"brian,Brian,Kernighan,brian@example.org,contributing:{YEAR - 1}-06-01:,,",
        "margaret,Margaret,Hamilton,margaret@example.org,managing:2020-02-01:,Infrastructure,",
        "basic,Basic,Member,basic@example.org,basic::,,",
        f"lapsed,Lapsed,Supporter,lapsed@example.org,supporting:{YEAR - 2}-01-01:{YEAR - 1}-01-01,,",
    ]
    return rows + [f"{f},{f.title()},Fellow,{f}@example.org,fellow:2010-01-01:,," for f in FELLOWS]


def send_mail(runner) -> None:
    sent = run(runner, "mail", "send")
    assert sent["failed"] == 0 and sent["retry"] == 0


def ballot_link(inbox, address: str, vote_id: int) -> str:
    links = [link for link in inbox.links(address) if f"/votes/{vote_id}/ballot/" in link]
    assert len(links) == 1, f"{address}: {links}"
    return links[0]


@pytest.fixture
def year(app, runner, client, inbox, tmp_path):
    """The period opened, the roster imported, everyone but Margaret enrolled through their opt-in link."""
    assert asked_to_opt_in(runner, tmp_path, *members()) == 4 + len(FELLOWS)  # Ada twice; not Basic, nor lapsed
    for address in ["ada@example.org", "brian@example.org", *[f"{f}@example.org" for f in FELLOWS]]:
        for link in inbox.links(address):
            response = opt_in(client, link)
            assert response.status_code == 200 and "You are enrolled" in response.text
    inbox.clear()
    return YEAR


def test_rights_follow_the_model(year, runner, inbox):
    enrolled = run(runner, "period", "enrolled", str(YEAR))
    ada = sorted((r["capacity"], r["sponsor"]) for r in enrolled if r["member_key"] == "ada")
    assert ada == [("delegate", "ACME Corp"), ("individual", "")]
    keys = {r["member_key"] for r in enrolled}
    assert "basic" not in keys and "lapsed" not in keys and "margaret" not in keys  # did not opt in
    assert len(enrolled) == 2 + 1 + len(FELLOWS)


def test_fellow_vote_at_exactly_two_thirds_passes_and_fails_under_three_quarters(year, runner, client, inbox):
    votes = {}
    for threshold in (None, "3/4"):
        args = ["vote", "create", "--period", str(YEAR), "--kind", "fellow", "--title", f"Fellows {threshold}",
                "--closes-at", closes(), "--question", "Katherine Johnson"]
        if threshold:
            args += ["--threshold", threshold]
        vote = run(runner, *args)
        assert run(runner, "vote", "open", str(vote["id"]))["electorate"] == 9  # Fellows only, as individuals
        votes[threshold] = vote["id"]
    send_mail(runner)
    fellows = ["ada", *FELLOWS]
    answers = ["agree"] * 6 + ["disagree"] * 2 + ["abstain"]  # 6 of 9 participating: exactly 2/3
    receipts = []
    for vote_id in votes.values():
        for who, answer in zip(fellows, answers, strict=True):
            response = cast(client, ballot_link(inbox, f"{who}@example.org", vote_id), {"q1": answer})
            assert response.status_code == 200
            receipts.append(receipt_of(response))
    results = {}
    for threshold, vote_id in votes.items():
        closed = run(runner, "vote", "close", str(vote_id))
        assert closed["ballots"] == 9
        results[threshold] = closed["result"]["questions"][0]
    assert results[None]["counts"] == {"agree": 6, "disagree": 2, "abstain": 1}
    assert results[None]["share"] == "2/3" and results[None]["outcome"] == "passed"
    assert results["3/4"]["share"] == "2/3" and results["3/4"]["outcome"] == "failed"

    run(runner, "vote", "publish", str(votes[None]))
    results = client.get(f"/votes/{votes[None]}/results")
    page = client.post(f"/votes/{votes[None]}/results",
                       data={"csrf_token": csrf_token(results.text), "receipt": receipts[0].lower()})
    assert page.status_code == 200
    assert f"Receipt {receipts[0]} is among the counted ballots. It was counted as:" in page.text
    assert "Katherine Johnson: agree" in page.text  # Ada's answer, the first cast
    unknown = client.post(f"/votes/{votes[None]}/results",
                          data={"csrf_token": csrf_token(results.text), "receipt": "AAAA-BBBB"})
    assert "We did not find receipt" in unknown.text
    record = client.get(f"/votes/{votes[None]}/record.json").get_json()
    assert sorted(b["receipt"] for b in record["record"]["ballots"]) == sorted(receipts[:9])


def test_two_missed_votes_forfeit_and_exclude_from_the_third(year, runner, client, inbox):
    ids = []
    for n in range(2):
        vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", f"Charter {n}",
                   "--closes-at", closes(), "--question", "Charter the Packaging WG?")
        run(runner, "vote", "open", str(vote["id"]))
        ids.append(vote["id"])
    send_mail(runner)
    for vote_id in ids:
        # Everyone votes but Brian; Ada votes as an individual but not as ACME's delegate.
        for who in ["ada", *FELLOWS]:
            assert cast(client, ballot_link(inbox, f"{who}@example.org", vote_id) if who != "ada"
                        else _individual_link(inbox, vote_id), {"q1": "yes"}).status_code == 200
    first = run(runner, "vote", "close", str(ids[0]))
    assert first["missed"] == 2 and first["forfeited"] == 0
    inbox.clear()
    second = run(runner, "vote", "close", str(ids[1]))
    assert second["missed"] == 2 and second["forfeited"] == 2  # Brian, and Ada's delegate right
    send_mail(runner)
    notice = inbox.to("brian@example.org")
    assert len(notice) == 1 and "lapsed" in notice[0]["Subject"]
    standing_link = re.search(r"https://vote\.test/standing/\S+", inbox.text(notice[0])).group(0)
    standing = client.get(path_of(standing_link))
    assert "forfeited until the next eligibility period" in standing.text
    assert "Charter 0, Charter 1" in standing.text

    third = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "other", "--title", "Third",
                "--closes-at", closes(), "--question", "Adopt the policy?")
    opened = run(runner, "vote", "open", str(third["id"]))
    assert opened["electorate"] == 1 + len(FELLOWS)  # Ada's individual right and the Fellows only
    send_mail(runner)
    assert not [m for m in inbox.to("brian@example.org") if "Third" in m["Subject"]]


def _individual_link(inbox, vote_id: int) -> str:
    """Ada gets two ballots per vote; the one saying 'as an individual member'."""
    for message in inbox.to("ada@example.org"):
        text = inbox.text(message)
        if f"/votes/{vote_id}/ballot/" in text and "as an individual member" in text:
            return re.search(r"https://vote\.test/\S+", text).group(0)
    raise AssertionError("no individual ballot for Ada")


def test_bad_links_and_second_cast(year, runner, client, inbox, app):
    ids = []
    for n in range(2):
        vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "sponsor-admission",
                   "--title", f"Admit sponsor {n}", "--closes-at", closes(), "--question", "Admit ACME?")
        run(runner, "vote", "open", str(vote["id"]))
        ids.append(vote["id"])
    send_mail(runner)
    link = ballot_link(inbox, "brian@example.org", ids[0])
    path = path_of(link)

    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 400 and "not valid" in response.text and "Traceback" not in response.text

    other_vote = path.replace(f"/votes/{ids[0]}/", f"/votes/{ids[1]}/")
    response = client.get(other_vote)
    assert response.status_code == 400 and "different vote" in response.text

    right_id = token_service(app.config, BALLOT_LINK).loads(path.rsplit("/", 1)[1])["r"]
    expired = token_service(app.config, BALLOT_LINK).dumps(
        {"v": ids[0], "r": right_id}, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    response = client.get(f"/votes/{ids[0]}/ballot/{expired}")
    assert response.status_code == 410 and "expired" in response.text

    page = client.get(path)
    # Refused casts: the ballot page (where the browser is sent, POST-redirect-GET) names the problem, with a 400.
    empty = client.post(path, data={"csrf_token": csrf_token(page.text), "step": "cast"}, follow_redirects=True)
    assert empty.status_code == 400 and "choose one of yes, no, abstain" in empty.text
    invalid = client.post(path, data={"csrf_token": csrf_token(page.text), "step": "cast", "q1": "maybe"},
                          follow_redirects=True)
    assert invalid.status_code == 400 and "not one of the choices" in invalid.text

    reopened = client.get(path)  # the link again in this browser: the ballot as it was left, and its problem
    assert reopened.status_code == 400 and "not one of the choices" in reopened.text
    token = csrf_token(reopened.text)
    review = client.post(path, data={"csrf_token": token, "step": "review", "q1": "no"}, follow_redirects=True)
    assert review.status_code == 200 and "Review your ballot" in review.text
    cast_page = client.post(path, data={"csrf_token": token, "step": "cast", "q1": "no"}, follow_redirects=True)
    assert cast_page.status_code == 200 and "Your ballot is cast" in cast_page.text
    again = client.post(path, data={"csrf_token": csrf_token(page.text), "step": "cast", "q1": "yes"})
    assert again.status_code == 409 and "already been cast" in again.text
    client.delete_cookie("ballot_receipt", domain="vote.test", path=path)  # another browser: no receipt kept
    assert "already voted" in client.get(path).text
    closed = run(runner, "vote", "close", str(ids[0]))
    assert closed["ballots"] == 1 and closed["result"]["questions"][0]["counts"] == {"yes": 0, "no": 1, "abstain": 0}
    after = client.get(path_of(ballot_link(inbox, "fellow2@example.org", ids[0])))
    assert after.status_code == 409 and "closed" in after.text


def test_cancelled_vote_counts_for_nobody(year, runner, client, inbox):
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "governance", "--title", "Withdrawn",
               "--closes-at", closes(), "--question", "Amend the bylaws?")
    run(runner, "vote", "open", str(vote["id"]))
    send_mail(runner)
    link = ballot_link(inbox, "brian@example.org", vote["id"])
    assert cast(client, link, {"q1": "yes"}).status_code == 200
    run(runner, "vote", "cancel", str(vote["id"]), "--reason", "The motion was withdrawn.")
    response = client.get(path_of(ballot_link(inbox, "fellow2@example.org", vote["id"])))
    assert response.status_code == 409 and "withdrawn" in response.text
    failed = runner.invoke(args=["vote", "close", str(vote["id"])])
    assert failed.exit_code == 1 and "cancelled" in failed.output
    enrolled = run(runner, "period", "enrolled", str(YEAR))
    assert not any(r["forfeited"] for r in enrolled)


def _open_sponsor_vote(runner, inbox) -> tuple[int, str]:
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "sponsor-admission",
               "--title", "Admit a sponsor", "--closes-at", closes(), "--question", "Admit ACME?")
    run(runner, "vote", "open", str(vote["id"]))
    send_mail(runner)
    return vote["id"], path_of(ballot_link(inbox, "brian@example.org", vote["id"]))


def _written(vote_id: int) -> list[int]:
    from sqlalchemy import func, select

    from ballot.extensions import db
    from ballot.votes.models import ParticipationRecord, SealedBallot

    return [db.session.scalar(select(func.count()).select_from(model).where(model.vote_id == vote_id))
            for model in (ParticipationRecord, SealedBallot)]


def test_a_close_between_opening_the_ballot_and_casting_it_refuses_the_ballot(year, runner, client, inbox):
    """The statement that records a cast checks that the vote is still open, whatever the page knew."""
    vote_id, path = _open_sponsor_vote(runner, inbox)
    page = client.get(path)
    assert page.status_code == 200
    run(runner, "vote", "close", str(vote_id))
    response = client.post(path, data={"csrf_token": csrf_token(page.text), "step": "cast", "q1": "yes"})
    assert response.status_code == 409 and "closed" in response.text
    assert _written(vote_id) == [0, 0]


def test_a_ballot_is_sealed_with_the_key_the_vote_has_now(year, runner, client, inbox, app):
    """An app process keeps each open vote's questions and key once read; if the database then holds
    another key for that vote (restored from a backup, say), the cast notices and seals with the new one."""
    from ballot import sealing
    from ballot.extensions import db
    from ballot.votes import queries as votes

    vote_id, path = _open_sponsor_vote(runner, inbox)
    page = client.get(path)  # this process now keeps the vote's ballot box
    vote = votes.get_vote(vote_id)
    vote.public_key, vote.wrapped_key = sealing.new_vote_keys(sealing_key(app), vote_id)
    db.session.commit()
    response = client.post(path, data={"csrf_token": csrf_token(page.text), "step": "cast", "q1": "no"},
                           follow_redirects=True)
    assert response.status_code == 200
    closed = run(runner, "vote", "close", str(vote_id))  # opens every sealed ballot with the vote's key
    assert closed["ballots"] == 1 and closed["result"]["questions"][0]["counts"]["no"] == 1
    record = json.loads(votes.get_vote(vote_id).record)
    assert [b["receipt"] for b in record["ballots"]] == [receipt_of(response)]


def test_a_ballot_is_checked_against_the_questions_the_vote_has_now(year, runner, client, inbox, app):
    """If the database holds another vote under the id whose questions an app process keeps (the
    database reset, or restored from a backup), a ballot valid for the vote it holds now is recorded."""
    from ballot import sealing
    from ballot.extensions import db
    from ballot.votes import queries as votes

    vote_id, path = _open_sponsor_vote(runner, inbox)
    page = client.get(path)  # this process now keeps the vote's ballot box: one question, q1
    vote = votes.get_vote(vote_id)
    vote.questions = [{**vote.questions[0], "id": "q2", "title": "Admit Initech?"}]
    vote.public_key, vote.wrapped_key = sealing.new_vote_keys(sealing_key(app), vote_id)
    db.session.commit()
    response = client.post(path, data={"csrf_token": csrf_token(page.text), "step": "cast", "q2": "yes"},
                           follow_redirects=True)
    assert response.status_code == 200 and "receipt" in response.text, response.text
    closed = run(runner, "vote", "close", str(vote_id))
    assert closed["ballots"] == 1 and closed["result"]["questions"][0]["counts"]["yes"] == 1


def sealing_key(app) -> bytes:
    import base64

    return base64.urlsafe_b64decode(app.config["BALLOT_SEALING_KEY"])
