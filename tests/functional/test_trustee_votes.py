"""Votes held by trustees, k of n, through the commands: registered, opened, closed, answered, counted.

Each trustee makes their key with `ballot trustee keygen` and answers with
`ballot trustee answer`, as on their own machine (no configuration needed);
the administrator uses `ballot trustee add`, `ballot vote trustees`,
`ballot vote trustee-request` and `ballot vote trustee-answer`. Voters cast
through the ballot pages.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from sqlalchemy import func, select

from ballot import create_app, sealing
from ballot.audit.models import AuditEvent
from ballot.cli import main
from ballot.errors import PolicyInvalid
from ballot.extensions import db
from ballot.trustees import collection, keys
from ballot.votes import queries
from ballot.votes.models import SealedBallot, VoteTrustee
from tests.conftest import TEST_SECRETS
from tests.functional.factories import YEAR, enrolled_fellows, later, links
from tests.functional.helpers import Machine, answer, cast, run

ANSWERS = ["yes", "yes", "no"]  # three of the four voters cast; the fourth misses the vote


def register(runner, machines: list[Machine]) -> None:
    for machine in machines:
        added = run(runner, "trustee", "add", machine.name, "--public-key", str(machine.public))
        assert added["fingerprint"] == machine.fingerprint  # the administrator compares it with the trustee's


def trustee_vote(runner, tmp_path, machines: list[Machine], threshold: int = 2, title: str = "Bylaws") -> int:
    """A policy vote held by ``threshold`` of the trustees, open; returns its id."""
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "policy", "--title", title,
               "--question", "Adopt the bylaws?", "--closes-at", later(hours=1))
    chosen = run(runner, "vote", "trustees", str(vote["id"]),
                 *[a for m in machines for a in ("--trustee", m.fingerprint)], "--threshold", str(threshold),
                 "--confirm")
    assert [t["fingerprint"] for t in chosen["trustees"]] == [m.fingerprint for m in machines]
    assert [t["index"] for t in chosen["trustees"]] == list(range(1, len(machines) + 1))
    run(runner, "vote", "open", str(vote["id"]))
    return vote["id"]


def cast_ballots(runner, client, inbox, vote_id: int) -> None:
    by_voter = links(runner, inbox, vote_id)
    inbox.clear()
    for choice, link in zip(ANSWERS, sorted(by_voter.values()), strict=False):
        assert cast(client, link, {"q1": choice}).status_code == 200


def installation_key(client, tmp_path) -> Path:
    """The installation's public key, as a trustee downloads it from /signing-key.pem."""
    path = tmp_path / "installation.pem"
    path.write_text(client.get("/signing-key.pem").text)
    return path


def request_for(runner, vote_id: int, machine: Machine, tmp_path) -> Path:
    out = tmp_path / f"request-{vote_id}-{machine.name}.json"
    written = run(runner, "vote", "trustee-request", str(vote_id), "--trustee", machine.fingerprint, "-o", str(out))
    assert written["trustee"] == machine.fingerprint
    return out


def refused(runner, *args: str) -> str:
    """A command that must fail: its error message."""
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)["error"]


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def sealed_ballots(vote_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.vote_id == vote_id))


def rows_of(vote_id: int) -> list[VoteTrustee]:
    return list(db.session.scalars(select(VoteTrustee).where(VoteTrustee.vote_id == vote_id)
                                   .order_by(VoteTrustee.position).execution_options(populate_existing=True)))


@pytest.fixture
def year(app, runner, tmp_path, machines):
    enrolled_fellows(runner, tmp_path, 4)
    register(runner, machines)
    return YEAR


# --- The whole way ----------------------------------------------------------------------

@pytest.mark.parametrize("answering", [(0, 2), (1, 2)], ids=["trustees 1 and 3", "trustees 2 and 3"])
def test_a_2_of_3_vote_is_counted_with_any_two_of_its_trustees(year, runner, client, inbox, tmp_path, machines,
                                                                answering):
    vote_id = trustee_vote(runner, tmp_path, machines)
    ballot_page = client.get(next(iter(links(runner, inbox, vote_id).values())).removeprefix("https://vote.test"))
    assert ("How your ballot is protected: it is sealed with a key that only 2 of the vote's trustees together can "
            "unlock, after the close; nobody who runs the service can open it alone, nor fewer of the trustees."
            ) in html.unescape(ballot_page.text)
    inbox.clear()
    run(runner, "vote", "remind", str(vote_id))
    cast_ballots(runner, client, inbox, vote_id)

    closed = run(runner, "vote", "close", str(vote_id))
    vote = queries.get_vote(vote_id)
    assert (closed["status"], closed["missed"], closed["trustees_needed"], closed["trustees"]) == ("counting", 1, 2, 3)
    assert closed["collection_key"] == keys.fingerprint(vote.collection_key)
    assert "result" not in closed and vote.result is None and vote.record is None
    # Closed to casting, not counted: nothing to publish, the ballots still sealed.
    assert "only a closed vote can be published" in refused(runner, "vote", "publish", str(vote_id))
    assert client.get(f"/votes/{vote_id}/results").status_code == 404
    assert sealed_ballots(vote_id) == 3

    signer = installation_key(client, tmp_path)
    first, second = (machines[n] for n in answering)
    taken = run(runner, "vote", "trustee-answer", str(vote_id),
                str(answer(first, request_for(runner, vote_id, first, tmp_path), signer)))
    assert taken == {"trustee": first.fingerprint, "answered": 1, "trustees_needed": 2, "status": "counting"}
    shown = run(runner, "vote", "show", str(vote_id))
    assert shown["status"] == "counting" and shown["result"] is None
    assert [t["answered_at"] is not None for t in shown["trustees"]] == [n == answering[0] for n in range(3)]
    assert sealed_ballots(vote_id) == 3

    counted = run(runner, "vote", "trustee-answer", str(vote_id),
                  str(answer(second, request_for(runner, vote_id, second, tmp_path), signer)))
    assert (counted["status"], counted["answered"], counted["ballots"]) == ("closed", 2, 3)
    assert counted["result"]["questions"][0]["counts"] == {"yes": 2, "no": 1, "abstain": 0}

    # Counted, and every piece of key material destroyed in the same unit of work.
    vote = queries.get_vote(vote_id)
    db.session.refresh(vote)
    assert vote.status == "closed" and sealed_ballots(vote_id) == 0
    assert (vote.public_key, vote.wrapped_key, vote.collection_key, vote.wrapped_collection_key) == (None,) * 4
    rows = rows_of(vote_id)
    assert [(r.sealed_share, r.commitment, r.answer) for r in rows] == [(None, None, None)] * 3
    assert [r.answered_at is not None for r in rows] == [n in answering for n in range(3)]
    assert [e.detail["trustee"] for e in events("vote.trustee-answer")] == [first.fingerprint, second.fingerprint]
    assert events("vote.count")[0].detail == {"trustees": [first.fingerprint, second.fingerprint]}

    # The record names the trustees, k, and who took part; `ballot verify` checks it.
    run(runner, "vote", "publish", str(vote_id))
    out = tmp_path / "record.json"
    assert runner.invoke(args=["vote", "export", str(vote_id), "-o", str(out)]).exit_code == 0
    record = json.loads(out.read_text())["record"]
    statement = ("Trustees: the ballots were sealed with a key that only 2 of the vote's 3 trustees together could "
                 "unlock after the close; nobody who ran the service could open them alone, nor fewer of the "
                 "trustees. 2 of them took part in opening them.")
    assert record["protection"] == {"model": "trustees", "threshold": 2,
                                    "trustees": [m.fingerprint for m in machines],
                                    "took_part": [first.fingerprint, second.fingerprint], "statement": statement}
    verified = CliRunner().invoke(main, ["verify", str(out), "--signer", str(signer)])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.splitlines()[1:] == [statement] + [
        f"  trustee #{n + 1} {m.fingerprint}{'  took part' if n in answering else ''}" for n, m in enumerate(machines)]

    results = html.unescape(client.get(f"/votes/{vote_id}/results").text)
    assert statement in results
    for n, machine in enumerate(machines):
        state = "took part in the count" if n in answering else "did not take part"
        assert f"<code>{machine.fingerprint}</code>: {state}" in results


def test_a_vote_that_only_one_trustee_answers_stays_uncounted(year, runner, client, inbox, tmp_path, machines):
    vote_id = trustee_vote(runner, tmp_path, machines)
    cast_ballots(runner, client, inbox, vote_id)
    run(runner, "vote", "close", str(vote_id))
    signer = installation_key(client, tmp_path)
    answered = answer(machines[0], request_for(runner, vote_id, machines[0], tmp_path), signer)
    assert run(runner, "vote", "trustee-answer", str(vote_id), str(answered))["answered"] == 1

    # The same trustee again counts for nothing; the worker leaves the vote alone, and does not fail on it.
    assert "was received already" in refused(runner, "vote", "trustee-answer", str(vote_id), str(answered))
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and f"vote {vote_id}" not in result.output
    assert run(runner, "worker", "status")["failures"] == []
    shown = runner.invoke(args=["vote", "show", str(vote_id)]).output
    assert f"Vote {vote_id} (policy, counting)" in shown
    assert "Trustees: 2 of these 3 must answer after the close." in shown
    vote = queries.get_vote(vote_id)
    assert vote.status == "counting" and vote.result is None and sealed_ballots(vote_id) == 3
    assert "only a closed vote can be published" in refused(runner, "vote", "publish", str(vote_id))
    assert "only a draft or open vote can be cancelled" in refused(runner, "vote", "cancel", str(vote_id),
                                                                   "--reason", "no")


def test_wrong_repeated_and_forged_answers_are_refused_with_the_reason_and_change_nothing(
        year, runner, client, inbox, tmp_path, machines, app):
    vote_id = trustee_vote(runner, tmp_path, machines)
    other_id = trustee_vote(runner, tmp_path, machines, title="Another vote")
    cast_ballots(runner, client, inbox, vote_id)
    signer = installation_key(client, tmp_path)
    ada, bea, cy = machines

    # Before the close there is nothing to ask for, nor to answer.
    assert "once it has closed" in refused(runner, "vote", "trustee-request", str(vote_id), "--trustee",
                                           ada.fingerprint, "-o", str(tmp_path / "early.json"))
    run(runner, "vote", "close", str(vote_id))
    run(runner, "vote", "close", str(other_id))
    good = answer(ada, request_for(runner, vote_id, ada, tmp_path), signer)
    document = json.loads(good.read_text())

    def attempt(name: str, content: str | dict) -> str:
        path = tmp_path / f"{name}.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return refused(runner, "vote", "trustee-answer", str(vote_id), str(path))

    def altered(**changes) -> dict:
        changed = json.loads(json.dumps(document))
        for key, value in changes.items():
            part, _, field = key.partition("__")
            if field:
                changed[part][field] = value
            else:
                changed[part] = value
        return changed

    # An answer for another vote.
    elsewhere = json.loads(answer(ada, request_for(runner, other_id, ada, tmp_path), signer).read_text())
    assert attempt("other-vote", elsewhere) == f"this answer is for vote {other_id}, not vote {vote_id}"
    # Not an answer at all.
    assert attempt("garbage", "hello") == "this is not a trustee answer file: it is not JSON"
    assert attempt("request", request_for(runner, vote_id, bea, tmp_path).read_text()).startswith(
        "this is not a trustee answer file")
    # A share claimed by another index than the trustee's.
    assert attempt("index", altered(trustee__index=2)) == (
        f"this answer claims share #2, but the trustee {ada.fingerprint} holds share #1")
    # Tampered with on the way.
    sealed = bytearray(base64.urlsafe_b64decode(document["sealed_share"]))
    sealed[-1] ^= 1
    assert attempt("tampered", altered(sealed_share=sealing.b64(bytes(sealed)))) == (
        "this answer does not open with the close's collection key: it was altered")
    # From a key that holds no share of this vote.
    outsider = keys.fingerprint(keys.raw_public_key(X25519PrivateKey.generate()))
    assert attempt("outsider", altered(trustee__fingerprint=outsider)) == (
        f"this answer is from a key that holds no share of vote {vote_id} ({outsider})")
    # Forged by someone with a copy of the database and the configuration, who sent the trustee a
    # request of their own (their collection key, signed with the installation's key): its answer is
    # sealed to their collection key, not this close's.
    vote = queries.get_vote(vote_id)
    row = rows_of(vote_id)[1]
    forger = X25519PrivateKey.generate()
    forged_request = collection.close_request(
        vote_id, vote.title, collection.TrusteeShare(row.fingerprint, row.position, row.sealed_share, row.commitment),
        keys.raw_public_key(forger), app.config["BALLOT_SIGNING_KEY"])
    (tmp_path / "request-forged.json").write_text(forged_request.to_json())
    assert attempt("forged", json.loads(answer(bea, tmp_path / "request-forged.json", signer).read_text())) == (
        "this answer was made for another close request: it is sealed to another collection key")
    # A share that is not the one made for the trustee, sealed properly to this close's key.
    wrong = sealing.SUITE.encrypt(bytes(16), X25519PublicKey.from_public_bytes(vote.collection_key),
                                  info=f"ballot/trustees/answer/{vote_id}/1/{ada.fingerprint}".encode())
    assert attempt("wrong-share", altered(sealed_share=sealing.b64(wrong))) == (
        f"the share in this answer is not the one made for trustee {ada.fingerprint} when vote {vote_id} opened "
        "(it does not match its commitment)")
    # Nothing changed: no answer kept, nothing audited.
    assert [r.answer for r in rows_of(vote_id)] == [None] * 3 and events("vote.trustee-answer") == []

    # The genuine answers still count the vote; a repeated one is refused.
    assert run(runner, "vote", "trustee-answer", str(vote_id), str(good))["answered"] == 1
    assert attempt("again", document) == f"share #1 (trustee {ada.fingerprint}) was received already"
    counted = run(runner, "vote", "trustee-answer", str(vote_id),
                  str(answer(cy, request_for(runner, vote_id, cy, tmp_path), signer)))
    assert counted["status"] == "closed" and counted["ballots"] == 3
    # Once counted, nothing more is taken.
    assert "trustees' answers are taken only while a vote waits for them" in attempt("late", document)


def test_the_worker_moves_a_due_trustee_vote_to_counting(year, runner, client, inbox, tmp_path, machines):
    vote_id = trustee_vote(runner, tmp_path, machines)
    cast_ballots(runner, client, inbox, vote_id)
    vote = queries.get_vote(vote_id)
    vote.closes_at = vote.opened_at  # its closing time has come
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"closed vote {vote_id}: Bylaws: 1 missed, 0 rights forfeited; it waits for 2 of its 3 trustees' answers" \
        in result.output
    assert queries.get_vote(vote_id).status == "counting"
    assert run(runner, "worker", "status")["failures"] == []
    signer = installation_key(client, tmp_path)
    for machine in machines[:2]:
        run(runner, "vote", "trustee-answer", str(vote_id),
            str(answer(machine, request_for(runner, vote_id, machine, tmp_path), signer)))
    assert queries.get_vote(vote_id).result["questions"][0]["counts"] == {"yes": 2, "no": 1, "abstain": 0}


# --- Choosing k of n ------------------------------------------------------------------------

def test_k_must_be_at_least_2_unless_the_installation_allows_one_and_at_most_n(year, runner, tmp_path, machines,
                                                                              app, monkeypatch):
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Charter",
               "--question", "Charter it?", "--closes-at", later(hours=1))
    vote_id = str(vote["id"])
    two = ["--trustee", machines[0].fingerprint, "--trustee", machines[1].fingerprint]
    assert "one trustee alone could open the ballots early" in refused(runner, "vote", "trustees", vote_id, *two,
                                                                        "--threshold", "1")
    assert "must be from 1 to 2 (the trustees named), not 3" in refused(runner, "vote", "trustees", vote_id, *two,
                                                                         "--threshold", "3")
    assert "say how many of the trustees must answer" in refused(runner, "vote", "trustees", vote_id, *two)
    assert "is named twice" in refused(runner, "vote", "trustees", vote_id, *two, "--trustee",
                                       machines[0].fingerprint.replace(" ", "").lower(), "--threshold", "2")
    assert "is not a key's fingerprint" in refused(runner, "vote", "trustees", vote_id, "--trustee", "ABCD",
                                                   "--threshold", "2")
    assert "give the trustees" in refused(runner, "vote", "trustees", vote_id)
    # The administrator confirms k and n after reading what losing trustees means; until then nothing changes.
    unconfirmed = refused(runner, "vote", "trustees", vote_id, *two, "--threshold", "2")
    assert "not one of them may lose their key or be unreachable" in unconfirmed
    assert "If fewer than 2 can answer, the ballots can never be opened, by anyone" in unconfirmed
    assert unconfirmed.endswith("then run this again with --confirm.")
    assert events("vote.trustees") == [] and rows_of(int(vote_id)) == []
    assert queries.get_vote(int(vote_id)).trustee_threshold is None

    monkeypatch.setitem(app.config, "BALLOT_ALLOW_SINGLE_TRUSTEE", True)
    chosen = run(runner, "vote", "trustees", vote_id, *two, "--threshold", "1", "--confirm")
    assert chosen["threshold"] == 1
    text = runner.invoke(args=["vote", "trustees", vote_id, *two, "--threshold", "2", "--confirm"]).output
    assert "Vote 1 will be held by 2 of these 2 trustees:" in text.replace(f"Vote {vote_id}", "Vote 1")
    assert "not one of them may lose their key or be unreachable" in text
    assert "If fewer than 2 can answer, the ballots can never be opened, by anyone" in text
    monkeypatch.setitem(app.config, "BALLOT_ALLOW_SINGLE_TRUSTEE", False)

    # A trustee disabled after being chosen: the draft cannot open until its trustees are chosen again.
    run(runner, "trustee", "disable", machines[1].fingerprint)
    assert "was disabled: choose this vote's trustees again" in refused(runner, "vote", "open", vote_id)
    assert "is disabled: choose another trustee" in refused(runner, "vote", "trustees", vote_id, *two,
                                                            "--threshold", "2")
    run(runner, "vote", "trustees", vote_id, "--none")
    assert run(runner, "vote", "open", vote_id)["electorate"] == 4
    assert queries.get_vote(int(vote_id)).trustee_threshold is None
    assert "trustees are chosen before a vote opens" in refused(runner, "vote", "trustees", vote_id, *two,
                                                                "--threshold", "2")


def test_an_installation_with_trustees_starts_every_draft_with_them_and_opens_none_without(
        year, runner, client, inbox, tmp_path, machines, app, monkeypatch):
    monkeypatch.setitem(app.config, "BALLOT_TRUSTEES", {"trustees": [m.fingerprint for m in machines[:2]],
                                                        "threshold": 2})
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Charter",
               "--question", "Charter it?", "--closes-at", later(hours=1))
    vote_id = str(vote["id"])
    shown = run(runner, "vote", "show", vote_id)
    assert [t["fingerprint"] for t in shown["trustees"]] == [m.fingerprint for m in machines[:2]]
    assert shown["trustees_needed"] == 2
    assert "protects every vote with trustees" in refused(runner, "vote", "trustees", vote_id, "--none")
    run(runner, "vote", "trustees", vote_id, *[a for m in machines for a in ("--trustee", m.fingerprint)],
        "--threshold", "2", "--confirm")
    run(runner, "vote", "open", vote_id)
    assert queries.get_vote(int(vote_id)).wrapped_key is not None

    # A malformed setting stops the service from starting, with the reason.
    with pytest.raises(PolicyInvalid, match="BALLOT_TRUSTEES must be None"):
        create_app({**TEST_SECRETS, "SQLALCHEMY_DATABASE_URI": "sqlite://", "BALLOT_TRUSTEES": ["ABCD"]})
    with pytest.raises(PolicyInvalid, match="is not a key's fingerprint"):
        create_app({**TEST_SECRETS, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "BALLOT_TRUSTEES": {"trustees": ["ABCD"], "threshold": 2}})
    two = [m.fingerprint for m in machines[:2]]
    with pytest.raises(PolicyInvalid, match=r"the threshold must be from 1 to 2 \(the trustees named\), not 3"):
        create_app({**TEST_SECRETS, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "BALLOT_TRUSTEES": {"trustees": two, "threshold": 3}})
    with pytest.raises(PolicyInvalid, match="one trustee alone could open the ballots early"):
        create_app({**TEST_SECRETS, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "BALLOT_TRUSTEES": {"trustees": two, "threshold": 1}})
    single = create_app({**TEST_SECRETS, "SQLALCHEMY_DATABASE_URI": "sqlite://", "BALLOT_ALLOW_SINGLE_TRUSTEE": True,
                         "BALLOT_TRUSTEES": {"trustees": two, "threshold": 1}})
    assert single.config["BALLOT_TRUSTEES"]["threshold"] == 1


def test_a_vote_without_trustees_says_so_to_its_voters(year, runner, client, inbox, tmp_path):
    vote = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "Charter",
               "--question", "Charter it?", "--closes-at", later(hours=1))
    run(runner, "vote", "open", str(vote["id"]))
    page = client.get(next(iter(links(runner, inbox, vote["id"]).values())).removeprefix("https://vote.test"))
    assert page.status_code == 200, page.text
    assert ("until the close it is sealed with a key kept under this installation's own secret key, with no "
            "trustees; whoever runs the service holds that secret.") in html.unescape(page.text)
    cast_ballots(runner, client, inbox, vote["id"])
    assert run(runner, "vote", "close", str(vote["id"]))["status"] == "closed"
    run(runner, "vote", "publish", str(vote["id"]))
    statement = ("No trustees: until the close the ballots were sealed with a key kept under this installation's own "
                 "secret key; whoever ran the service held that secret and could have opened them before the close.")
    results = html.unescape(client.get(f"/votes/{vote['id']}/results").text)
    assert statement in results and "The vote's trustees" not in results
    # The record says so in the same words, and `ballot verify` repeats them once it has checked them.
    out = tmp_path / "record.json"
    assert runner.invoke(args=["vote", "export", str(vote["id"]), "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["record"]["protection"] == {"model": "sealing-key", "statement": statement}
    verified = CliRunner().invoke(main, ["verify", str(out)])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.splitlines()[1] == statement


def test_cancelling_an_open_trustee_vote_destroys_its_shares(year, runner, tmp_path, machines):
    vote_id = trustee_vote(runner, tmp_path, machines)
    assert all(r.sealed_share and r.commitment for r in rows_of(vote_id))
    run(runner, "vote", "cancel", str(vote_id), "--reason", "Withdrawn")
    vote = queries.get_vote(vote_id)
    assert vote.wrapped_key is None and vote.public_key is None
    assert [(r.sealed_share, r.commitment) for r in rows_of(vote_id)] == [(None, None)] * 3


# --- The registry -------------------------------------------------------------------------------

def test_trustees_are_registered_by_their_public_key_listed_with_fingerprints_and_disabled(
        app, runner, tmp_path, machines):
    register(runner, machines)
    listed = run(runner, "trustee", "list")
    assert [(t["name"], t["fingerprint"], t["disabled_at"]) for t in listed] == [
        (m.name, m.fingerprint, None) for m in machines]
    assert machines[0].fingerprint in runner.invoke(args=["trustee", "list"]).output
    assert f"this key is registered already, for Ada ({machines[0].fingerprint})" == refused(
        runner, "trustee", "add", "Ada again", "--public-key", str(machines[0].public))
    assert "is not a public key file" in refused(runner, "trustee", "add", "Eve", "--public-key",
                                                 str(machines[0].passphrase))
    assert "cannot read" in refused(runner, "trustee", "add", "Eve", "--public-key", str(tmp_path / "none.pub"))
    assert "needs a name" in refused(runner, "trustee", "add", " ", "--public-key", str(machines[0].public))
    run(runner, "trustee", "disable", machines[2].fingerprint.lower())
    assert "is disabled already" in refused(runner, "trustee", "disable", machines[2].fingerprint)
    assert "no trustee is registered" in refused(runner, "trustee", "disable", "0" * 64)
    assert run(runner, "trustee", "list")[2]["disabled_at"] is not None
    assert [(e.action, e.detail["fingerprint"]) for e in events("trustee.add") + events("trustee.disable")] == [
        ("trustee.add", m.fingerprint) for m in machines] + [("trustee.disable", machines[2].fingerprint)]
