"""What `ballot worker` does for votes at their times: open, close, remind; and links asked for again.

Each task claims one due item at a time in its own unit of work (see
``ballot.worker``): the vote's or reminder's row is locked with ``SKIP LOCKED``,
so several workers on PostgreSQL never take the same item, and one an
administrator is acting on is passed over until they are done; the item's
state is read again under the lock, so a vote closed by hand meanwhile is no
longer due.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from ballot.audit import audit, vote_subject
from ballot.errors import BallotError
from ballot.extensions import db
from ballot.unit_of_work import attempt
from ballot.votes import lifecycle, links
from ballot.votes.models import COUNTING, DRAFT, OPEN, LinkRequest, Vote, VoteReminder
from ballot.worker import Claimed, ItemTask, waiting_items

log = logging.getLogger(__name__)

OPEN_TASK, CLOSE_TASK, REMIND_TASK, LINK_AGAIN_TASK = "vote.open", "vote.close", "vote.remind", "link-again"


def _claim_vote(task: str, status: str, due, now: dt.datetime, skip: set[int]) -> Claimed | None:
    vote = db.session.scalar(
        select(Vote)
        .where(Vote.status == status, due, Vote.id.not_in(waiting_items(task, now)), Vote.id.not_in(skip))
        .order_by(Vote.id).limit(1)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )
    return Claimed(vote.id, vote_subject(vote)) if vote is not None else None


def claim_due_opening(now: dt.datetime, skip: set[int]) -> Claimed | None:
    return _claim_vote(OPEN_TASK, DRAFT, Vote.opens_at <= now, now, skip)


def open_scheduled(vote_id: int, now: dt.datetime) -> str:
    """Open a draft at its scheduled time; one that cannot open (nobody in its electorate, say)
    keeps its draft status and loses the schedule, so that the worker does not try every round."""
    vote = db.session.get_one(Vote, vote_id)
    try:
        with attempt():
            rights = lifecycle.open_vote(vote, now)
    except BallotError as exc:
        assert vote.opens_at is not None, "claimed because its opening time has come"
        audit("vote.open.refused", vote_subject(vote), now=now, scheduled=vote.opens_at.isoformat(), reason=str(exc))
        vote.opens_at = None
        log.warning("vote %s could not open at its scheduled time: %s", vote_id, exc)
        return f"{vote_subject(vote)} could not open at its scheduled time: {exc}"
    return f"opened {vote_subject(vote)}: {rights} ballot links queued"


def claim_due_close(now: dt.datetime, skip: set[int]) -> Claimed | None:
    return _claim_vote(CLOSE_TASK, OPEN, Vote.closes_at <= now, now, skip)


def close_scheduled(vote_id: int, now: dt.datetime) -> str:
    """Close a vote at its closing time: counted at once, or, with trustees, left waiting for their answers."""
    vote = db.session.get_one(Vote, vote_id)
    summary = lifecycle.close_vote(vote, now)
    if summary["status"] == COUNTING:
        return (f"closed {vote_subject(vote)}: {summary['missed']} missed, {summary['forfeited']} rights forfeited; "
                f"it waits for {summary['trustees_needed']} of its {summary['trustees']} trustees' answers")
    return (f"closed {vote_subject(vote)}: {summary['ballots']} ballots, {summary['missed']} missed, "
            f"{summary['forfeited']} rights forfeited")


def claim_due_reminder(now: dt.datetime, skip: set[int]) -> Claimed | None:
    reminder = db.session.scalar(
        select(VoteReminder)
        .where(VoteReminder.sent_at.is_(None), VoteReminder.scheduled_at <= now,
               VoteReminder.id.not_in(waiting_items(REMIND_TASK, now)), VoteReminder.id.not_in(skip))
        .order_by(VoteReminder.id).limit(1)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )
    if reminder is None:
        return None
    return Claimed(reminder.id, f"reminder {reminder.id} of {vote_subject(db.session.get(Vote, reminder.vote_id))}")


def send_reminder(reminder_id: int, now: dt.datetime) -> str:
    reminder = db.session.get_one(VoteReminder, reminder_id)
    count = links.send_scheduled_reminder(reminder, now)
    return f"reminder {reminder_id} of vote {reminder.vote_id}: queued to {count} voting rights"


def claim_link_request(now: dt.datetime, skip: set[int]) -> Claimed | None:
    request = db.session.scalar(
        select(LinkRequest)
        .where(LinkRequest.id.not_in(waiting_items(LINK_AGAIN_TASK, now)), LinkRequest.id.not_in(skip))
        .order_by(LinkRequest.id).limit(1)
        .with_for_update(skip_locked=True)
    )
    # Named by its id only: the address asked for goes to no log, failure record or audit entry.
    return Claimed(request.id, f"link request {request.id}") if request is not None else None


def answer_link_request(request_id: int, now: dt.datetime) -> str:
    links.answer_link_request(db.session.get_one(LinkRequest, request_id), now)
    # Not how many links: whether an address is known stays out of the worker's output too.
    return f"link request {request_id} answered"


ANSWER_LINK_REQUESTS = ItemTask(LINK_AGAIN_TASK, claim_link_request, answer_link_request)

TASKS = (
    ItemTask(OPEN_TASK, claim_due_opening, open_scheduled),
    ItemTask(CLOSE_TASK, claim_due_close, close_scheduled),
    ItemTask(REMIND_TASK, claim_due_reminder, send_reminder),
    ANSWER_LINK_REQUESTS,  # before the mail round, which then sends the links
)
