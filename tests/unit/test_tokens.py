"""Signed links and ballot tokens: one secret and salt per kind, and only our own errors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from ballot.errors import TokenExpired, TokenInvalid
from ballot.tokens import BALLOT_LINK, BALLOT_TOKEN, CHOICES_KEPT, OPT_IN, STANDING, TokenService, token_service

CONFIG = {"BALLOT_LINK_SECRET": "link-secret", "BALLOT_TOKEN_SECRET": "token-secret"}
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2026, 7, 1, 18, 0, tzinfo=dt.UTC)


def test_a_link_reads_back_its_payload():
    links = token_service(CONFIG, BALLOT_LINK)
    token = links.dumps({"v": 3, "r": 41}, CLOSES)
    assert links.loads(token, now=NOW) == {"v": 3, "r": 41}
    # Links travel in URL paths: nothing that needs escaping.
    assert all(ch.isalnum() or ch in "-_." for ch in token)


def test_a_token_without_expiry_does_not_expire():
    tokens = token_service(CONFIG, BALLOT_TOKEN)
    token = tokens.dumps({"v": 3, "n": "abc"})
    assert tokens.loads(token, now=dt.datetime(2100, 1, 1, tzinfo=dt.UTC)) == {"v": 3, "n": "abc"}


def test_a_link_expires_exactly_when_its_vote_closes():
    links = token_service(CONFIG, BALLOT_LINK)
    token = links.dumps({"v": 3, "r": 41}, CLOSES)
    assert links.loads(token, now=CLOSES - dt.timedelta(seconds=1)) == {"v": 3, "r": 41}
    with pytest.raises(TokenExpired, match="This link has expired."):
        links.loads(token, now=CLOSES)
    with pytest.raises(TokenExpired):
        links.loads(token, now=CLOSES + dt.timedelta(days=30))


def test_a_link_expired_now_is_refused_without_a_given_time():
    links = token_service(CONFIG, OPT_IN)
    token = links.dumps({"r": 1}, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    with pytest.raises(TokenExpired):
        links.loads(token)


def tampered(token: str) -> list[str]:
    payload, _, signature = token.rpartition(".")
    flip = {"A": "B"}.get(signature[0], "A")
    return [
        # A character near the end of the signature (the very last one also holds
        # padding bits that base64 ignores, so changing it may change nothing).
        token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],
        payload + "." + flip + signature[1:],
        payload.replace(payload[2], "x" if payload[2] != "x" else "y", 1) + "." + signature,  # the payload
        token[:-5],  # copied incompletely
        token + "x",
    ]


@pytest.mark.parametrize("kind", [OPT_IN, BALLOT_LINK, STANDING, BALLOT_TOKEN])
def test_a_tampered_token_is_invalid(kind):
    service = token_service(CONFIG, kind)
    token = service.dumps({"v": 3, "r": 41}, CLOSES)
    for bad in tampered(token):
        with pytest.raises(TokenInvalid, match="not valid"):
            service.loads(bad, now=NOW)


def test_a_forged_payload_with_a_longer_expiry_is_invalid():
    links = token_service(CONFIG, BALLOT_LINK)
    token = links.dumps({"v": 3, "r": 41}, NOW)
    forged = URLSafeSerializer("guessed secret", salt="ballot.ballot-link").dumps({"v": 3, "r": 41, "exp": 4102444800})
    with pytest.raises(TokenInvalid):
        links.loads(token.split(".")[0] + "." + forged.split(".")[1], now=NOW)
    with pytest.raises(TokenInvalid):
        links.loads(forged, now=NOW)


@pytest.mark.parametrize("garbage", ["", ".", "abc", "a.b.c", "%%%", "eyJ2IjozfQ", "é.é"])
def test_garbage_is_invalid(garbage):
    with pytest.raises(TokenInvalid):
        token_service(CONFIG, BALLOT_LINK).loads(garbage, now=NOW)


@pytest.mark.parametrize(
    ("made_as", "read_as"),
    [(OPT_IN, BALLOT_LINK), (BALLOT_LINK, OPT_IN), (OPT_IN, STANDING), (STANDING, OPT_IN),
     (BALLOT_LINK, BALLOT_TOKEN), (BALLOT_TOKEN, BALLOT_LINK)],
)
def test_a_token_of_one_kind_is_invalid_as_another(made_as, read_as):
    token = token_service(CONFIG, made_as).dumps({"v": 3, "r": 41}, CLOSES)
    with pytest.raises(TokenInvalid):
        token_service(CONFIG, read_as).loads(token, now=NOW)


def test_each_kind_uses_its_own_secret():
    same_secrets = {"BALLOT_LINK_SECRET": "one", "BALLOT_TOKEN_SECRET": "one"}
    other_link_secret = {"BALLOT_LINK_SECRET": "two", "BALLOT_TOKEN_SECRET": "one"}
    other_token_secret = {"BALLOT_LINK_SECRET": "one", "BALLOT_TOKEN_SECRET": "two"}
    link = token_service(same_secrets, BALLOT_LINK).dumps({"r": 1}, CLOSES)
    ballot_token = token_service(same_secrets, BALLOT_TOKEN).dumps({"v": 1, "n": "x"})
    with pytest.raises(TokenInvalid):
        token_service(other_link_secret, BALLOT_LINK).loads(link, now=NOW)
    assert token_service(other_token_secret, BALLOT_LINK).loads(link, now=NOW) == {"r": 1}
    with pytest.raises(TokenInvalid):
        token_service(other_token_secret, BALLOT_TOKEN).loads(ballot_token, now=NOW)
    assert token_service(other_link_secret, BALLOT_TOKEN).loads(ballot_token, now=NOW) == {"v": 1, "n": "x"}


def test_a_signed_value_that_is_not_an_object_is_invalid():
    service = TokenService("link-secret", BALLOT_LINK)
    token = URLSafeSerializer("link-secret", salt="ballot.ballot-link").dumps([1, 2, 3])
    with pytest.raises(TokenInvalid, match="This link is not valid."):
        service.loads(token, now=NOW)


def test_the_payload_is_not_changed_by_reading_it():
    service = token_service(CONFIG, STANDING)
    payload = {"r": 5}
    service.dumps(payload, CLOSES)
    assert payload == {"r": 5}


# The service writes itsdangerous' tokens, not trying to compress a short payload (ballot/tokens.py):
# links already sent, and cookies already kept, read back; and what it writes reads back in itsdangerous.
payloads = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.one_of(st.integers(-2**40, 2**40), st.text(max_size=400), st.lists(st.text(max_size=30), max_size=20)),
    max_size=6,
).filter(lambda d: "exp" not in d)


@given(payloads)
def test_tokens_are_itsdangerous_url_safe_tokens(payload):
    service = TokenService("link-secret", BALLOT_LINK)
    theirs = URLSafeSerializer("link-secret", salt="ballot.ballot-link")
    ours = service.dumps(payload)
    assert theirs.loads(ours) == payload
    token = theirs.dumps(payload)
    assert service.loads(token, now=NOW) == payload  # compressed by itsdangerous or not
    if not token.startswith("."):  # what it does not compress is written alike (short payloads: not tried)
        assert ours == token


def test_a_long_payload_is_compressed_as_itsdangerous_compresses_it():
    service = TokenService("link-secret", CHOICES_KEPT)
    payload = {"v": 3, "f": {"board": ["A long candidate name"] * 30}}
    token = service.dumps(payload)
    assert token.startswith(".")
    assert token == URLSafeSerializer("link-secret", salt="ballot.choices-kept").dumps(payload)
    assert service.loads(token, now=NOW) == payload
