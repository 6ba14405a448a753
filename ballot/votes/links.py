"""Ballot links in the mail: at opening, on extension, in reminders, resent, and asked for again.

A link is queued in the outbox as what it is for (vote, right, expiry) and
signed only when the message is sent; it expires when the vote closes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from sqlalchemy import select

from ballot.audit import audit, vote_subject
from ballot.bulk import NAME_HOLE, RIGHT_HOLE, JSONTemplate, insert_rows, read_rows
from ballot.eligibility import rules
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod, VotingRight, capacity_label
from ballot.email_addresses import AddressInvalid, normal_address
from ballot.errors import Conflict, InvalidInput, NotFound
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import OutboxMessage
from ballot.roster.models import Member
from ballot.roster.records import display_name
from ballot.timestamps import utcnow
from ballot.tokens import BALLOT_LINK
from ballot.votes.models import DRAFT, OPEN, ElectorateEntry, LinkRequest, ParticipationRecord, Vote, VoteReminder
from ballot.votes.queries import not_voted

log = logging.getLogger(__name__)


# Each message's subject names the capacity: a person with two rights gets two, told apart.
SUBJECTS = {
    "open": "Your ballot ({capacity}): {title}",
    "reminder": "You have not voted yet ({capacity}): {title}",
    "extended": "New closing time for your ballot ({capacity}): {title}",
}


def queue_ballot_links(vote: Vote, right_ids: list[int], now: dt.datetime, why: str = "open") -> None:
    """Queue a ballot link, expiring when the vote closes, to each of ``right_ids``; ``why``: a key of SUBJECTS.

    The messages of one capacity share their subject and all their context but the name and the right:
    that is written as JSON once (``JSONTemplate``), each message's context filled in from it.
    """
    vote_id, title, closes_at = vote.id, vote.title, vote.closes_at
    closes = f"{closes_at:%A %d %B %Y, %H:%M} UTC"
    period = db.session.get_one(EligibilityPeriod, vote.period_id)
    forfeiture_rule = rules.forfeiture_rule(eligibility.policy_of(period))
    wanted = set(right_ids)
    query = (
        select(VotingRight.id, VotingRight.capacity, VotingRight.sponsor, Member.email, Member.given_name,
               Member.family_name)
        .join(Member, Member.id == VotingRight.member_id)
        .where(VotingRight.period_id == vote.period_id)
    )
    holders = read_rows(query).all()  # read before the messages are written, on the same connection
    # The subject and the context's template for each capacity, made once each.
    shapes: dict[tuple[str, str], tuple[str, JSONTemplate]] = {}

    def messages() -> Iterator[dict]:
        for right_id, capacity, sponsor, email, given, family in holders:
            if right_id not in wanted:
                continue
            if (capacity, sponsor) not in shapes:
                label = capacity_label(capacity, sponsor)
                context = {"name": NAME_HOLE, "title": title, "why": why, "capacity": label, "closes": closes,
                           "forfeiture_rule": forfeiture_rule,
                           "link": outbox.signed_link("votes.ballot", BALLOT_LINK, {"v": vote_id, "r": RIGHT_HOLE},
                                                      closes_at, vote_id=vote_id)}
                shapes[capacity, sponsor] = (SUBJECTS[why].format(capacity=label, title=title),
                                             JSONTemplate(context, NAME_HOLE, RIGHT_HOLE))
            subject, context_json = shapes[capacity, sponsor]
            yield outbox.outbox_row("ballot_link", email, subject,
                                    context_json.fill(display_name(given, family, email), right_id), now)

    insert_rows(OutboxMessage.__table__, messages())  # each written as it is made (see insert_rows)


def queue_cancellation_notices(vote: Vote, reason: str, now: dt.datetime) -> int:
    """Tell every right that was sent a ballot link for ``vote`` (its electorate) that it is cancelled, and why."""
    query = (
        select(VotingRight.capacity, VotingRight.sponsor, Member.email, Member.given_name, Member.family_name)
        .join(ElectorateEntry, ElectorateEntry.right_id == VotingRight.id)
        .join(Member, Member.id == VotingRight.member_id)
        .where(ElectorateEntry.vote_id == vote.id)
        .order_by(VotingRight.id)
    )
    rows = []
    for capacity, sponsor, email, given, family in db.session.execute(query):
        label = capacity_label(capacity, sponsor)
        rows.append(outbox.outbox_row(
            "vote_cancelled", email, f"Cancelled ({label}): {vote.title}",
            {"name": display_name(given, family, email), "title": vote.title, "capacity": label, "reason": reason},
            now,
        ))
    if rows:
        insert_rows(OutboxMessage.__table__, rows)
    return len(rows)


LINK_AGAIN_PROBLEM = "Enter the email address the PSF writes to you at, such as name@example.org."


def ask_for_links_again(address: str) -> None:
    """"Send me my links again": keep the request for the worker (``send_links_again``), whatever the address.

    Nothing is looked up here: the page does the same work, and so takes the
    same time, for an address that is known and for one that is not.
    """
    try:
        address = normal_address(address)
    except AddressInvalid:
        raise InvalidInput(LINK_AGAIN_PROBLEM) from None
    db.session.add(LinkRequest(address=address))
    db.session.flush()


def answer_link_request(request: LinkRequest, now: dt.datetime | None = None) -> int:
    """Queue the links a request asked for, and forget the request (and so its address); returns how many."""
    count = send_links_again(request.address, now)
    db.session.delete(request)
    db.session.flush()
    return count


def send_links_again(address: str, now: dt.datetime | None = None) -> int:
    """Queue again every link the holder of ``address`` can still use; returns how many.

    A fresh ballot link for each open vote in whose electorate a right of
    theirs is and has not voted yet, the opt-in link for each right that
    may still enrol, and the link to each right's standing page. The page
    that asks for this answers the same whatever it returns: nobody learns
    from it whether an address is known.
    """
    now = now or utcnow()
    try:
        address = normal_address(address)
    except AddressInvalid:
        raise InvalidInput(LINK_AGAIN_PROBLEM) from None
    waiting = db.session.execute(
        select(Vote, ElectorateEntry.right_id)
        .join(ElectorateEntry, ElectorateEntry.vote_id == Vote.id)
        .join(VotingRight, VotingRight.id == ElectorateEntry.right_id)
        .join(Member, Member.id == VotingRight.member_id)
        .outerjoin(ParticipationRecord, (ParticipationRecord.vote_id == Vote.id)
                   & (ParticipationRecord.right_id == ElectorateEntry.right_id))
        .where(Member.email == address, Vote.status == OPEN, Vote.closes_at > now,
               ParticipationRecord.right_id.is_(None))
        .order_by(Vote.id, ElectorateEntry.right_id)
    ).all()
    by_vote: dict[Vote, list[int]] = {}
    for vote, right_id in waiting:
        by_vote.setdefault(vote, []).append(right_id)
    for vote, right_ids in by_vote.items():
        queue_ballot_links(vote, right_ids, now)
    return len(waiting) + eligibility.send_opt_in_again(address, now) + eligibility.send_standing_links(address, now)


def resend_link(vote: Vote, right_id: int, now: dt.datetime | None = None) -> str:
    """Queue one right's ballot link again; returns the address it goes to.

    It is sent whether or not the right has voted (the link then says so):
    the console does not show who has voted while the vote is open.
    """
    now = now or utcnow()
    if vote.status != OPEN or now >= vote.closes_at:
        raise Conflict(f"vote {vote.id} is not open; there is no ballot link to send")
    if not 0 < right_id < 2**31 or db.session.get(ElectorateEntry, (vote.id, right_id)) is None:
        raise NotFound("that voting right is not in this vote's electorate")
    address = db.session.get_one(VotingRight, right_id).member.email
    audit("vote.resend-link", vote_subject(vote), right=right_id, to=address)
    queue_ballot_links(vote, [right_id], now)
    return address


# Reminders ----------------------------------------------------------------------------

def send_reminder(vote: Vote, now: dt.datetime | None = None) -> int:
    """Send the ballot link again, now, to every right in the electorate that has not voted."""
    now = now or utcnow()
    reminder = VoteReminder(vote_id=vote.id, scheduled_at=now)
    count = _remind(vote, reminder, now)
    audit("vote.remind", vote_subject(vote))
    db.session.add(reminder)
    return count


def schedule_reminder(vote: Vote, at: dt.datetime, now: dt.datetime | None = None) -> VoteReminder:
    """A reminder that ``ballot worker`` sends at ``at`` to those who have not voted by then."""
    now = now or utcnow()
    if vote.status not in (DRAFT, OPEN):
        raise Conflict(f"vote {vote.id} is {vote.status}; reminders are for draft and open votes")
    if at.tzinfo is None:
        raise InvalidInput("the reminder's time needs a time zone")
    if not now < at < vote.closes_at:
        raise InvalidInput(
            f"a reminder must be sent between now and the close ({vote.closes_at:%Y-%m-%d %H:%M} UTC)"
        )
    audit("vote.schedule-reminder", vote_subject(vote), at=at.isoformat())
    reminder = VoteReminder(vote_id=vote.id, scheduled_at=at)
    db.session.add(reminder)
    db.session.flush()
    return reminder


def cancel_reminder(vote: Vote, reminder_id: int) -> None:
    """Drop a scheduled reminder that has not been sent."""
    reminder = db.session.get(VoteReminder, reminder_id) if 0 < reminder_id < 2**31 else None
    if reminder is None or reminder.vote_id != vote.id:
        raise NotFound(f"vote {vote.id} has no reminder {reminder_id}")
    if reminder.sent_at is not None:
        raise Conflict("this reminder has been sent already")
    audit("vote.cancel-reminder", vote_subject(vote), reminder=reminder_id,
          was_at=reminder.scheduled_at.isoformat())
    db.session.delete(reminder)


def send_scheduled_reminder(reminder: VoteReminder, now: dt.datetime) -> int:
    """Send a scheduled reminder whose time has come (the worker); one due after its vote closed
    or was cancelled is marked sent to nobody."""
    vote = db.session.get_one(Vote, reminder.vote_id)
    if vote.status == OPEN and now < vote.closes_at:
        count = _remind(vote, reminder, now)
    else:
        reminder.sent_at, reminder.recipients = now, 0
        count = 0
    audit("vote.remind", vote_subject(vote), now=now, scheduled=reminder.scheduled_at.isoformat(),
          recipients=reminder.recipients)
    return count


def _remind(vote: Vote, reminder: VoteReminder, now: dt.datetime) -> int:
    if vote.status != OPEN or now >= vote.closes_at:
        raise Conflict(f"vote {vote.id} is not open; reminders go only to the voters of an open vote")
    waiting = not_voted(vote)
    queue_ballot_links(vote, waiting, now, "reminder")
    reminder.sent_at, reminder.recipients = now, len(waiting)
    log.info("vote %s: reminders queued to %s rights", vote.id, len(waiting))
    return len(waiting)
