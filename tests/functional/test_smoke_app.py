"""Each test's writes are rolled back, even those a command committed: the next test starts from nothing."""

from sqlalchemy import select

from ballot.eligibility.models import EligibilityPeriod
from ballot.extensions import db
from tests.conftest import rolled_back
from tests.functional.factories import run


def test_what_a_test_commits_is_gone_for_the_next(database_app):
    with rolled_back(database_app) as app:
        run(app.test_cli_runner(), "period", "open", "2026")  # its unit of work commits
        assert db.session.scalars(select(EligibilityPeriod.year)).all() == [2026]
    with rolled_back(database_app):
        assert db.session.scalars(select(EligibilityPeriod.year)).all() == []
