"""The policy presets, and what a bad policy file gets: PolicyInvalid with a clear message."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from ballot.errors import PolicyInvalid
from ballot.policy import POLICY_DIR, Policy, load_policy, parse_fraction

SEED = (POLICY_DIR / "seed.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["seed", "psf-bylaws"])
def test_a_period_copy_of_the_policy_reads_back_the_same(name):
    policy = load_policy(name)
    assert Policy.from_dict(policy.as_dict()) == policy


def test_a_policy_is_loaded_from_a_path(tmp_path):
    path = tmp_path / "club.toml"
    path.write_text(SEED.replace("missed_votes = 2", "missed_votes = 3").replace('name = "seed"', 'name = "club"'))
    policy = load_policy(str(path))
    assert (policy.name, policy.missed_votes) == ("club", 3)


def write_policy(tmp_path: Path, old: str, new: str) -> str:
    assert old in SEED, old
    path = tmp_path / "bad.toml"
    path.write_text(SEED.replace(old, new), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("missed_votes = 2", "missed_votes = 0", "forfeiture.missed_votes must be at least 1"),
        ("missed_votes = 2", 'missed_votes = "two"', "forfeiture.missed_votes"),
        ("missed_votes = 2", "", "missing setting missed_votes"),
        ('window = "period"', 'window = "fortnight"', "forfeiture.window must be one of"),
        ('denominator = "participating"', 'denominator = "everyone"', "votes.denominator must be one of"),
        ('quorum = "0"', 'quorum = "half"', "votes.quorum: 'half' is not a fraction"),
        ('quorum = "0"', 'quorum = "3/2"', "votes.quorum: 3/2 is not between 0 and 1"),
        ('quorum = "0"', 'quorum = "1/0"', "votes.quorum"),
        ('threshold = "2/3"', 'threshold = "1/2"', "fellow.threshold must be one of fellow.allowed_thresholds"),
        ('method = "approval"', 'method = "stv"', "board.method must be one of approval, meek-stv"),
        ('affiliation_cap = ""', 'affiliation_cap = "2"', "board.affiliation_cap"),
        ('"contributing", "fellow"]\n# Classes that give', '"contributing", "fellow", "wizard"]\n# Classes that give',
         "unknown classes ['wizard']"),
        ('individual = ["supporting",', 'individual = ["basic-plus", "supporting",', "classes.individual"),
        ("exempt_classes = []", 'exempt_classes = ["fellows"]', "forfeiture.exempt_classes"),
        ("delegates_vote = true", 'delegates_vote = "false"', "classes.delegates_vote"),
        ("max_open_days = 0", "max_open_days = -5", "votes.max_open_days"),
        ('enabled = ["basic",', 'enabled = "basic" # ["basic",', "classes.enabled"),
        ("[votes]", "votes = 3\n[other]", "votes"),
    ],
)
def test_a_bad_policy_file_is_refused_with_a_clear_message(tmp_path, old, new, message):
    path = write_policy(tmp_path, old, new)
    with pytest.raises(PolicyInvalid) as refused:
        load_policy(path)
    assert message in str(refused.value)
    assert "bad.toml" in str(refused.value)  # says which file


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n[classes\n")
    with pytest.raises(PolicyInvalid, match="broken.toml"):
        load_policy(str(path))


def test_an_unknown_preset_is_refused():
    with pytest.raises(PolicyInvalid, match="no policy file .*nonesuch.toml"):
        load_policy("nonesuch")


@pytest.mark.parametrize(("text", "value"), [("2/3", Fraction(2, 3)), ("0.5", Fraction(1, 2)), ("1", 1), (" 0 ", 0)])
def test_fractions_are_exact(text, value):
    assert parse_fraction(text, "x") == value


@pytest.mark.parametrize("text", ["two thirds", "", "1/0", "-1/3", "4/3"])
def test_a_fraction_out_of_range_or_unreadable_is_refused(text):
    with pytest.raises(PolicyInvalid, match="^threshold: "):
        parse_fraction(text, "threshold")
