"""The demo that `make run` loads: a period, a small roster, everyone enrolled, one open vote."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from flask import current_app

from ballot.admin import accounts
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import Enrollment, VotingRight
from ballot.errors import NotFound
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.tasks import send_due
from ballot.policy import load_policy
from ballot.timestamps import utcnow
from ballot.tokens import BALLOT_LINK, OPT_IN
from ballot.unit_of_work import unit_of_work
from ballot.votes import lifecycle, queries
from ballot.votes.models import ElectorateEntry

DEMO_ACTOR = "demo"

DEMO_ROSTER = "demo-roster.csv"
DEMO_ADMIN = "demo-admin.txt"  # the demo administrator's sign-in, in the instance folder only


def _demo_administrator() -> None:
    password = secrets.token_urlsafe(12)
    admin, secret = accounts.create_administrator("admin@example.org", password)
    setup = accounts.totp_setup(admin.email, secret)
    path = Path(current_app.instance_path) / DEMO_ADMIN
    path.write_text(
        f"Console: {outbox.external_url('admin.login')} as {admin.email}, password {password}\n"
        f"  second factor: add {setup['secret']} to an authenticator app (or `oathtool --totp -b {setup['secret']}`)\n"
    )
    path.chmod(0o600)


def load_demo() -> list[str]:
    """Load the demo once; on later runs only print the links again."""
    now = utcnow()
    year = now.year
    lines = []
    try:
        period = eligibility.get_period(year)
    except NotFound:
        with unit_of_work(DEMO_ACTOR):
            period = eligibility.open_period(year, load_policy(current_app.config["BALLOT_POLICY"]))
            path = Path(__file__).resolve().parent.parent / "config" / DEMO_ROSTER
            eligibility.import_roster(period, path.read_bytes(), DEMO_ROSTER)
            rights = eligibility.rights_of(period)
            # Everyone but the last right is enrolled, so the demo also shows an opt-in page.
            for right in rights[:-1]:
                db.session.add(Enrollment(right_id=right.id, confirmed_at=now, source="link"))
            vote = lifecycle.create_vote(
                period, "fellow", "Fellow nominations (demo)", now + dt.timedelta(days=14),
                description="Do these nominees meet the Fellow criteria?",
                questions=["Katherine Johnson", "Dennis Ritchie"],
            )
            lifecycle.open_vote(vote)
            _demo_administrator()
        send_due()
        lines.append(f"Loaded the demo: the {year} period, {len(rights)} voting rights, vote {vote.id} open.")
    credentials = Path(current_app.instance_path) / DEMO_ADMIN
    if credentials.exists():
        lines.append(credentials.read_text().rstrip())
    rights = eligibility.rights_of(period)
    links = outbox.link_token
    lines.append("Open one of these links to try the service:")
    for vote in queries.list_votes(period):
        if vote.status != "open":
            continue
        electorate = db.select(ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id)
        for right_id in db.session.scalars(electorate):
            right = db.session.get_one(VotingRight, right_id)
            token = links(BALLOT_LINK, {"v": vote.id, "r": right_id}, vote.closes_at)
            lines.append(f"  ballot of {right.member.display_name} ({right.label}): "
                         f"{outbox.external_url('votes.ballot', vote_id=vote.id, token=token)}")
    enrolled = {r.right_id for r in eligibility.voting_members(period)}
    for right in rights:
        if right.id not in enrolled:
            token = links(OPT_IN, {"r": right.id}, eligibility.opt_in_expiry(period.year))
            lines.append(f"  opt-in of {right.member.display_name} ({right.label}): "
                         f"{outbox.external_url('eligibility.opt_in', token=token)}")
    return lines
