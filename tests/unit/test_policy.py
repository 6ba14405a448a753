"""The policy presets, and what a bad policy file gets: PolicyInvalid with a clear message."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from ballot.errors import PolicyInvalid
from ballot.policy import POLICY_DIR, Policy, load_policy, parse_fraction

SEED = (POLICY_DIR / "seed.toml").read_text(encoding="utf-8")


def test_the_seed_is_the_new_membership_model():
    policy = load_policy("seed")

    assert policy.name == "seed"
    assert policy.missed_votes == 2
    assert policy.window == "period"
    assert policy.exempt_classes == ()
    assert set(policy.enabled_classes) == {"basic", "supporting", "sponsor", "managing", "contributing", "fellow"}
    assert set(policy.individual_classes) == {"supporting", "managing", "contributing", "fellow"}
    assert policy.delegates_vote is True
    assert policy.quorum == 0
    assert policy.max_open_days == 0
    assert policy.denominator == "participating"
    assert policy.fellow_threshold == Fraction(2, 3)
    assert policy.fellow_allowed_thresholds == (Fraction(2, 3), Fraction(3, 4))
    assert policy.board_method == "approval"
    assert policy.affiliation_cap is None


def test_the_psf_bylaws_preset():
    policy = load_policy("psf-bylaws")

    assert policy.missed_votes == 4
    assert policy.window == "calendar-year"
    assert policy.exempt_classes == ("fellow",)
    assert policy.quorum == Fraction(1, 3)
    assert policy.max_open_days == 60
    assert "managing" not in policy.enabled_classes
    assert "sponsor" not in policy.enabled_classes
    assert "managing" not in policy.individual_classes
    assert policy.delegates_vote is False
    assert policy.affiliation_cap == Fraction(1, 4)
    assert policy.board_method == "approval"


def test_the_default_configuration_names_the_seed():
    defaults: dict = {}
    exec((POLICY_DIR.parent / "default.py").read_text(), defaults)
    assert defaults["BALLOT_POLICY"] == "seed"


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
