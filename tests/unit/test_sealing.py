"""Sealing ballots (answers and token) to a vote's key, receipts from tokens, and the record's signature."""

from __future__ import annotations

import base64
import hashlib
import os
import re

import pytest

from ballot import sealing
from ballot.errors import InvalidInput
from ballot.tokens import BALLOT_TOKEN, TokenService

SEALING_KEY = os.urandom(32)
VOTE_ID = 7


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    """(public key, raw private key) of a vote."""
    public, wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    return public, sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID, wrapped)


YES_NO_SIZE = sealing.padded_size([{"id": "q1", "title": "Adopt?", "choices": ["yes", "no", "abstain"]}])


def ballot_token(vote_id: int = VOTE_ID) -> str:
    """A ballot token as a cast makes it: the vote's id and a random nonce, signed."""
    nonce = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    return TokenService("test-token-secret", BALLOT_TOKEN).dumps({"v": vote_id, "n": nonce})


def test_a_sealed_ballot_holds_its_token_and_opens_with_the_votes_key(keys):
    public, private = keys
    token = ballot_token()
    contents = {"answers": {"q1": "agree", "q2": "abstain", "board": ["Ada", "Grace Hopper-Müller"]},
                "token": token}
    sealed = sealing.seal(contents, public, VOTE_ID, YES_NO_SIZE)
    assert b"agree" not in sealed and b"Ada" not in sealed
    # Neither the token nor the receipt derived from it can be read in the sealed form, in any encoding.
    receipt = sealing.receipt_for(token)
    readable = (sealed, sealed.hex().encode(), base64.b64encode(sealed), base64.urlsafe_b64encode(sealed))
    for needle in (token, token.split(".")[0], receipt, receipt.replace("-", "")):
        assert not [form for form in readable if needle.encode() in form], needle
    opened = sealing.unseal(sealed, private, VOTE_ID)
    assert opened == contents
    assert sealing.receipt_for(opened["token"]) == receipt


def test_sealing_the_same_contents_twice_gives_different_ciphertexts(keys):
    public, _ = keys
    contents = {"answers": {"q1": "yes"}, "token": ballot_token()}
    first, second = (sealing.seal(contents, public, VOTE_ID, YES_NO_SIZE) for _ in range(2))
    assert first != second
    # Not even a common prefix: the encapsulated key (the first 32 bytes) is fresh each time.
    assert first[:32] != second[:32]


def test_the_length_of_a_sealed_ballot_does_not_tell_the_answer(keys):
    # "padded past the longest ballot the vote allows so that lengths say nothing" (docs/DOMAIN.md)
    public, _ = keys
    token = ballot_token()
    questions = [{"id": "q1", "title": "Adopt?", "choices": ["yes", "no", "abstain"]},
                 {"id": "board", "title": "Board", "choices": ["Ada", "Grace", "Guido van Rossum"]}]
    size = sealing.padded_size(questions)
    lengths = {
        len(sealing.seal({"answers": {"q1": answer, "board": approved}, "token": token}, public, VOTE_ID, size))
        for answer in ("yes", "no", "abstain") for approved in ([], ["Ada"], ["Ada", "Grace", "Guido van Rossum"])
    }
    lengths |= {len(sealing.seal({"answers": {}, "token": token}, public, VOTE_ID, size))}
    assert len(lengths) == 1


def test_every_ballot_token_fits_the_room_padding_leaves_for_it():
    # A token's length grows with its vote's id; ids are 32-bit in the database.
    longest = max(len(ballot_token(vote_id)) for vote_id in (1, 99, 10**6, 2**31 - 1))
    assert longest <= sealing.TOKEN_ROOM


def test_the_length_of_a_sealed_ballot_does_not_tell_its_token(keys):
    # Within a vote every token has the same length, but padding must not rely on it:
    # from no token at all to the longest the room allows, the length is the same.
    public, private = keys
    questions = [{"id": "q1", "title": "Adopt?", "choices": ["yes", "no", "abstain"]}]
    size = sealing.padded_size(questions)
    tokens = ["", "t", ballot_token(1), ballot_token(2**31 - 1), "x" * sealing.TOKEN_ROOM]
    sealed = [sealing.seal({"answers": {"q1": answer}, "token": token}, public, VOTE_ID, size)
              for token in tokens for answer in ("yes", "abstain")]
    assert len({len(ciphertext) for ciphertext in sealed}) == 1
    assert [sealing.unseal(c, private, VOTE_ID)["token"] for c in sealed] == [t for t in tokens for _ in range(2)]


def test_a_long_board_ballot_is_padded_to_the_longest_ballot_of_its_vote(keys):
    # Thirty candidates make a full ballot longer than one padding block: the
    # length must still not tell one approval from thirty, nor a short ranking from a long one.
    public, private = keys
    names = [f"Candidate with a long name {i:02}" for i in range(30)]
    questions = [{"id": "board", "title": "Board of Directors", "choices": names}]
    size = sealing.padded_size(questions)
    assert size > sealing.PAD_BLOCK
    token = ballot_token(2**31 - 1)
    ballots = [{"answers": {"board": chosen}, "token": token} for chosen in ([], names[:1], names[:15], names)]
    sealed = [sealing.seal(ballot, public, VOTE_ID, size) for ballot in ballots]
    assert len({len(ciphertext) for ciphertext in sealed}) == 1
    assert [sealing.unseal(ciphertext, private, VOTE_ID) for ciphertext in sealed] == ballots


def test_padding_leaves_room_for_the_token_where_the_token_alone_would_cross_a_block(keys):
    # Votes of 1 to 60 candidates: for some of them the fullest ballot fits a
    # block without its token and overflows it with the token. The padded size
    # must count the token, or those ballots would be a block longer than the empty one.
    public, _ = keys
    token = "x" * sealing.TOKEN_ROOM
    crossing = 0
    for count in range(1, 61):
        names = [f"Candidate {i:02}" for i in range(count)]
        questions = [{"id": "board", "title": "Board", "choices": names}]
        size = sealing.padded_size(questions)
        without_token = len(sealing.canonical_json({"answers": {"board": names}}))
        with_token = len(sealing.canonical_json({"answers": {"board": names}, "token": token}))
        crossing += without_token // sealing.PAD_BLOCK != with_token // sealing.PAD_BLOCK
        lengths = {len(sealing.seal({"answers": {"board": chosen}, "token": token}, public, VOTE_ID, size))
                   for chosen in ([], names[:1], names)}
        assert len(lengths) == 1, count
    assert crossing, "no vote size where the token alone crosses a block: the test would prove nothing"


def test_a_yes_no_batch_is_padded_to_its_longest_ballot(keys):
    public, _ = keys
    questions = [{"id": f"q{i}", "title": f"Nominee {i}", "choices": ["agree", "disagree", "abstain"]}
                 for i in range(1, 80)]
    size = sealing.padded_size(questions)
    token = ballot_token()
    lengths = {len(sealing.seal({"answers": {q["id"]: answer for q in questions}, "token": token},
                                public, VOTE_ID, size))
               for answer in ("agree", "disagree", "abstain")}
    assert len(lengths) == 1


def test_a_ballot_does_not_open_with_another_votes_key(keys):
    public, _ = keys
    _, other_wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    other_private = sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID, other_wrapped)
    sealed = sealing.seal({"answers": {"q1": "yes"}, "token": ballot_token()}, public, VOTE_ID, YES_NO_SIZE)
    with pytest.raises(InvalidInput, match="does not open with the vote's key"):
        sealing.unseal(sealed, other_private, VOTE_ID)


def test_a_ballot_sealed_for_one_vote_does_not_open_as_another_votes(keys):
    public, private = keys
    sealed = sealing.seal({"answers": {"q1": "yes"}, "token": ballot_token()}, public, VOTE_ID, YES_NO_SIZE)
    with pytest.raises(InvalidInput):
        sealing.unseal(sealed, private, VOTE_ID + 1)


@pytest.mark.parametrize("position", [0, 40, -1])
def test_a_changed_byte_of_a_sealed_ballot_is_refused(keys, position):
    public, private = keys
    sealed = bytearray(sealing.seal({"answers": {"q1": "yes"}, "token": ballot_token()}, public, VOTE_ID, YES_NO_SIZE))
    sealed[position] ^= 0x01
    with pytest.raises(InvalidInput):
        sealing.unseal(bytes(sealed), private, VOTE_ID)


def test_the_votes_key_unwraps_only_with_the_installations_sealing_key_and_for_its_vote():
    _, wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    with pytest.raises(InvalidInput, match="cannot be unwrapped"):
        sealing.unwrap_vote_key(os.urandom(32), VOTE_ID, wrapped)
    with pytest.raises(InvalidInput, match="cannot be unwrapped"):
        sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID + 1, wrapped)


def test_what_a_database_copy_holds_of_a_vote_does_not_open_its_ballots():
    # A copy of the database holds the public key, the wrapped private key and the
    # sealed ballots, never the installation's sealing key. No 32 bytes of the
    # wrapped key, nor the public key, open a ballot or unwrap the key.
    public, wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    assert SEALING_KEY not in wrapped and SEALING_KEY not in public
    private = sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID, wrapped)
    assert private not in wrapped, "the private key is wrapped, not stored"
    sealed = sealing.seal({"answers": {"q1": "yes"}, "token": ballot_token()}, public, VOTE_ID, YES_NO_SIZE)
    candidates = [wrapped[i:i + 32] for i in range(len(wrapped) - 31)] + [public]
    for candidate in candidates:
        with pytest.raises(InvalidInput):
            sealing.unseal(sealed, candidate, VOTE_ID)
        with pytest.raises(InvalidInput):
            sealing.unwrap_vote_key(candidate, VOTE_ID, wrapped)
    assert sealing.unseal(sealed, private, VOTE_ID)["answers"] == {"q1": "yes"}


# --- Receipts -------------------------------------------------------------------

def test_a_receipt_is_short_readable_and_reproducible():
    token = ballot_token()
    receipt = sealing.receipt_for(token)
    assert receipt == sealing.receipt_for(token)
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}", receipt)


def test_anyone_can_recompute_a_receipt_from_its_token_alone():
    # The published definition, restated here without the service's code: the
    # first 15 bytes of SHA-256("ballot-receipt" NUL token), base32, in groups of four.
    def published(token: str) -> str:
        text = base64.b32encode(hashlib.sha256(b"ballot-receipt\0" + token.encode()).digest()[:15]).decode()
        return "-".join(text[i:i + 4] for i in range(0, 24, 4))

    tokens = ["eyJ2Ijo3LCJuIjoiYWJjIn0.signature", "ünïcode-token", "", *(ballot_token() for _ in range(2000))]
    assert [sealing.receipt_for(token) for token in tokens] == [published(token) for token in tokens]
    # A receipt issued before the service spelled receipts from a table of letter pairs still matches its token.
    assert sealing.receipt_for("eyJ2Ijo3LCJuIjoiQUJDIn0.known-token") == "PBMS-RD6S-MSLH-FFLA-NDAX-CWSE"


def test_the_receipt_depends_on_the_token_alone_not_on_the_seal(keys):
    # Sealed twice, the same ballot has two ciphertexts and one receipt: nothing
    # of the ciphertext is in the receipt, so the record needs no sealed form.
    public, private = keys
    token = ballot_token()
    sealed = [sealing.seal({"answers": {"q1": a}, "token": token}, public, VOTE_ID, YES_NO_SIZE) for a in ("yes", "no")]
    receipts = {sealing.receipt_for(sealing.unseal(s, private, VOTE_ID)["token"]) for s in sealed}
    assert receipts == {sealing.receipt_for(token)}


def test_the_receipt_changes_when_the_token_changes():
    token = ballot_token()
    receipt = sealing.receipt_for(token)
    assert sealing.receipt_for(token[:-1] + ("A" if token[-1] != "A" else "B")) != receipt
    assert sealing.receipt_for(token + " ") != receipt
    assert sealing.receipt_for(ballot_token()) != receipt
    # Distinct for many tokens (120 bits): a receipt names one ballot.
    assert len({sealing.receipt_for(ballot_token()) for _ in range(2000)}) == 2000


# --- Signing the published record --------------------------------------------------

RECORD = {"format": "ballot-record/2", "result": {"participants": 9, "questions": [{"share": "2/3"}]}}


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
    altered = {"format": "ballot-record/2", "result": {"participants": 9, "questions": [{"share": "2/4"}]}}
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


def test_a_receipt_is_read_forgivingly():
    receipt = sealing.receipt_for("a token")
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}", receipt)
    compact = receipt.replace("-", "")
    typed = [receipt, receipt.lower(), compact, compact.lower(), receipt.replace("-", " "),
             f"  {receipt.replace('-', ' - ')}  ", " ".join(compact[i:i + 2] for i in range(0, 24, 2)),
             receipt.replace("O", "0").replace("I", "1"), receipt.replace("-", "\u2013")]
    assert {sealing.normal_receipt(t) for t in typed} == {receipt}
    assert sealing.normal_receipt("IOIO-OIOI-2345-67AB-CDEF-GHIJ".replace("O", "0").replace("I", "1")) == (
        "IOIO-OIOI-2345-67AB-CDEF-GHIJ")
    # Not a receipt: left as typed, to be named in the answer.
    assert sealing.normal_receipt("ABCD-EFGH") == "ABCD-EFGH"
    assert sealing.normal_receipt(compact + "A") == compact + "A"
    assert sealing.normal_receipt(compact[:-1] + "8") == compact[:-1] + "8"  # 8 is no base32 digit
    assert sealing.normal_receipt("   ") == ""
