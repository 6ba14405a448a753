"""What the console's front page and exports show: read-only."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod
from ballot.outbox import services as outbox
from ballot.votes import queries as votes
from ballot.votes.models import COUNTING, DRAFT, OPEN, Vote
from ballot.worker import failures
from ballot.worker.models import WorkerFailure


@dataclass(frozen=True)
class Dashboard:
    periods: list[tuple[EligibilityPeriod, eligibility.EnrolmentCounts]]
    votes_by_status: dict[str, int]
    open_votes: list[Vote]
    counting_votes: list[Vote]  # closed, waiting for their trustees' answers
    draft_votes: list[Vote]
    last_board: Vote | None
    worker_failures: list[WorkerFailure]
    turnouts: dict[int, votes.Turnout]
    stuck_messages: int


def dashboard() -> Dashboard:
    all_votes = votes.list_votes()
    counts: dict[str, int] = {}
    for vote in all_votes:
        counts[vote.shown_status()] = counts.get(vote.shown_status(), 0) + 1
    return Dashboard(
        periods=[(p, eligibility.enrolment_counts(p)) for p in eligibility.list_periods()],
        votes_by_status=counts,
        open_votes=[v for v in all_votes if v.status == OPEN],
        counting_votes=[v for v in all_votes if v.status == COUNTING],
        draft_votes=[v for v in all_votes if v.status == DRAFT],
        last_board=votes.last_board_election(),
        worker_failures=failures(),
        turnouts=votes.turnouts([v for v in all_votes if v.status in (OPEN, DRAFT)]),
        stuck_messages=len(outbox.stuck()),
    )


def csv_text(header: list[str], rows) -> str:
    """A CSV file; a cell that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
