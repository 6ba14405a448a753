"""Anyone can recount: a vote run end to end, its exported record, and `ballot verify` on it."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ballot import sealing
from ballot.cli import main
from ballot.eligibility import services as eligibility
from ballot.votes.record import protection_statement, signed
from tests.conftest import rolled_back
from tests.functional.factories import CURRENT, member_row, roster_file, run
from tests.functional.helpers import cast, receipt_of

VOTERS = {  # address: answers to the two questions
    "ada@example.org": ("yes", "no"),
    "bea@example.org": ("yes", "abstain"),
    "cy@example.org": ("no", "no"),
    "dee@example.org": ("yes", "yes"),
}  # eve@example.org is in the electorate and does not vote


def run_vote(runner, client, inbox, tmp_path: Path) -> tuple[int, dict[str, str]]:
    """A small vote from the period's opening to its published record; the vote id and receipts."""
    run(runner, "period", "open", "2026")
    names = ["ada", "bea", "cy", "dee", "eve"]
    roster = roster_file(tmp_path, *(member_row(n, f"supporting:{CURRENT}", family="") for n in names))
    run(runner, "roster", "import", str(roster), "--period", "2026")
    period = eligibility.get_period(2026)
    for right in eligibility.rights_of(period):
        eligibility.confirm_opt_in(right)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    vote = run(runner, "vote", "create", "--period", "2026", "--kind", "policy", "--title", "Bylaws 2026",
               "--closes-at", closes, "--question", "Adopt the new bylaws?", "--question", "Adopt the code of conduct?")
    vote_id = vote["id"]
    assert run(runner, "vote", "open", str(vote_id))["electorate"] == 5
    inbox.clear()
    assert run(runner, "mail", "send")["sent"] == 5
    receipts = {}
    for address, (first, second) in VOTERS.items():
        (link,) = [link for link in inbox.links(address) if f"/votes/{vote_id}/ballot/" in link]
        done = cast(client, link, {"q1": first, "q2": second})
        assert done.status_code == 200, done.text
        receipts[address] = receipt_of(done)
    closed = run(runner, "vote", "close", str(vote_id))
    assert (closed["ballots"], closed["missed"]) == (4, 1)
    run(runner, "vote", "publish", str(vote_id))
    return vote_id, receipts


@pytest.fixture(scope="module")
def record_text(database_app, smtp_server, tmp_path_factory) -> str:
    """The exported record of a vote run by ``run_vote``, once per database for this module's tampering tests,
    which only read it: the vote itself is rolled back before any of them starts."""
    _, inbox = smtp_server
    tmp_path = tmp_path_factory.mktemp("record")
    with rolled_back(database_app) as app:
        inbox.clear()
        runner = app.test_cli_runner()
        vote_id, _ = run_vote(runner, app.test_client(), inbox, tmp_path)
        out = tmp_path / "export.json"
        result = runner.invoke(args=["vote", "export", str(vote_id), "-o", str(out)])
        assert result.exit_code == 0, result.output
        return out.read_text()


@pytest.fixture
def verify():
    """Run the `ballot` console script's verify command: (exit code, stdout, stderr)."""

    def verify(*args: str | Path):
        result = CliRunner().invoke(main, ["verify", *map(str, args)])
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.exit_code, result.stdout, result.stderr

    return verify


def write(tmp_path: Path, document) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(document, indent=1))
    return path


# --- The whole way -----------------------------------------------------------------

def test_a_published_vote_verifies_from_its_export_alone(app, runner, client, inbox, tmp_path, verify):
    vote_id, receipts = run_vote(runner, client, inbox, tmp_path)
    out = tmp_path / "vote.json"
    result = runner.invoke(args=["vote", "export", str(vote_id), "-o", str(out)])
    assert result.exit_code == 0, result.output

    document = json.loads(out.read_text())
    record = document["record"]
    # The record holds the rules, questions, ballots, result and protection: no sealed form, no key.
    assert record["format"] == "ballot-record/3"
    assert set(record) == {"format", "vote", "questions", "rules", "ballots", "result", "protection"}
    assert record["protection"]["model"] == "sealing-key"
    assert all(set(b) == {"token", "receipt", "contents"} for b in record["ballots"])
    assert [b["receipt"] for b in record["ballots"]] == sorted(b["receipt"] for b in record["ballots"])
    assert sorted(b["receipt"] for b in record["ballots"]) == sorted(receipts.values())
    # Each receipt is the digest of its token, and each voter finds the ballot they cast under theirs.
    assert all(sealing.receipt_for(b["token"]) == b["receipt"] for b in record["ballots"])
    by_receipt = {b["receipt"]: b["contents"] for b in record["ballots"]}
    for address, (first, second) in VOTERS.items():
        assert by_receipt[receipts[address]] == {"answers": {"q1": first, "q2": second}}
    (adopt, conduct) = record["result"]["questions"]
    assert adopt["counts"] == {"yes": 3, "no": 1, "abstain": 0} and adopt["outcome"] == "passed"
    assert conduct["counts"] == {"yes": 1, "no": 2, "abstain": 1} and conduct["outcome"] == "failed"
    assert (record["result"]["participants"], record["result"]["electorate"]) == (4, 5)

    # The published copy on the site is the same record.
    assert client.get(f"/votes/{vote_id}/record.json").get_json() == document

    code, stdout, stderr = verify(out)
    assert code == 0, stderr
    assert stdout.splitlines()[0] == (f"Verified: vote {vote_id} (Bylaws 2026), 4 ballots; "
                                      "the recount matches the published result.")
    assert stdout.splitlines()[1] == (
        "No trustees: until the close the ballots were sealed with a key kept under this installation's own secret "
        "key; whoever ran the service held that secret and could have opened them before the close.")
    code, stdout, _ = verify(out, "--json")
    assert (code, json.loads(stdout)) == (0, {"verified": True, "problems": []})

    signer = tmp_path / "signer.pem"
    signer.write_text(sealing.public_key_pem(app.config["BALLOT_SIGNING_KEY"]))
    assert verify(out, "--signer", signer)[0] == 0


def test_a_vote_cannot_be_exported_before_it_is_published(app, runner, tmp_path):
    run(runner, "period", "open", "2026")
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="seconds")
    vote = run(runner, "vote", "create", "--period", "2026", "--kind", "charter", "--title", "Draft",
               "--closes-at", closes, "--question", "Charter the WG?")
    result = runner.invoke(args=["vote", "export", str(vote["id"]), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 1
    assert "error: the results of this vote are not published" in result.output
    assert not (tmp_path / "x.json").exists()


# --- Tampering -----------------------------------------------------------------------

def tampered(record_text: str, change) -> dict:
    document = json.loads(record_text)
    change(document["record"])
    return document


def problems_of(verify, tmp_path, document) -> list[str]:
    code, stdout, _ = verify(write(tmp_path, document), "--json")
    assert code == 1
    report = json.loads(stdout)
    assert report["verified"] is False
    code, _, text = verify(write(tmp_path, document))
    assert code == 1 and text.startswith("The record does NOT verify:")
    return report["problems"]


def test_the_untouched_export_verifies(record_text, tmp_path, verify):
    assert verify(write(tmp_path, json.loads(record_text)))[0] == 0


def test_a_ballot_whose_contents_were_altered_is_named(record_text, tmp_path, verify):
    # The contents are bound to the record by the signature; a recount finds the changed result.
    def change(record):
        ballot = next(b for b in record["ballots"] if b["contents"]["answers"]["q1"] == "no")
        ballot["contents"]["answers"]["q1"] = "yes"

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert problems == [
        "the signature does not match the record: it was altered",
        "the recounted result differs from the published result",
    ]


def test_contents_altered_with_a_matching_result_are_caught_by_the_signature(record_text, tmp_path, verify):
    # A forger who also recounts leaves only the signature to catch them.
    def change(record):
        ballot = next(b for b in record["ballots"] if b["contents"]["answers"]["q1"] == "no")
        ballot["contents"]["answers"]["q1"] = "yes"
        record["result"] = recount(record)

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert problems == ["the signature does not match the record: it was altered"]


def test_a_ballot_whose_token_was_swapped_is_named(record_text, tmp_path, verify):
    def change(record):
        first, second = record["ballots"][:2]
        first["token"], second["token"] = second["token"], first["token"]
        change.receipts = first["receipt"], second["receipt"]

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    for receipt in change.receipts:
        assert f"ballot {receipt}: the receipt does not match its token" in problems
    assert "the signature does not match the record: it was altered" in problems
    assert "the recounted result differs from the published result" not in problems


def test_a_ballot_whose_token_was_altered_is_named(record_text, tmp_path, verify):
    def change(record):
        ballot = record["ballots"][1]
        ballot["token"] = ballot["token"][:-1] + ("A" if ballot["token"][-1] != "A" else "B")
        change.receipt = ballot["receipt"]

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert f"ballot {change.receipt}: the receipt does not match its token" in problems


def test_an_altered_receipt_is_named(record_text, tmp_path, verify):
    def change(record):
        record["ballots"][0]["receipt"] = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert "ballot AAAA-AAAA-AAAA-AAAA-AAAA-AAAA: the receipt does not match its token" in problems


def test_an_altered_result_is_named(record_text, tmp_path, verify):
    def change(record):
        question = record["result"]["questions"][1]
        question["outcome"] = "passed"

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert problems == [
        "the signature does not match the record: it was altered",
        "the recounted result differs from the published result",
    ]


def test_a_removed_ballot_is_found(record_text, tmp_path, verify):
    def change(record):
        record["ballots"].pop()

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert "the recounted result differs from the published result" in problems
    assert "the signature does not match the record: it was altered" in problems


def test_a_ballot_listed_twice_is_named(record_text, tmp_path, verify):
    def change(record):
        record["ballots"].append(copy.deepcopy(record["ballots"][0]))
        change.receipt = record["ballots"][0]["receipt"]

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert f"ballot {change.receipt}: listed twice" in problems
    assert "the recounted result differs from the published result" in problems


def test_a_ballot_listed_twice_under_another_receipt_is_found(record_text, tmp_path, verify):
    # The same ballot again under a made-up token with its correct receipt is not
    # a duplicate receipt; the signature and the recount against the published result betray it.
    def change(record):
        ballot = copy.deepcopy(record["ballots"][0])
        ballot["token"] += "x"
        ballot["receipt"] = sealing.receipt_for(ballot["token"])
        record["ballots"].append(ballot)

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert "the recounted result differs from the published result" in problems
    assert "the signature does not match the record: it was altered" in problems


def forge(record_text: str, change) -> dict:
    """The record changed, recounted and signed again with a key that is not the installation's."""
    record = json.loads(record_text)["record"]
    change(record)
    record["result"] = recount(record)
    return signed(record, sealing.new_signing_key_pem())


def recount(record: dict) -> dict:
    from ballot.votes.tally import tally

    return tally(record["rules"], record["questions"], [b["contents"] for b in record["ballots"]],
                 record["result"]["electorate"])


def trusted_signer(app, tmp_path: Path) -> Path:
    signer = tmp_path / "signer.pem"
    signer.write_text(sealing.public_key_pem(app.config["BALLOT_SIGNING_KEY"]))
    return signer


def test_a_record_re_signed_by_another_key_fails_against_the_trusted_signer(app, record_text, tmp_path, verify):
    forged = forge(record_text, lambda record: record["ballots"].pop())
    path = write(tmp_path, forged)
    # Consistent in itself, so only the installation's own key can tell it apart.
    assert verify(path)[0] == 0
    code, _, stderr = verify(path, "--signer", trusted_signer(app, tmp_path))
    assert code == 1
    assert "the record is not signed by the key you trust" in stderr
    # The genuine record passes against the same key.
    assert verify(write(tmp_path, json.loads(record_text)), "--signer", trusted_signer(app, tmp_path))[0] == 0


def test_a_re_signed_record_with_altered_contents_fails_against_the_trusted_signer(app, record_text, tmp_path, verify):
    def change(record):
        for ballot in record["ballots"]:
            ballot["contents"]["answers"]["q2"] = "yes"

    path = write(tmp_path, forge(record_text, change))
    assert verify(path)[0] == 0
    code, stdout, _ = verify(path, "--signer", trusted_signer(app, tmp_path), "--json")
    assert (code, json.loads(stdout)["problems"]) == (1, ["the record is not signed by the key you trust"])


@pytest.mark.parametrize("kind", ["duplicate", "mismatch"])
def test_a_re_signed_record_is_still_checked_ballot_by_ballot(record_text, tmp_path, verify, kind):
    # Whoever signs it, a record whose receipts do not match their tokens, or
    # that lists one ballot twice, does not verify: the signature is not all.
    def change(record):
        if kind == "duplicate":
            record["ballots"].append(copy.deepcopy(record["ballots"][0]))
        else:
            record["ballots"][0]["receipt"], record["ballots"][1]["receipt"] = (
                record["ballots"][1]["receipt"], record["ballots"][0]["receipt"])
        change.receipt = record["ballots"][0]["receipt"]

    forged = forge(record_text, change)
    code, stdout, _ = verify(write(tmp_path, forged), "--json")
    problems = json.loads(stdout)["problems"]
    assert code == 1
    expected = "listed twice" if kind == "duplicate" else "the receipt does not match its token"
    assert problems == [f"ballot {change.receipt}: {expected}"] + (
        [f"ballot {forged['record']['ballots'][1]['receipt']}: {expected}"] if kind == "mismatch" else [])


def test_a_record_of_the_old_format_is_refused(app, record_text, tmp_path, verify):
    # A ballot-record/1 document (sealed forms and the vote's key published), even
    # genuinely signed by the installation, is not checked as if it were the new format.
    record = json.loads(record_text)["record"]
    record["format"] = "ballot-record/1"
    record["public_key"] = record["private_key"] = sealing.b64(bytes(32))
    for ballot in record["ballots"]:
        ballot["sealed"] = sealing.b64(b"\0" * 600)
    old = signed(record, app.config["BALLOT_SIGNING_KEY"])
    path = write(tmp_path, old)
    code, stdout, _ = verify(path, "--json")
    problems = ["unknown record format 'ballot-record/1'"]
    assert (code, json.loads(stdout)) == (1, {"verified": False, "problems": problems})
    code, _, stderr = verify(path, "--signer", trusted_signer(app, tmp_path))
    assert code == 1 and "unknown record format 'ballot-record/1'" in stderr


def test_a_record_of_the_format_before_trustees_still_verifies(app, record_text, tmp_path, verify):
    # ballot-record/2 states no protection: every vote then was protected by the sealing key.
    record = json.loads(record_text)["record"]
    record["format"] = "ballot-record/2"
    del record["protection"]
    path = write(tmp_path, signed(record, app.config["BALLOT_SIGNING_KEY"]))
    code, stdout, stderr = verify(path, "--signer", trusted_signer(app, tmp_path))
    assert code == 0, stderr
    assert stdout.splitlines()[1].startswith("No trustees: until the close the ballots were sealed")
    # The current format must state it.
    record["format"] = "ballot-record/3"
    code, stdout, _ = verify(write(tmp_path, signed(record, app.config["BALLOT_SIGNING_KEY"])), "--json")
    assert code == 1
    assert json.loads(stdout)["problems"] == [
        "the record's protection is neither the sealing key nor trustees: None"]


# --- How the vote's key was protected ---------------------------------------------------

FINGERPRINTS = [" ".join([f"{n}{n}{n}{n}"] * 16) for n in "ABC"]  # three trustees' keys, in the record's form


def trustees_protection(threshold: int = 2, trustees=None, took_part=None) -> dict:
    protection = {"model": "trustees", "threshold": threshold,
                  "trustees": FINGERPRINTS if trustees is None else trustees,
                  "took_part": FINGERPRINTS[::2] if took_part is None else took_part}
    return {**protection, "statement": protection_statement(protection)}


def resigned(app, record_text: str, protection) -> dict:
    """The record as the installation itself would sign it with this protection: only consistency can catch it."""
    record = json.loads(record_text)["record"]
    record["protection"] = protection
    return signed(record, app.config["BALLOT_SIGNING_KEY"])


def test_a_record_held_by_trustees_verifies_and_names_them(app, record_text, tmp_path, verify):
    code, stdout, stderr = verify(write(tmp_path, resigned(app, record_text, trustees_protection())))
    assert code == 0, stderr
    assert stdout.splitlines()[1:] == [
        "Trustees: the ballots were sealed with a key that only 2 of the vote's 3 trustees together could unlock "
        "after the close; nobody who ran the service could open them alone, nor fewer of the trustees. 2 of them "
        "took part in opening them.",
        f"  trustee #1 {FINGERPRINTS[0]}  took part", f"  trustee #2 {FINGERPRINTS[1]}",
        f"  trustee #3 {FINGERPRINTS[2]}  took part",
        "The signature was checked against the key inside the record. To know who signed it,",
        "run again with --signer and the installation's key from /signing-key.pem on its site."]
    # One trustee alone (an installation that allows it) is stated as such.
    single = trustees_protection(1, took_part=FINGERPRINTS[1:2])
    assert "one trustee alone could have opened them" in single["statement"]
    assert verify(write(tmp_path, resigned(app, record_text, single)))[0] == 0


def with_statement(protection: dict, statement: str | None = None) -> dict:
    return {**protection, "statement": statement or protection_statement(protection)}


@pytest.mark.parametrize(("protection", "problem"), [
    pytest.param(with_statement({"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS,
                                 "took_part": [FINGERPRINTS[0], " ".join(["DDDD"] * 16)]}),
                 "someone who is not one of the vote's trustees took part", id="an outsider took part"),
    pytest.param(with_statement({"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS,
                                 "took_part": FINGERPRINTS[:1]}),
                 "1 trustees took part, but 2 were needed to open the ballots", id="fewer than k took part"),
    pytest.param(with_statement({"model": "trustees", "threshold": 4, "trustees": FINGERPRINTS,
                                 "took_part": FINGERPRINTS}),
                 "4 of 3 trustees cannot be needed", id="k above n"),
    pytest.param(with_statement({"model": "trustees", "threshold": 0, "trustees": FINGERPRINTS,
                                 "took_part": FINGERPRINTS}),
                 "0 of 3 trustees cannot be needed", id="k of 0"),
    pytest.param(with_statement({"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS + FINGERPRINTS[:1],
                                 "took_part": FINGERPRINTS[:2]}),
                 "a trustee is listed twice", id="a trustee twice"),
    pytest.param(with_statement({"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS,
                                 "took_part": FINGERPRINTS[:1] * 2}),
                 "a trustee is listed twice among those who took part", id="took part twice"),
    pytest.param(with_statement({"model": "trustees", "threshold": 2, "trustees": ["ABCD", *FINGERPRINTS[1:]],
                                 "took_part": FINGERPRINTS[1:]}),
                 "'ABCD' is not a key's fingerprint", id="not a fingerprint"),
    pytest.param({"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS, "took_part": FINGERPRINTS[:2]},
                 "the record's trustees are incomplete: their threshold, fingerprints, who took part and the "
                 "statement are expected", id="no statement"),
    pytest.param(with_statement({"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS, "took_part": None},
                                "Trustees: 2 of 3."),
                 "the record's trustees are malformed", id="who took part unstated"),
    pytest.param(with_statement({"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS,
                                 "took_part": FINGERPRINTS[:2]},
                                protection_statement({"model": "trustees", "threshold": 3, "trustees": FINGERPRINTS,
                                                      "took_part": FINGERPRINTS})),
                 "the record's statement of how the ballots were protected does not match its data", id="3 of 3 said"),
    pytest.param(with_statement({"model": "sealing-key"}, protection_statement(
                     {"model": "trustees", "threshold": 2, "trustees": FINGERPRINTS, "took_part": FINGERPRINTS})),
                 "the record's statement of how the ballots were protected does not match its data",
                 id="the sealing key said to be trustees"),
    pytest.param({"model": "sealing-key", "threshold": 2, "statement": protection_statement({"model": "sealing-key"})},
                 "the record's protection by the sealing key is stated with other fields than its statement",
                 id="the sealing key with a threshold"),
    pytest.param({"model": "nobody"}, "the record's protection is neither the sealing key nor trustees",
                 id="another model"),
])
def test_a_record_whose_trustees_are_inconsistent_does_not_verify(app, record_text, tmp_path, verify, protection,
                                                                 problem):
    # Signed by the installation itself: the signature holds, the statement of trustees does not.
    problems = problems_of(verify, tmp_path, resigned(app, record_text, protection))
    assert len(problems) == 1 and problems[0].startswith(problem), problems


# --- Files that are no record -----------------------------------------------------------

def test_a_file_that_is_not_json_is_refused_clearly(tmp_path, verify):
    path = tmp_path / "record.json"
    path.write_text("this is not JSON {")
    code, _, stderr = verify(path)
    assert code == 1
    assert stderr.startswith(f"error: {path} is not a JSON record")


def test_a_binary_file_is_refused_clearly(tmp_path, verify):
    path = tmp_path / "record.json"
    path.write_bytes(b"\xff\xfe\x00\x00garbage")
    code, _, stderr = verify(path)
    assert code == 1 and "is not a JSON record" in stderr


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "not a signed ballot record"),
        ({"record": {}, "signature": "x", "signer": "y"}, "unknown record format None"),
        ({"record": [], "signature": "x", "signer": "y"}, "not a signed ballot record"),
        ({"record": "ballot-record/2", "signature": "x", "signer": "y"}, "not a signed ballot record"),
        ({"record": {"format": "ballot-record/2"}, "signature": 1, "signer": "y"}, "not a signed ballot record"),
        ({"record": {"format": "ballot-record/2"}, "signature": "x", "signer": 5}, "not a signed ballot record"),
        ({"hello": "world"}, "not a signed ballot record"),
        ("a string", "not a signed ballot record"),
    ],
)
def test_json_that_is_no_record_is_refused_clearly(tmp_path, verify, document, message):
    code, _, stderr = verify(write(tmp_path, document))
    assert code == 1
    assert message in stderr


def test_a_record_with_missing_parts_is_refused_clearly(record_text, tmp_path, verify):
    document = json.loads(record_text)
    del document["record"]["ballots"]
    code, _, stderr = verify(write(tmp_path, document))
    assert code == 1 and "malformed" in stderr


def test_a_missing_file_is_refused_clearly(tmp_path, verify):
    code, _, stderr = verify(tmp_path / "nope.json")
    assert code != 0
    assert "does not exist" in stderr


@pytest.mark.parametrize("token", [None, 12345, ["a", "b"], {"v": 1}])
def test_a_ballot_whose_token_is_not_text_is_named(record_text, tmp_path, verify, token):
    def change(record):
        record["ballots"][0]["token"] = token
        change.receipt = record["ballots"][0]["receipt"]

    problems = problems_of(verify, tmp_path, tampered(record_text, change))
    assert f"ballot {change.receipt}: the receipt does not match its token" in problems
