"""The console's pure pieces: TOTP codes (RFC 6238), the replay rule, password hashes, wrapped secrets, charts."""

from __future__ import annotations

import pytest

from ballot.admin import credentials
from ballot.errors import InvalidInput
from ballot.votes import charts

RFC_SECRET = b"12345678901234567890"  # RFC 6238's SHA-1 test key


@pytest.mark.parametrize(
    "at, code", [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")]
)
def test_codes_match_rfc_6238(at, code):
    assert credentials.totp_code(RFC_SECRET, at) == code


def test_a_code_is_accepted_one_step_either_side_and_only_once():
    now = 1_700_000_000
    step = now // 30
    for offset in (-1, 0, 1):
        code = credentials.totp_code(RFC_SECRET, now + 30 * offset)
        assert credentials.accepted_step(RFC_SECRET, code, now, None) == step + offset
    assert credentials.accepted_step(RFC_SECRET, credentials.totp_code(RFC_SECRET, now + 60), now, None) is None
    assert credentials.accepted_step(RFC_SECRET, credentials.totp_code(RFC_SECRET, now - 60), now, None) is None
    current = credentials.totp_code(RFC_SECRET, now)
    assert credentials.accepted_step(RFC_SECRET, current, now, last_step=step) is None  # replayed
    earlier = credentials.totp_code(RFC_SECRET, now - 30)
    assert credentials.accepted_step(RFC_SECRET, earlier, now, last_step=step) is None
    assert credentials.accepted_step(RFC_SECRET, f" {current[:3]} {current[3:]} ", now, None) == step  # spaces are fine
    for bad in ("", "12345", "1234567", "abcdef", "12345x"):
        assert credentials.accepted_step(RFC_SECRET, bad, now, None) is None


def test_passwords_are_argon2id_and_checked_alike_for_unknown_accounts():
    stored = credentials.hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert credentials.password_matches(stored, "a long enough password")
    assert not credentials.password_matches(stored, "a long enough passwore")
    assert not credentials.password_matches(None, "a long enough password")
    assert not credentials.password_matches("not a hash", "a long enough password")
    with pytest.raises(InvalidInput, match="at least 12"):
        credentials.hash_password("short")


def test_a_wrapped_secret_opens_only_for_its_account_and_key():
    key, other = b"k" * 32, b"o" * 32
    wrapped = credentials.wrap_secret(key, "ada@example.org", RFC_SECRET)
    assert RFC_SECRET not in wrapped
    assert credentials.unwrap_secret(key, "ada@example.org", wrapped) == RFC_SECRET
    with pytest.raises(InvalidInput):
        credentials.unwrap_secret(key, "mallory@example.org", wrapped)
    with pytest.raises(InvalidInput):
        credentials.unwrap_secret(other, "ada@example.org", wrapped)


def test_bars_are_scaled_to_the_largest_count():
    chart = charts.bar_chart("Turnout", [("1 Dec", 10), ("2 Dec", 5), ("3 Dec", 0)])
    assert [bar.width for bar in chart.bars] == [charts.BAR_MAX, charts.BAR_MAX / 2, 0]
    assert chart.height == 3 * charts.ROW and not chart.highlighted
    assert all(bar.width == 0 for bar in charts.bar_chart("Nothing yet", [("a", 0)]).bars)
    result = charts.result_chart({"title": "Board", "counts": {"Ada": 3, "Bea": 1}, "counts_are": "approvals",
                                  "elected": ["Ada"]})
    assert result.title == "Board: approvals per candidate" and [b.highlight for b in result.bars] == [True, False]
    assert charts.result_chart({"title": "Q", "counts": {"yes": 2}}).title == "Q: ballots per answer"
