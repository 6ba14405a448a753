"""k-1 trustees, the service's database and its configuration open no ballot: an adversary test.

A 2-of-3 vote is opened, cast in through the ballot pages and closed, on a
database with real commits. The adversary holds, in the style of
test_secrecy.py:

- a dump of every table, every column (on PostgreSQL with xmin and ctid),
  taken while the vote is open, after every ballot was cast;
- a second dump taken after the close, once one trustee has answered;
- the whole configuration: the sealing key, the signing key, every secret;
- one trustee's private key file and passphrase (k-1 = 1 of the 2 needed).

It tries what it can: the sealing key on the vote's wrapped key; its
trustee's share, opened with that trustee's key; every answer in the second
dump, opened with the collection key that the configuration unwraps; every
combination of the distinct shares it has, with every 16-byte value it holds
and many random guesses as the missing share; every 32-byte value it holds as
the vote's private key, on every sealed ballot. Nothing opens.

The positive control, so that the test would fail if the protection broke:
a second trustee's share (which the adversary lacks) recovers the vote's key
from the mid-vote dump alone and opens every ballot as it was cast; and that
key, the wrapping key and the shares in clear appear in no form in anything
the adversary holds. After the second answer the vote is counted and no key
material remains.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os

import pytest
from click.testing import CliRunner
from Crypto.Protocol.SecretSharing import Shamir
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ballot import sealing
from ballot.cli import main
from ballot.errors import InvalidInput
from ballot.trustees import collection, keys, shares
from tests.functional.factories import YEAR, enrolled_fellows, later, links
from tests.functional.helpers import answer, as_text, byte_forms, cast, dump_database, run

VOTERS = 4
CHOICES = ["yes", "no", "abstain", "yes"]
RANDOM_GUESSES = 300


def stored_bytes(dump: dict) -> list[bytes]:
    """Every binary value in a dump (text values are searched for keys in every encoding below)."""
    return [bytes(value) for rows in dump.values() for row in rows for value in row.values()
            if isinstance(value, (bytes, memoryview))]


def configuration_bytes(config) -> list[bytes]:
    """Every secret of the configuration, as text and, where it decodes, as the bytes it stands for."""
    found = []
    for name in ("SECRET_KEY", "BALLOT_LINK_SECRET", "BALLOT_TOKEN_SECRET", "BALLOT_SEALING_KEY", "BALLOT_SIGNING_KEY"):
        text = config[name]
        found.append(text.encode())
        with contextlib.suppress(ValueError):  # not base64: the text alone
            found.append(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return found


def windows(data: bytes, size: int) -> set[bytes]:
    return {data[i : i + size] for i in range(len(data) - size + 1)}


def opens_any(ballots: list[tuple[int, bytes]], candidate: bytes) -> bool:
    try:
        key = X25519PrivateKey.from_private_bytes(candidate)
    except ValueError:
        return False
    for vote_id, ciphertext in ballots:
        try:
            sealing.unseal(ciphertext, key, vote_id)
        except InvalidInput:
            continue
        return True
    return False


def combinations_open(wrapped: bytes, vote_id: int, known: dict[int, bytes], guesses: list[bytes]) -> list[str]:
    """Every way the adversary can make k shares from what it has; those that unwrap the vote's key (none)."""
    opened = []
    for subset in range(1, len(known) + 1):
        for chosen in itertools.combinations(sorted(known), subset):
            given = [shares.Share(i, bytearray(known[i])) for i in chosen]
            try:
                shares.recover_vote_key(wrapped, vote_id, given)
            except InvalidInput:
                pass
            else:
                opened.append(f"shares {chosen}")
    missing = [i for i in (1, 2, 3) if i not in known]
    for index in missing:
        for guess in guesses:
            given = [shares.Share(i, bytearray(v)) for i, v in known.items()] + [shares.Share(index, bytearray(guess))]
            try:
                shares.recover_vote_key(wrapped, vote_id, given)
            except InvalidInput:
                continue
            opened.append(f"a guess for share #{index}")
    return opened


def test_k_minus_1_trustees_with_the_database_and_the_configuration_open_no_ballot(committed_app, inbox, tmp_path,
                                                                                  machines):
    app = committed_app
    runner, client = app.test_cli_runner(), app.test_client()
    with app.app_context():  # the commands run in it; each still commits on its own
        enrolled_fellows(runner, tmp_path, VOTERS)
        for machine in machines:
            run(runner, "trustee", "add", machine.name, "--public-key", str(machine.public))
        vote_id = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "policy", "--title", "Bylaws",
                      "--question", "Adopt the bylaws?", "--closes-at", later(hours=1))["id"]
        run(runner, "vote", "trustees", str(vote_id), *[a for m in machines for a in ("--trustee", m.fingerprint)],
            "--threshold", "2", "--confirm")
        run(runner, "vote", "open", str(vote_id))
        by_address = links(runner, inbox, vote_id)
        ballot_links = [by_address[a] for a in sorted(by_address, reverse=True)]  # cast in reverse right order
        for link, choice in zip(ballot_links, CHOICES, strict=True):
            assert cast(client, link, {"q1": choice}).status_code == 200

        # --- The adversary's first copy: the vote open, every ballot cast. ---
        mid = dump_database(app)
        [vote] = mid["vote"]
        assert vote["status"] == "open" and vote["trustee_threshold"] == 2
        wrapped = bytes(vote["wrapped_key"])
        ballots = [(b["vote_id"], bytes(b["ciphertext"])) for b in mid["sealed_ballot"]]
        assert len(ballots) == VOTERS
        rows = {r["position"]: r for r in mid["vote_trustee"]}
        assert sorted(rows) == [1, 2, 3] and all(r["sealed_share"] and r["commitment"] for r in rows.values())
        config = app.config
        sealing_key = base64.urlsafe_b64decode(config["BALLOT_SEALING_KEY"])
        ada, bea, cy = machines
        ada_key = keys.load_trustee_private_key(ada.key.read_bytes(), ada.passphrase.read_text().strip())

        # The sealing key does not unwrap the vote's key: it was never wrapped under it.
        with pytest.raises(InvalidInput):
            sealing.unwrap_vote_key(sealing_key, vote_id, wrapped)
        assert not opens_any(ballots, sealing_key)
        # Ada's key opens Ada's share: one share, of the two needed.
        known = {1: bytes(shares.open_share(bytes(rows[1]["sealed_share"]), ada_key, vote_id, 1, ada.fingerprint))}
        for position in (2, 3):  # and not the others'
            with pytest.raises(InvalidInput):
                shares.open_share(bytes(rows[position]["sealed_share"]), ada_key, vote_id, position,
                                  rows[position]["fingerprint"])
        held = stored_bytes(mid) + configuration_bytes(config) + [ada.key.read_bytes(), ada.passphrase.read_bytes()]
        guesses = sorted({w for data in held for w in windows(data, shares.SHARE_SIZE)})
        guesses += [os.urandom(shares.SHARE_SIZE) for _ in range(RANDOM_GUESSES)]
        assert combinations_open(wrapped, vote_id, known, guesses) == []
        candidates = {w for data in held for w in windows(data, 32)}
        candidates.add(keys.raw_public_key(ada_key))
        assert len(candidates) > 100
        assert not [c for c in candidates if opens_any(ballots, c)], "something the adversary holds opens a ballot"

        # --- The positive control: with a second trustee's share, the same copy opens every ballot. ---
        bea_key = keys.load_trustee_private_key(bea.key.read_bytes(), bea.passphrase.read_text().strip())
        bea_share = bytes(shares.open_share(bytes(rows[2]["sealed_share"]), bea_key, vote_id, 2, bea.fingerprint))
        vote_key = shares.recover_vote_key(wrapped, vote_id, [shares.Share(1, bytearray(known[1])),
                                                              shares.Share(2, bytearray(bea_share))])
        opened = sorted(sealing.unseal(c, vote_key, v)["answers"]["q1"] for v, c in ballots)
        assert opened == sorted(CHOICES), "the control must open what was cast"
        wrapping_key = Shamir.combine([(1, known[1]), (2, bea_share)])
        secrets = {"the vote's private key": vote_key, "the wrapping key": wrapping_key,
                   "Ada's share": known[1], "Bea's share": bea_share}
        mid_texts = [as_text(v) for rows_ in mid.values() for row in rows_ for v in row.values()]
        mid_texts += [as_text(v) for v in configuration_bytes(config)]
        for name, secret in secrets.items():
            for form in byte_forms(secret):
                assert not [t for t in mid_texts if form in t], f"{name} is stored in clear"

        # --- The close: casting stops; one trustee answers. The second copy. ---
        assert run(runner, "vote", "close", str(vote_id))["status"] == "counting"
        signer = tmp_path / "installation.pem"
        signer.write_text(client.get("/signing-key.pem").text)
        requests = {}
        for n, machine in enumerate(machines, start=1):
            requests[n] = tmp_path / f"request-{n}.json"
            run(runner, "vote", "trustee-request", str(vote_id), "--trustee", machine.fingerprint,
                "-o", str(requests[n]))
        run(runner, "vote", "trustee-answer", str(vote_id), str(answer(ada, requests[1], signer)))
        after_one = dump_database(app)
        [vote] = after_one["vote"]
        assert vote["status"] == "counting" and vote["result"] is None
        # Casting stopped at the close: the ledger was written again then, in right order, not at the count.
        stored_order = [p["right_id"] for p in after_one["participation_record"]]
        assert len(stored_order) == VOTERS and stored_order == sorted(stored_order), "the order of casting shows"
        postgres = "xmin" in mid["participation_record"][0]
        cast_xmins = {p["xmin"] for p in mid["participation_record"]} if postgres else set()
        assert not [p for p in after_one["participation_record"] if p.get("xmin") in cast_xmins]
        # The configuration unwraps the collection key, and so opens every answer in the copy: Ada's share again.
        collection_key = collection.unwrap_collection_key(sealing_key, vote_id, bytes(vote["wrapped_collection_key"]))
        trustee_shares = [shares.TrusteeShare(r["fingerprint"], r["position"], bytes(r["sealed_share"]),
                                              bytes(r["commitment"])) for r in after_one["vote_trustee"]]
        for row in after_one["vote_trustee"]:
            if row["answer"]:
                share = collection.open_answer(collection.read_answer(row["answer"]), collection_key, vote_id,
                                               trustee_shares)
                known[share.index] = bytes(share.value)
        assert sorted(known) == [1], "one distinct share: Ada's, whether from her key or her answer"
        held = stored_bytes(after_one) + configuration_bytes(config) + [collection_key]
        guesses = sorted({w for data in held for w in windows(data, shares.SHARE_SIZE)})
        assert combinations_open(bytes(vote["wrapped_key"]), vote_id, known, guesses) == []
        ballots = [(b["vote_id"], bytes(b["ciphertext"])) for b in after_one["sealed_ballot"]]
        candidates = {w for data in held for w in windows(data, 32)}
        assert not [c for c in candidates if opens_any(ballots, c)]

        # --- The second answer: counted, and no key material left. ---
        result = CliRunner().invoke(main, ["trustee", "answer", str(requests[3]), "--key", str(cy.key),
                                           "--passphrase-file", str(cy.passphrase), "--signer", str(signer),
                                           "-o", str(tmp_path / "answer-3.json")])
        assert result.exit_code == 0, result.output
        counted = run(runner, "vote", "trustee-answer", str(vote_id), str(tmp_path / "answer-3.json"))
        assert counted["status"] == "closed"
        assert counted["result"]["questions"][0]["counts"] == {"yes": 2, "no": 1, "abstain": 1}
        after = dump_database(app)
        [vote] = after["vote"]
        assert after["sealed_ballot"] == []
        assert not [row for rows in after.values() for row in rows if row.get("xmin") in cast_xmins], (
            "something a cast wrote survives the count")
        assert all(vote[c] is None for c in ("public_key", "wrapped_key", "collection_key", "wrapped_collection_key"))
        assert all(r["sealed_share"] is None and r["commitment"] is None and r["answer"] is None
                   for r in after["vote_trustee"])
        after_texts = [as_text(v) for rows_ in after.values() for row in rows_ for v in row.values()]
        for name, secret in {**secrets, "the collection key": collection_key}.items():
            for form in byte_forms(secret):
                assert not [t for t in after_texts if form in t], f"{name} survives the count"
