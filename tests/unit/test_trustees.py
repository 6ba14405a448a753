"""The trustees' cryptography: a vote's key split k of n, requests and answers at the close, recovery."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import stat

import pytest
from Crypto.Protocol.SecretSharing import Shamir
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from ballot import sealing
from ballot.errors import InvalidInput
from ballot.trustees import collection, keys, shares

SEALING_KEY = os.urandom(32)
VOTE_ID = 7
TITLE = "Board election 2026"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def trustees() -> list[X25519PrivateKey]:
    """Seven trustees' private keys, as their own machines hold them."""
    return [X25519PrivateKey.generate() for _ in range(7)]


def public_keys(trustees: list[X25519PrivateKey]) -> list[bytes]:
    return [keys.raw_public_key(key) for key in trustees]


def new_vote_key(vote_id: int = VOTE_ID) -> bytes:
    """A vote's raw private key, as the service makes it at the opening."""
    _public, wrapped = sealing.new_vote_keys(SEALING_KEY, vote_id)
    return sealing.unwrap_vote_key(SEALING_KEY, vote_id, wrapped)


@dataclasses.dataclass
class Close:
    """A vote protected for its trustees at the opening, and the service's side of its close."""

    vote_id: int
    vote_key: bytes
    protected: shares.ProtectedVoteKey
    collection_key: collection.CollectionKey
    trustees: list[X25519PrivateKey]

    @property
    def collection_private_key(self) -> bytes:
        return collection.unwrap_collection_key(SEALING_KEY, self.vote_id, self.collection_key.wrapped_private_key)

    def request(self, index: int) -> collection.CloseRequest:
        """The request file trustee #index receives, as they read it."""
        made = collection.close_request(
            self.vote_id, TITLE, self.protected.trustee_shares[index - 1], self.collection_key.public_key
        )
        return collection.read_request(made.to_json())

    def answer(self, index: int) -> collection.ShareAnswer:
        """Trustee #index's answer file, as the service reads it."""
        made = collection.answer_request(self.request(index), self.trustees[index - 1])
        return collection.read_answer(made.to_json())

    def open(self, answer: collection.ShareAnswer, received=()) -> shares.Share:
        return collection.open_answer(
            answer, self.collection_private_key, self.vote_id, self.protected.trustee_shares, received
        )

    def shares(self, *indexes: int) -> list[shares.Share]:
        return [self.open(self.answer(index)) for index in indexes]


def protect(trustees, k: int = 2, n: int = 3, vote_id: int = VOTE_ID) -> Close:
    vote_key = new_vote_key(vote_id)
    protected = shares.protect_vote_key(vote_key, vote_id, public_keys(trustees[:n]), k)
    return Close(vote_id, vote_key, protected, collection.new_collection_key(SEALING_KEY, vote_id), trustees[:n])


# Opening and recovery ------------------------------------------------------------


@pytest.mark.parametrize("indexes", [(1, 3), (2, 3), (1, 2), (3, 1), (1, 2, 3)])
def test_any_two_of_three_trustees_recover_the_votes_key(trustees, indexes):
    close = protect(trustees)
    assert close.protected.threshold == 2
    assert [t.index for t in close.protected.trustee_shares] == [1, 2, 3]
    assert [t.fingerprint for t in close.protected.trustee_shares] == [
        keys.fingerprint(key) for key in public_keys(trustees[:3])
    ]
    recovered = shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, close.shares(*indexes))
    assert recovered == close.vote_key
    # The recovered key opens the vote's ballots.
    public = X25519PrivateKey.from_private_bytes(recovered).public_key().public_bytes_raw()
    assert sealing.unseal(sealing.seal({"answers": {"q1": "yes"}}, public, VOTE_ID, 0), recovered, VOTE_ID) == {
        "answers": {"q1": "yes"}
    }


def test_one_share_alone_is_refused(trustees):
    close = protect(trustees)
    with pytest.raises(InvalidInput, match="needs 2 of its trustees' shares; only 1 given"):
        shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, close.shares(2))
    with pytest.raises(InvalidInput, match="only 0 given"):
        shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, [])


def test_a_share_given_twice_counts_once(trustees):
    close = protect(trustees)
    (share,) = close.shares(1)
    with pytest.raises(InvalidInput, match="share #1 was given twice"):
        shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, [share, share])


def test_shares_of_another_vote_do_not_unwrap_the_key(trustees):
    close, other = protect(trustees), protect(trustees, vote_id=8)
    with pytest.raises(InvalidInput, match="do not unwrap the key of vote 7"):
        shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, other.shares(1, 2))
    # Nor the right shares with the wrong vote id, nor a wrapped key whose k was altered.
    with pytest.raises(InvalidInput, match="do not unwrap the key of vote 8"):
        shares.recover_vote_key(close.protected.wrapped_vote_key, 8, close.shares(1, 2))
    altered = bytes([1]) + close.protected.wrapped_vote_key[1:]
    with pytest.raises(InvalidInput, match="do not unwrap"):
        shares.recover_vote_key(altered, VOTE_ID, close.shares(1, 2))


def test_k_minus_one_shares_and_everything_the_service_keeps_do_not_open_the_key(trustees):
    close = protect(trustees, k=3, n=5)
    real = close.shares(1, 2)
    guessed = shares.Share(3, bytearray(os.urandom(shares.SHARE_SIZE)))
    with pytest.raises(InvalidInput, match="do not unwrap the key of vote 7"):
        shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, [*real, guessed])

    # What the service stores and sends, in every form it takes: none of it shows a share, W or the vote's key.
    stored = [close.protected.wrapped_vote_key, close.collection_key.wrapped_private_key, close.collection_private_key]
    for trustee_share in close.protected.trustee_shares:
        stored += [trustee_share.sealed_share, trustee_share.commitment]
    documents = [close.request(i).to_json().encode() for i in range(1, 6)]
    documents += [close.answer(i).to_json().encode() for i in range(1, 6)]
    every_share = close.shares(1, 2, 3, 4, 5)
    wrapping_key = Shamir.combine([(s.index, bytes(s.value)) for s in every_share[:3]])
    secrets = [wrapping_key, close.vote_key, *(bytes(s.value) for s in every_share)]
    for secret in secrets:
        for value in stored:
            assert secret not in value
        for encoded in (secret, base64.urlsafe_b64encode(secret), base64.b64encode(secret), secret.hex().encode()):
            assert not any(encoded.rstrip(b"=") in document for document in documents)


def test_the_trustees_count_and_list_are_checked(trustees):
    vote_key, pub = new_vote_key(), public_keys(trustees[:3])
    with pytest.raises(InvalidInput, match="from 1 to 3 .* not 0"):
        shares.protect_vote_key(vote_key, VOTE_ID, pub, 0)
    with pytest.raises(InvalidInput, match="from 1 to 3 .* not 4"):
        shares.protect_vote_key(vote_key, VOTE_ID, pub, 4)
    with pytest.raises(InvalidInput, match="from 1 to 255 trustees, not 0"):
        shares.protect_vote_key(vote_key, VOTE_ID, [], 1)
    with pytest.raises(InvalidInput, match="trustee #3 is listed twice"):
        shares.protect_vote_key(vote_key, VOTE_ID, [*pub[:2], pub[0]], 2)
    with pytest.raises(InvalidInput, match="trustee #2's public key is not an X25519 public key"):
        shares.protect_vote_key(vote_key, VOTE_ID, [pub[0], b"short"], 2)
    # One trustee alone is allowed here: whether an installation allows it is the service's policy.
    single = shares.protect_vote_key(vote_key, VOTE_ID, pub[:1], 1)
    assert single.threshold == 1


@given(data=st.data(), k=st.integers(1, 7), extra=st.integers(0, 6))
def test_any_k_of_n_shares_recover_the_key_and_k_minus_one_do_not(trustees, data, k, extra):
    n = min(k + extra, 7)
    close = protect(trustees, k=k, n=n)
    chosen = data.draw(st.lists(st.integers(1, n), min_size=k, max_size=n, unique=True), label="trustees")
    recovered = shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, close.shares(*chosen))
    assert recovered == close.vote_key
    with pytest.raises(InvalidInput, match=f"needs {k} of its trustees' shares"):
        shares.recover_vote_key(close.protected.wrapped_vote_key, VOTE_ID, close.shares(*chosen[: k - 1]))


# Answers at the close ---------------------------------------------------------------


def test_an_answer_for_another_vote_is_refused(trustees):
    close, other = protect(trustees), protect(trustees, vote_id=8)
    with pytest.raises(InvalidInput, match="this answer is for vote 8, not vote 7"):
        close.open(other.answer(1))


def test_a_share_of_another_vote_relabelled_as_this_votes_is_refused(trustees):
    """A trustee who seals their share of vote 8 as if it were of vote 7: the commitment tells."""
    close, other = protect(trustees), protect(trustees, vote_id=8)
    request = close.request(1)
    share_of_8 = shares.open_share(
        other.request(1).sealed_share, trustees[0], 8, 1, request.fingerprint
    )
    forged = answer_with_share(request, share_of_8)
    with pytest.raises(InvalidInput, match="not the one made for trustee .* when vote 7 opened"):
        close.open(forged)


def test_a_tampered_share_is_refused(trustees):
    close = protect(trustees)
    request = close.request(2)
    real = shares.open_share(request.sealed_share, trustees[1], VOTE_ID, 2, request.fingerprint)
    real[0] ^= 1
    with pytest.raises(InvalidInput, match="does not match its commitment"):
        close.open(answer_with_share(request, real))
    # A ciphertext altered on the way does not even open.
    answer = close.answer(2)
    altered = dataclasses.replace(answer, sealed_share=answer.sealed_share[:-1] + bytes([answer.sealed_share[-1] ^ 1]))
    with pytest.raises(InvalidInput, match="does not open with the close's collection key"):
        close.open(altered)


def test_an_answer_repeated_is_refused(trustees):
    close = protect(trustees)
    first = close.open(close.answer(3))
    with pytest.raises(InvalidInput, match=r"share #3 \(trustee .*\) was received already"):
        close.open(close.answer(3), received={first.index})


def test_an_answer_sealed_to_another_collection_key_is_refused(trustees):
    close = protect(trustees)
    earlier = dataclasses.replace(close, collection_key=collection.new_collection_key(SEALING_KEY, VOTE_ID))
    answer = earlier.answer(1)
    with pytest.raises(InvalidInput, match="made for another close request"):
        close.open(answer)
    # Relabelled with this close's key, it still does not open: HPKE binds the key it was sealed to.
    relabelled = dataclasses.replace(answer, collection_key=close.collection_key.public_key)
    with pytest.raises(InvalidInput, match="does not open with the close's collection key"):
        close.open(relabelled)


def test_an_answer_from_a_foreign_trustee_or_for_another_index_is_refused(trustees):
    close = protect(trustees)
    outsider = protect(trustees[3:], k=1, n=1)  # trustee keys 4.. hold no share of vote 7
    with pytest.raises(InvalidInput, match="from a key that holds no share of vote 7"):
        close.open(dataclasses.replace(outsider.answer(1), vote_id=VOTE_ID))
    with pytest.raises(InvalidInput, match="claims share #2, but the trustee .* holds share #1"):
        close.open(dataclasses.replace(close.answer(1), index=2))


def answer_with_share(request: collection.CloseRequest, share: bytearray) -> collection.ShareAnswer:
    """An answer made as the trustee's command makes it, but with a share of the trustee's choosing."""
    sealed = sealing.SUITE.encrypt(
        bytes(share),
        X25519PublicKey.from_public_bytes(request.collection_key),
        info=f"ballot/trustees/answer/{request.vote_id}/{request.index}/{request.fingerprint}".encode(),
    )
    return collection.ShareAnswer(
        request.vote_id, request.fingerprint, request.index, request.request_id, request.collection_key, sealed
    )


# Requests ------------------------------------------------------------------------------


def test_a_request_for_another_trustee_is_refused_by_the_trustee(trustees):
    close = protect(trustees)
    with pytest.raises(InvalidInput, match="this request is for the trustee whose key is .*; your key is"):
        collection.answer_request(close.request(1), trustees[1])
    # A request relabelled for them does not open with their key either.
    relabelled = dataclasses.replace(close.request(1), fingerprint=keys.fingerprint(public_keys(trustees)[1]))
    with pytest.raises(InvalidInput, match="not sealed to it as share #1 of vote 7"):
        collection.answer_request(relabelled, trustees[1])


def test_a_request_altered_after_it_was_made_is_refused(trustees):
    close = protect(trustees)
    text = close.request(1).to_json().replace(TITLE, "Something else")
    with pytest.raises(InvalidInput, match="altered after it was made"):
        collection.read_request(text)


def test_a_signed_request_is_checked_against_the_installations_key(trustees):
    close = protect(trustees)
    signing_key = sealing.new_signing_key_pem()
    signer = sealing.public_key_pem(signing_key)
    trustee_share = close.protected.trustee_shares[0]
    signed = collection.close_request(VOTE_ID, TITLE, trustee_share, close.collection_key.public_key, signing_key)
    assert collection.read_request(signed.to_json(), signer) == signed
    unsigned = collection.close_request(VOTE_ID, TITLE, trustee_share, close.collection_key.public_key)
    assert unsigned.request_id == signed.request_id
    with pytest.raises(InvalidInput, match="not signed by the installation key you gave"):
        collection.read_request(unsigned.to_json(), signer)
    other = sealing.public_key_pem(sealing.new_signing_key_pem())
    with pytest.raises(InvalidInput, match="not signed by the installation key you gave"):
        collection.read_request(signed.to_json(), other)
    with pytest.raises(InvalidInput, match="not a public key file"):
        collection.read_request(signed.to_json(), "not a key")


@pytest.mark.parametrize(
    "text, reason",
    [
        ("not json", "not JSON"),
        ("[]", "its format is not ballot-trustee-request/1"),
        ('{"format": "ballot-trustee-request/1"}', "'vote' is missing"),
        (
            '{"format": "ballot-trustee-request/1", "vote": {"id": "7", "title": "t"}}',
            "'7' is not a whole number",
        ),
    ],
)
def test_a_malformed_request_is_refused_plainly(text, reason):
    with pytest.raises(InvalidInput, match=re.escape(reason)):
        collection.read_request(text)


def test_a_malformed_answer_is_refused_plainly(trustees):
    close = protect(trustees)
    with pytest.raises(InvalidInput, match="its format is not ballot-trustee-answer/1"):
        collection.read_answer(close.request(1).to_json())
    broken = close.answer(1).to_json().replace('"sealed_share": "', '"sealed_share": "!')
    with pytest.raises(InvalidInput, match="not a trustee answer file"):
        collection.read_answer(broken)
    with pytest.raises(InvalidInput, match="not JSON"):
        collection.read_answer(b"\xff\xfe")


def test_the_collection_key_is_wrapped_under_the_installations_key():
    collection_key = collection.new_collection_key(SEALING_KEY, VOTE_ID)
    private = collection.unwrap_collection_key(SEALING_KEY, VOTE_ID, collection_key.wrapped_private_key)
    assert keys.raw_public_key(X25519PrivateKey.from_private_bytes(private)) == collection_key.public_key
    with pytest.raises(InvalidInput, match="cannot be unwrapped"):
        collection.unwrap_collection_key(os.urandom(32), VOTE_ID, collection_key.wrapped_private_key)
    with pytest.raises(InvalidInput, match="cannot be unwrapped"):
        collection.unwrap_collection_key(SEALING_KEY, 8, collection_key.wrapped_private_key)


# Trustee key files ---------------------------------------------------------------------


def test_a_fingerprint_is_16_groups_of_4_hex_digits_of_the_public_keys_sha256():
    public = bytes(range(32))
    text = keys.fingerprint(public)
    assert re.fullmatch(r"([0-9A-F]{4} ){15}[0-9A-F]{4}", text)
    assert text.replace(" ", "").lower() == hashlib.sha256(public).hexdigest()


def test_key_files_are_written_once_private_and_open_only_with_the_passphrase(tmp_path):
    public_path, fingerprint = keys.write_trustee_key(tmp_path / "ada.key", PASSPHRASE)
    assert public_path == tmp_path / "ada.pub"
    assert stat.S_IMODE((tmp_path / "ada.key").stat().st_mode) == 0o600
    private = keys.load_trustee_private_key((tmp_path / "ada.key").read_bytes(), PASSPHRASE)
    assert keys.fingerprint(keys.load_trustee_public_key(public_path.read_text())) == fingerprint
    assert keys.fingerprint(keys.raw_public_key(private)) == fingerprint
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "ada.key").read_bytes()
    with pytest.raises(InvalidInput, match="the passphrase does not open this key file"):
        keys.load_trustee_private_key((tmp_path / "ada.key").read_bytes(), "another passphrase")
    before = (tmp_path / "ada.key").read_bytes()
    with pytest.raises(InvalidInput, match="ada.key exists already"):
        keys.write_trustee_key(tmp_path / "ada.key", PASSPHRASE)
    (tmp_path / "bea.pub").write_text("registered already")
    with pytest.raises(InvalidInput, match="bea.pub exists already"):
        keys.write_trustee_key(tmp_path / "bea.key", PASSPHRASE)
    assert (tmp_path / "ada.key").read_bytes() == before and not (tmp_path / "bea.key").exists()


def test_a_short_passphrase_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        keys.write_trustee_key(tmp_path / "ada.key", "eleven char")
    assert not list(tmp_path.iterdir())


def test_files_that_are_not_trustee_keys_are_refused_plainly():
    ed25519 = Ed25519PrivateKey.generate()
    plain = X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidInput, match="not protected by a passphrase"):
        keys.load_trustee_private_key(plain, PASSPHRASE)
    other_kind = ed25519.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    with pytest.raises(InvalidInput, match="does not hold a trustee's key"):
        keys.load_trustee_private_key(other_kind, PASSPHRASE)
    with pytest.raises(InvalidInput, match="not a trustee's key file"):
        keys.load_trustee_private_key(b"hello", PASSPHRASE)
    ed_public = ed25519.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidInput, match="not a trustee's key"):
        keys.load_trustee_public_key(ed_public)
    with pytest.raises(InvalidInput, match="not a public key file"):
        keys.load_trustee_public_key("hello")
