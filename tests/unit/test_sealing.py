"""Sealing ballots to a vote's key, receipts, and the signature over the published record."""

from __future__ import annotations

import os
import re

import pytest

from ballot import sealing
from ballot.errors import InvalidInput

SEALING_KEY = os.urandom(32)
VOTE_ID = 7


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    """(public key, raw private key) of a vote."""
    public, wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    return public, sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID, wrapped)


def test_a_sealed_ballot_opens_with_the_votes_key(keys):
    public, private = keys
    contents = {"answers": {"q1": "agree", "q2": "abstain", "board": ["Ada", "Grace Hopper-Müller"]}}
    sealed = sealing.seal(contents, public, VOTE_ID)
    assert b"agree" not in sealed and b"Ada" not in sealed
    assert sealing.unseal(sealed, private, VOTE_ID) == contents


def test_sealing_the_same_contents_twice_gives_different_ciphertexts(keys):
    public, _ = keys
    contents = {"answers": {"q1": "yes"}}
    assert sealing.seal(contents, public, VOTE_ID) != sealing.seal(contents, public, VOTE_ID)


def test_the_length_of_a_sealed_ballot_does_not_tell_the_answer(keys):
    public, _ = keys
    lengths = {
        len(sealing.seal({"answers": {"q1": answer}}, public, VOTE_ID))
        for answer in ("yes", "no", "abstain", "agree", "disagree")
    }
    lengths |= {
        len(sealing.seal({"answers": {"board": approved}}, public, VOTE_ID))
        for approved in ([], ["Ada"], ["Ada", "Grace", "Guido van Rossum"])
    }
    assert len(lengths) == 1


def test_a_long_board_ballot_is_padded_to_the_longest_ballot_of_its_vote(keys):
    # Thirty candidates make a full ballot longer than one padding block: the
    # length must still not tell one approval from thirty, nor a short ranking from a long one.
    public, private = keys
    names = [f"Candidate with a long name {i:02}" for i in range(30)]
    questions = [{"id": "board", "title": "Board of Directors", "choices": names}]
    size = sealing.padded_size(questions)
    assert size > sealing.PAD_BLOCK
    ballots = [{"answers": {"board": chosen}} for chosen in ([], names[:1], names[:15], names)]
    sealed = [sealing.seal(ballot, public, VOTE_ID, size) for ballot in ballots]
    assert len({len(ciphertext) for ciphertext in sealed}) == 1
    assert [sealing.unseal(ciphertext, private, VOTE_ID) for ciphertext in sealed] == ballots


def test_a_yes_no_batch_is_padded_to_its_longest_ballot(keys):
    public, _ = keys
    questions = [{"id": f"q{i}", "title": f"Nominee {i}", "choices": ["agree", "disagree", "abstain"]}
                 for i in range(1, 80)]
    size = sealing.padded_size(questions)
    lengths = {len(sealing.seal({"answers": {q["id"]: answer for q in questions}}, public, VOTE_ID, size))
               for answer in ("agree", "disagree", "abstain")}
    assert len(lengths) == 1


def test_a_ballot_does_not_open_with_another_votes_key(keys):
    public, _ = keys
    other_public, other_wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    other_private = sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID, other_wrapped)
    sealed = sealing.seal({"answers": {"q1": "yes"}}, public, VOTE_ID)
    with pytest.raises(InvalidInput, match="does not open with the vote's key"):
        sealing.unseal(sealed, other_private, VOTE_ID)


def test_a_ballot_sealed_for_one_vote_does_not_open_as_another_votes(keys):
    public, private = keys
    sealed = sealing.seal({"answers": {"q1": "yes"}}, public, VOTE_ID)
    with pytest.raises(InvalidInput):
        sealing.unseal(sealed, private, VOTE_ID + 1)


@pytest.mark.parametrize("position", [0, 40, -1])
def test_a_changed_byte_of_a_sealed_ballot_is_refused(keys, position):
    public, private = keys
    sealed = bytearray(sealing.seal({"answers": {"q1": "yes"}}, public, VOTE_ID))
    sealed[position] ^= 0x01
    with pytest.raises(InvalidInput):
        sealing.unseal(bytes(sealed), private, VOTE_ID)


def test_the_votes_key_unwraps_only_with_the_installations_sealing_key_and_for_its_vote():
    _, wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    with pytest.raises(InvalidInput, match="cannot be unwrapped"):
        sealing.unwrap_vote_key(os.urandom(32), VOTE_ID, wrapped)
    with pytest.raises(InvalidInput, match="cannot be unwrapped"):
        sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID + 1, wrapped)


# --- Receipts -------------------------------------------------------------------

def test_a_receipt_is_short_readable_and_reproducible(keys):
    public, _ = keys
    sealed = sealing.seal({"answers": {"q1": "yes"}}, public, VOTE_ID)
    receipt = sealing.receipt_for("token-1", sealed)
    assert receipt == sealing.receipt_for("token-1", sealed)
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}", receipt)


def test_the_receipt_changes_when_the_ciphertext_or_the_token_changes(keys):
    public, _ = keys
    sealed = sealing.seal({"answers": {"q1": "yes"}}, public, VOTE_ID)
    altered = bytearray(sealed)
    altered[-1] ^= 0x80
    receipt = sealing.receipt_for("token-1", sealed)
    assert sealing.receipt_for("token-1", bytes(altered)) != receipt
    assert sealing.receipt_for("token-2", sealed) != receipt
    assert sealing.receipt_for("token-1", sealing.seal({"answers": {"q1": "yes"}}, public, VOTE_ID)) != receipt


# --- Signing the published record --------------------------------------------------

RECORD = {"format": "ballot-record/1", "result": {"participants": 9, "questions": [{"share": "2/3"}]}}


@pytest.fixture(scope="module")
def signing_key() -> str:
    return sealing.new_signing_key_pem()


def test_a_signed_record_verifies(signing_key):
    signature = sealing.sign(RECORD, signing_key)
    assert sealing.verify_signature(RECORD, signature, sealing.public_key_pem(signing_key))
    # The signature is over canonical JSON: the order of keys does not matter.
    reordered = {"result": RECORD["result"], "format": RECORD["format"]}
    assert sealing.verify_signature(reordered, signature, sealing.public_key_pem(signing_key))


def test_one_changed_byte_of_the_record_fails_verification(signing_key):
    signature = sealing.sign(RECORD, signing_key)
    altered = {"format": "ballot-record/1", "result": {"participants": 9, "questions": [{"share": "2/4"}]}}
    assert sealing.canonical_json(altered) != sealing.canonical_json(RECORD)
    assert len(sealing.canonical_json(altered)) == len(sealing.canonical_json(RECORD))
    assert not sealing.verify_signature(altered, signature, sealing.public_key_pem(signing_key))


def test_one_changed_byte_of_the_signature_fails_verification(signing_key):
    raw = bytearray(sealing.unb64(sealing.sign(RECORD, signing_key)))
    raw[10] ^= 0x01
    assert not sealing.verify_signature(RECORD, sealing.b64(bytes(raw)), sealing.public_key_pem(signing_key))
    assert not sealing.verify_signature(RECORD, "not base64 at all!", sealing.public_key_pem(signing_key))


def test_a_signature_by_another_key_fails_verification(signing_key):
    signature = sealing.sign(RECORD, sealing.new_signing_key_pem())
    assert not sealing.verify_signature(RECORD, signature, sealing.public_key_pem(signing_key))


def test_canonical_json_is_one_byte_form():
    assert sealing.canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
