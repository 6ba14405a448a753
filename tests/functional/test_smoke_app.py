from sqlalchemy import select

from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod
from ballot.extensions import db
from ballot.policy import load_policy


def test_period_rolls_back_between_tests_part1(app):
    eligibility.open_period(2026, load_policy("seed"))
    assert db.session.scalar(select(EligibilityPeriod.year)) == 2026


def test_period_rolls_back_between_tests_part2(app):
    assert db.session.scalar(select(EligibilityPeriod.year)) is None
