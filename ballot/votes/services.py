"""The life of a vote: draft, open, cast, close, publish (or cancel)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask import current_app
from sqlalchemy import Date, bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ballot import sealing
from ballot.audit import WORKER, audit, vote_subject
from ballot.bulk import insert_rows
from ballot.counting.ballots import RankedBallot
from ballot.counting.blt import format_blt
from ballot.eligibility import services as eligibility
from ballot.eligibility.models import EligibilityPeriod, VotingRight, capacity_label
from ballot.errors import BallotError, Conflict, InvalidInput, NotFound, TokenInvalid
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.outbox.models import OutboxMessage
from ballot.roster.models import Member
from ballot.timestamps import utcnow
from ballot.tokens import BALLOT_LINK, BALLOT_TOKEN, token_service
from ballot.votes import record as vote_record
from ballot.votes import rules as vote_rules
from ballot.votes.models import (
    CANCELLED,
    CLOSED,
    DRAFT,
    OPEN,
    PUBLISHED,
    ElectorateEntry,
    ParticipationRecord,
    SealedBallot,
    Vote,
    VoteReminder,
)
from ballot.votes.tally import tally, validate_answers

log = logging.getLogger(__name__)


def create_vote(
    period: EligibilityPeriod, kind: str, title: str, closes_at: dt.datetime, *,
    description: str = "", questions: list[str] = (), candidates: list[str] = (), **options,
) -> Vote:
    """A draft vote; its rules are checked now and frozen when it opens."""
    kind_ = vote_rules.get_kind(kind)
    if not title.strip():
        raise InvalidInput("a vote needs a title")
    if any(ord(c) < 32 or ord(c) == 127 for c in title.strip()):
        # The title goes into the ballot emails' subject: a line break there cannot be sent.
        raise InvalidInput("a vote's title must be one line of text")
    if closes_at.tzinfo is None:
        raise InvalidInput("the closing time needs a time zone (e.g. 2026-12-01T18:00+00:00)")
    vote = Vote(
        period_id=period.id, kind=kind_.name, title=title.strip(), description=description.strip(),
        status=DRAFT, closes_at=closes_at,
        questions=vote_rules.build_questions(kind_, list(questions), list(candidates)),
        rules=vote_rules.build_rules(kind_, eligibility.policy_of(period), **options),
    )
    if vote.rules.get("affiliations"):
        unknown = set(vote.rules["affiliations"]) - set(vote.questions[0]["choices"])
        if unknown:
            raise InvalidInput(f"affiliations name people who are not candidates: {', '.join(sorted(unknown))}")
    db.session.add(vote)
    db.session.commit()
    return vote


def get_vote(vote_id: int) -> Vote:
    # An id from a URL or the command line may be any size; ids are 32-bit in the database.
    vote = db.session.get(Vote, vote_id) if 0 < vote_id < 2**31 else None
    if vote is None:
        raise NotFound(f"there is no vote {vote_id}")
    return vote


def list_votes(period: EligibilityPeriod | None = None) -> list[Vote]:
    query = select(Vote).order_by(Vote.id)
    if period is not None:
        query = query.where(Vote.period_id == period.id)
    return list(db.session.scalars(query))


def open_vote(vote: Vote, now: dt.datetime | None = None) -> int:
    """Freeze the electorate, make the vote's keys, queue a ballot link to each right."""
    now = now or utcnow()
    _require(vote, DRAFT, "opened")
    period = db.session.get(EligibilityPeriod, vote.period_id)
    policy = eligibility.policy_of(period)
    if vote.closes_at <= now:
        raise Conflict(f"vote {vote.id} would close at {vote.closes_at:%Y-%m-%d %H:%M} UTC, which has passed")
    if policy.max_open_days and vote.closes_at - now > dt.timedelta(days=policy.max_open_days):
        raise Conflict(f"a vote may stay open at most {policy.max_open_days} days under {policy.title}")
    right_ids = eligibility.electorate(
        period, now.date(), fellows_only=vote.rules["electorate"] == "fellows",
        managing_years=vote.rules.get("managing_years"),
    )
    if not right_ids:
        raise Conflict("nobody is in this vote's electorate: enrol voters before opening it")
    vote.public_key, vote.wrapped_key = sealing.new_vote_keys(_sealing_key(), vote.id)
    vote.status, vote.opened_at, vote.electorate_size = OPEN, now, len(right_ids)
    insert_rows(ElectorateEntry.__table__, [{"vote_id": vote.id, "right_id": r} for r in right_ids])
    _queue_ballot_links(vote, right_ids, now)
    db.session.commit()
    log.info("vote %s opened with %s rights", vote.id, len(right_ids))
    return len(right_ids)


def _queue_ballot_links(vote: Vote, right_ids: list[int], now: dt.datetime, subject: str | None = None) -> None:
    """Queue a ballot link, expiring when the vote closes, to each of ``right_ids``."""
    closes = f"{vote.closes_at:%A %d %B %Y, %H:%M} UTC"
    rows = []
    wanted = set(right_ids)
    query = (
        select(VotingRight.id, VotingRight.capacity, VotingRight.sponsor, Member.email, Member.given_name, Member.family_name)
        .join(Member, Member.id == VotingRight.member_id)
        .where(VotingRight.period_id == vote.period_id)
    )
    for right_id, capacity, sponsor, email, given, family in db.session.execute(query):
        if right_id not in wanted:
            continue
        rows.append(outbox.outbox_row(
            "ballot_link", email, subject or f"Your ballot: {vote.title}",
            {"name": " ".join(p for p in (given, family) if p) or email, "title": vote.title,
             "capacity": capacity_label(capacity, sponsor),
             "closes": closes, "link": outbox.signed_link("votes.ballot", BALLOT_LINK, {"v": vote.id, "r": right_id},
                                      vote.closes_at, vote_id=vote.id)},
            now,
        ))
    if rows:
        insert_rows(OutboxMessage.__table__, rows)


def send_links_again(address: str, now: dt.datetime | None = None) -> int:
    """Queue again every link the holder of ``address`` can still use; returns how many.

    A fresh ballot link for each open vote in whose electorate a right of
    theirs is and has not voted yet, and the opt-in link for each right that
    may still enrol. The page that asks for this answers the same whatever it
    returns: nobody learns from it whether an address is known.
    """
    now = now or utcnow()
    address = address.strip().lower()
    local, _, domain = address.rpartition("@")
    if not (local and domain) or len(address) > 320 or any(c.isspace() for c in address):
        raise InvalidInput("Enter the email address the PSF writes to you at, such as name@example.org.")
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
        _queue_ballot_links(vote, right_ids, now)
    count = len(waiting) + eligibility.send_opt_in_again(address, now)
    db.session.commit()
    return count


@dataclass(frozen=True)
class BallotPaper:
    """What a voter's pages show of a vote, read with the voter's access in one query.

    Not a Vote: the ballot page is the busiest page there is, and it never
    changes a vote.
    """

    id: int
    kind: str
    title: str
    description: str
    status: str
    closes_at: dt.datetime
    cancel_reason: str | None
    questions: list
    rules: dict
    public_key: bytes | None
    electorate_size: int


@dataclass(frozen=True)
class BallotAccess:
    vote: BallotPaper
    right_id: int
    capacity: str  # how the right votes, in words ("as an individual member")
    period_year: int
    already_voted: bool


# Core statements over the tables, built once: the ballot page and the cast are the busiest requests.
_vote, _entry, _right, _period, _participation = (
    model.__table__ for model in (Vote, ElectorateEntry, VotingRight, EligibilityPeriod, ParticipationRecord)
)
# The vote, the electorate entry, the right's capacity and period, and whether it has voted.
_ACCESS = (
    select(*(_vote.c[field.name] for field in dataclasses.fields(BallotPaper)),
           _right.c.capacity, _right.c.sponsor, _period.c.year, _participation.c.voted_on)
    .select_from(_vote)
    .join(_entry, _entry.c.vote_id == _vote.c.id)
    .join(_right, _right.c.id == _entry.c.right_id)
    .join(_period, _period.c.id == _right.c.period_id)
    .outerjoin(_participation, (_participation.c.vote_id == _entry.c.vote_id)
               & (_participation.c.right_id == _entry.c.right_id))
    .where(_vote.c.id == bindparam("vote_id"), _entry.c.right_id == bindparam("right_id"))
)


def access_from_link(vote_id: int, token: str, now: dt.datetime | None = None) -> BallotAccess:
    """Check a ballot link: genuine, for this vote, not expired, and for a right in its electorate."""
    access = _access(vote_id, _right_of_link(vote_id, token, now))
    _keep_box(access)
    return access


def _right_of_link(vote_id: int, token: str, now: dt.datetime | None) -> int:
    data = outbox.read_link_token(BALLOT_LINK, token, now)
    if data.get("v") != vote_id:
        raise TokenInvalid("This link is for a different vote. Use the link from the email about this vote.")
    right_id = data.get("r")
    # Ids are 32-bit in the database; a token signed by us always holds one, but say so to the database too.
    if not (isinstance(right_id, int) and 0 < right_id < 2**31 and 0 < vote_id < 2**31):
        raise TokenInvalid(NOT_IN_ELECTORATE)
    return right_id


NOT_IN_ELECTORATE = "This link does not belong to anyone in this vote's electorate."
ALREADY_CAST = "A ballot has already been cast with this link. Each voting right casts one ballot."


def _access(vote_id: int, right_id: int) -> BallotAccess:
    found = db.session.connection().execute(_ACCESS, {"vote_id": vote_id, "right_id": right_id}).first()
    if found is None:
        raise TokenInvalid(NOT_IN_ELECTORATE)
    *paper, capacity, sponsor, year, voted_on = found
    return BallotAccess(BallotPaper(*paper), right_id, capacity_label(capacity, sponsor), year, voted_on is not None)


def check_open(vote: Vote | BallotPaper, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if vote.status == CANCELLED:
        raise Conflict(f"This vote was cancelled: {vote.cancel_reason}")
    if vote.status != OPEN or now >= vote.closes_at:
        raise Conflict("This vote is closed; ballots can no longer be cast.")


def check_ballot(vote: Vote | BallotPaper | BallotBox, form: dict) -> dict:
    """The answers of a submitted ballot form, or InvalidInput naming every problem."""
    answers, problems = validate_answers(vote.rules, vote.questions, form)
    if problems:
        raise InvalidInput(" ".join(problems))
    return answers


@dataclass(frozen=True)
class BallotBox:
    """What casting needs of an open vote: its questions and rules, to check a ballot, and its
    public key, to seal it; and its period's year, for the voter's standing link.

    All of it is fixed when the vote opens, so each app process keeps the box of every open vote
    it has served, and a cast reads nothing before it writes. The statement that records a cast
    checks, against the vote's row, that the vote is open, that the right is in its electorate and
    that the box's key is the vote's key: a box kept from before a database was restored or reset
    never seals a ballot that the close could not open.
    """

    vote_id: int
    questions: list
    rules: dict
    public_key: bytes
    period_year: int


_ballot_boxes: dict[int, BallotBox] = {}  # by vote id, in this process


def _keep_box(access: BallotAccess) -> BallotBox | None:
    vote = access.vote
    if vote.status != OPEN:
        return None
    box = BallotBox(vote.id, vote.questions, vote.rules, vote.public_key, access.period_year)
    _ballot_boxes[vote.id] = box
    return box


# The participation record is written only while the vote is open, for a right in its electorate,
# with the key the ballot was sealed with; the same statement share-locks the vote's row, so a close
# (which locks it for update) waits for the cast to commit, or the cast sees the vote closed.
# SQLite has no row locks; its writers take turns (BEGIN IMMEDIATE), which gives the same order.
_RECORD_PARTICIPATION = insert(_participation).from_select(
    ["vote_id", "right_id", "voted_on"],
    select(_vote.c.id, _entry.c.right_id, bindparam("voted_on", type_=Date))
    .select_from(_vote)
    .join(_entry, _entry.c.vote_id == _vote.c.id)
    .where(_vote.c.id == bindparam("vote_id"), _entry.c.right_id == bindparam("right_id"),
           _vote.c.status == OPEN, _vote.c.closes_at > bindparam("now"),
           _vote.c.public_key == bindparam("public_key"))
    .with_for_update(read=True, of=_vote),
).returning(_participation.c.right_id)  # (psycopg reports no row count for INSERT ... SELECT)
_SEAL_BALLOT = insert(SealedBallot.__table__)


@dataclass(frozen=True)
class Cast:
    receipt: str
    right_id: int
    period_year: int


def cast_ballot(vote_id: int, token: str, form: dict, now: dt.datetime | None = None) -> Cast:
    """Check a ballot link and a ballot form, and record the ballot; the voter gets the receipt.

    The participation record (who, which day) and the sealed ballot (answers
    and an anonymous signed token, under a random id) are written in one
    transaction. The participation record's primary key makes a second ballot
    for the same right fail, however many processes try at once.
    """
    now = now or utcnow()
    right_id = _right_of_link(vote_id, token, now)
    box = _ballot_boxes.get(vote_id) or _box_for_casting(vote_id, right_id, now)
    receipt = _write_ballot(box, right_id, check_ballot(box, form), now)
    if receipt is None:
        # Not recorded: say why (closed, cancelled, already cast); if the vote can still be cast in,
        # this process's box was stale (a restored database): cast once more, with the box read afresh.
        _ballot_boxes.pop(vote_id, None)
        box = _box_for_casting(vote_id, right_id, now)
        receipt = _write_ballot(box, right_id, check_ballot(box, form), now)
    if receipt is None:
        raise Conflict("Your ballot could not be recorded. Please reload the ballot page and cast it again.")
    return Cast(receipt, right_id, box.period_year)


def _box_for_casting(vote_id: int, right_id: int, now: dt.datetime) -> BallotBox:
    access = _access(vote_id, right_id)
    if access.already_voted:
        raise Conflict(ALREADY_CAST)
    check_open(access.vote, now)
    return _keep_box(access)


def _write_ballot(box: BallotBox, right_id: int, answers: dict, now: dt.datetime) -> str | None:
    """Write the participation record and the sealed ballot; None (and nothing written) if refused."""
    nonce = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    ballot_token = token_service(current_app.config, BALLOT_TOKEN).dumps({"v": box.vote_id, "n": nonce})
    ciphertext = sealing.seal({"answers": answers, "token": ballot_token}, box.public_key, box.vote_id,
                              sealing.padded_size(box.questions))
    # Core statements on the session's connection (in its transaction): the ORM has nothing to add here.
    connection = db.session.connection()
    try:
        recorded = connection.execute(_RECORD_PARTICIPATION, {
            "vote_id": box.vote_id, "right_id": right_id, "voted_on": now.date(), "now": now,
            "public_key": box.public_key,
        }).first()
        if recorded is None:
            db.session.rollback()
            return None
        connection.execute(_SEAL_BALLOT, {"id": os.urandom(16).hex(), "vote_id": box.vote_id, "ciphertext": ciphertext})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(ALREADY_CAST) from None
    return sealing.receipt_for(ballot_token)


def close_vote(vote: Vote, now: dt.datetime | None = None) -> dict:
    """Close: open the ballots into the record, count them, record missed votes.

    The sealed ballots and the vote's key are destroyed in the same
    transaction; what remains is the record, in receipt order.
    """
    now = now or utcnow()
    locked = db.session.execute(select(Vote).where(Vote.id == vote.id).with_for_update()).scalar_one()
    _require(locked, OPEN, "closed")
    vote.status, vote.closed_at = CLOSED, now
    db.session.flush()
    private_key = X25519PrivateKey.from_private_bytes(sealing.unwrap_vote_key(_sealing_key(), vote.id, vote.wrapped_key))
    ballots = []
    for (ciphertext,) in db.session.execute(select(SealedBallot.ciphertext).where(SealedBallot.vote_id == vote.id)):
        opened = sealing.unseal(ciphertext, private_key, vote.id)
        ballots.append({"token": opened["token"], "receipt": sealing.receipt_for(opened["token"]),
                        "contents": {"answers": opened["answers"]}})
    db.session.execute(delete(SealedBallot).where(SealedBallot.vote_id == vote.id))
    vote.public_key = vote.wrapped_key = None
    vote.result = tally(vote.rules, vote.questions, [b["contents"] for b in ballots], vote.electorate_size)
    info = {
        "id": vote.id, "kind": vote.kind, "title": vote.title, "description": vote.description,
        "opened_at": vote.opened_at.isoformat(), "closed_at": now.isoformat(),
    }
    vote.record = sealing.canonical_json(
        vote_record.build(info, vote.questions, vote.rules, ballots, vote.result)
    ).decode()
    period = db.session.get(EligibilityPeriod, vote.period_id)
    voted = select(ParticipationRecord.right_id).where(ParticipationRecord.vote_id == vote.id)
    missed = list(db.session.scalars(
        select(ElectorateEntry.right_id).where(ElectorateEntry.vote_id == vote.id, ElectorateEntry.right_id.not_in(voted))
    ))
    forfeited = eligibility.record_missed(vote.id, period, missed, now)
    db.session.commit()
    log.info("vote %s closed: %s ballots, %s missed, %s forfeited", vote.id, len(ballots), len(missed), len(forfeited))
    return {"ballots": len(ballots), "missed": len(missed), "forfeited": len(forfeited), "result": vote.result}


def cancel_vote(vote: Vote, reason: str, now: dt.datetime | None = None) -> None:
    """Cancel a draft or open vote; its ballots are destroyed unopened and nobody misses it."""
    if not reason.strip():
        raise InvalidInput("say why the vote is cancelled (--reason)")
    locked = db.session.execute(select(Vote).where(Vote.id == vote.id).with_for_update()).scalar_one()
    if locked.status not in (DRAFT, OPEN):
        raise Conflict(f"vote {vote.id} is {vote.status}; only a draft or open vote can be cancelled")
    vote.status, vote.cancelled_at, vote.cancel_reason = CANCELLED, now or utcnow(), reason.strip()
    vote.public_key = vote.wrapped_key = None
    db.session.execute(delete(SealedBallot).where(SealedBallot.vote_id == vote.id))
    db.session.commit()


def publish(vote: Vote, now: dt.datetime | None = None) -> dict:
    """Sign the record and make the result public."""
    _require(vote, CLOSED, "published")
    document = vote_record.signed(_record(vote), current_app.config["BALLOT_SIGNING_KEY"])
    vote.record_signature = document["signature"]
    vote.status, vote.published_at = PUBLISHED, now or utcnow()
    db.session.commit()
    return document


def signing_public_key() -> str:
    return sealing.public_key_pem(current_app.config["BALLOT_SIGNING_KEY"])


def published_record(vote: Vote) -> dict:
    if vote.status != PUBLISHED:
        raise NotFound("the results of this vote are not published")
    return {
        "record": _record(vote),
        "signature": vote.record_signature,
        "signer": signing_public_key(),
    }


def _record(vote: Vote) -> dict:
    return json.loads(vote.record)


def ballots_blt(vote: Vote) -> str:
    """A published ranked Board vote's ballots in the BLT format, for other counting programs."""
    document = published_record(vote)
    if vote.rules.get("ballot") != "ranked":
        raise NotFound("only ranked Board elections have BLT ballots")
    question = vote.questions[0]
    ballots = [RankedBallot.of(*b["contents"]["answers"][question["id"]])
               for b in document["record"]["ballots"] if b["contents"]["answers"][question["id"]]]
    return format_blt(question["choices"], vote.rules["seats"], ballots, title=vote.title)


def close_due(now: dt.datetime | None = None) -> list[int]:
    """Close every open vote whose scheduled time has come (the worker calls this)."""
    now = now or utcnow()
    due = db.session.scalars(select(Vote.id).where(Vote.status == OPEN, Vote.closes_at <= now)).all()
    for vote_id in due:
        vote = get_vote(vote_id)
        audit(WORKER, "vote.close", vote_subject(vote), now=now, scheduled=vote.closes_at.isoformat())
        close_vote(vote, now)
    return list(due)


def participation_count(vote: Vote) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ParticipationRecord).where(ParticipationRecord.vote_id == vote.id)
    )


# Running a vote from the console: schedule, extend, remind, resend, turnout, participation.

def schedule_close(vote: Vote, closes_at: dt.datetime, now: dt.datetime | None = None) -> None:
    """Set a draft's closing time; an open vote is moved later only, with ``extend_vote``."""
    now = now or utcnow()
    _require(vote, DRAFT, "rescheduled")
    if closes_at.tzinfo is None:
        raise InvalidInput("the closing time needs a time zone")
    if closes_at <= now:
        raise InvalidInput("the closing time must be in the future")
    vote.closes_at = closes_at
    db.session.commit()


def schedule_opening(vote: Vote, opens_at: dt.datetime | None, now: dt.datetime | None = None) -> None:
    """Have the worker open a draft at ``opens_at`` (None: no scheduled opening)."""
    now = now or utcnow()
    _require(vote, DRAFT, "scheduled to open")
    if opens_at is not None:
        if opens_at.tzinfo is None:
            raise InvalidInput("the opening time needs a time zone")
        if opens_at <= now:
            raise InvalidInput("the opening time must be in the future; to open now, open the vote")
        if opens_at >= vote.closes_at:
            raise InvalidInput("the vote would open after its closing time; set a later closing time first")
    vote.opens_at = opens_at
    db.session.commit()


def open_due(now: dt.datetime | None = None) -> tuple[list[int], dict[int, str]]:
    """Open every draft whose scheduled time has come (the worker calls this).

    Returns the ids opened and, for drafts that could not open (nobody in the
    electorate, say), why; those keep their draft status and lose the schedule,
    so the worker does not try again every round.
    """
    now = now or utcnow()
    opened, refused = [], {}
    due = db.session.scalars(select(Vote.id).where(Vote.status == DRAFT, Vote.opens_at <= now)).all()
    for vote_id in due:
        vote = get_vote(vote_id)
        audit(WORKER, "vote.open", vote_subject(vote), now=now, scheduled=vote.opens_at.isoformat())
        try:
            open_vote(vote, now)
            opened.append(vote_id)
        except BallotError as exc:
            db.session.rollback()
            vote = get_vote(vote_id)
            audit(WORKER, "vote.open.refused", vote_subject(vote), now=now,
                  scheduled=vote.opens_at.isoformat(), reason=str(exc))
            vote.opens_at = None
            db.session.commit()
            refused[vote_id] = str(exc)
            log.warning("vote %s could not open at its scheduled time: %s", vote_id, exc)
    return opened, refused


def extend_vote(vote: Vote, new_closes_at: dt.datetime, now: dt.datetime | None = None) -> int:
    """Close an open vote later, within the policy's longest opening.

    Ballot links embed the closing time as their expiry, so every right that
    has not voted yet gets a fresh link; returns how many were queued.
    """
    now = now or utcnow()
    vote = db.session.execute(
        select(Vote).where(Vote.id == vote.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    _require(vote, OPEN, "extended")
    if new_closes_at.tzinfo is None:
        raise InvalidInput("the closing time needs a time zone")
    if now >= vote.closes_at:
        raise Conflict(f"vote {vote.id} closed at {vote.closes_at:%Y-%m-%d %H:%M} UTC; it can no longer be extended")
    if new_closes_at <= vote.closes_at:
        raise InvalidInput(
            f"a vote can only be extended: the new closing time must be after {vote.closes_at:%Y-%m-%d %H:%M} UTC"
        )
    policy = eligibility.policy_of(db.session.get(EligibilityPeriod, vote.period_id))
    if policy.max_open_days and new_closes_at - vote.opened_at > dt.timedelta(days=policy.max_open_days):
        raise Conflict(f"a vote may stay open at most {policy.max_open_days} days under {policy.title}")
    vote.closes_at = new_closes_at
    waiting = _not_voted(vote)
    _queue_ballot_links(vote, waiting, now, subject=f"New closing time for your ballot: {vote.title}")
    db.session.commit()
    log.info("vote %s extended; %s fresh links queued", vote.id, len(waiting))
    return len(waiting)


def _not_voted(vote: Vote) -> list[int]:
    voted = select(ParticipationRecord.right_id).where(ParticipationRecord.vote_id == vote.id)
    return list(db.session.scalars(
        select(ElectorateEntry.right_id)
        .where(ElectorateEntry.vote_id == vote.id, ElectorateEntry.right_id.not_in(voted))
        .order_by(ElectorateEntry.right_id)
    ))


def send_reminder(vote: Vote, now: dt.datetime | None = None) -> int:
    """Send the ballot link again, now, to every right in the electorate that has not voted."""
    now = now or utcnow()
    reminder = VoteReminder(vote_id=vote.id, scheduled_at=now)
    count = _remind(vote, reminder, now)
    db.session.add(reminder)
    db.session.commit()
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
    reminder = VoteReminder(vote_id=vote.id, scheduled_at=at)
    db.session.add(reminder)
    db.session.commit()
    return reminder


def cancel_reminder(vote: Vote, reminder_id: int) -> None:
    """Drop a scheduled reminder that has not been sent."""
    reminder = db.session.get(VoteReminder, reminder_id) if 0 < reminder_id < 2**31 else None
    if reminder is None or reminder.vote_id != vote.id:
        raise NotFound(f"vote {vote.id} has no reminder {reminder_id}")
    if reminder.sent_at is not None:
        raise Conflict("this reminder has been sent already")
    db.session.delete(reminder)
    db.session.commit()


def reminders_of(vote: Vote) -> list[VoteReminder]:
    return list(db.session.scalars(
        select(VoteReminder).where(VoteReminder.vote_id == vote.id).order_by(VoteReminder.scheduled_at)
    ))


def send_due_reminders(now: dt.datetime | None = None) -> int:
    """Send every scheduled reminder whose time has come (the worker calls this); returns the messages queued.

    A reminder due after its vote closed or was cancelled is marked sent to nobody.
    """
    total = 0
    while True:
        now_ = now or utcnow()
        reminder = db.session.scalar(
            select(VoteReminder).where(VoteReminder.sent_at.is_(None), VoteReminder.scheduled_at <= now_)
            .order_by(VoteReminder.id).limit(1).with_for_update(skip_locked=True)
        )
        if reminder is None:
            db.session.rollback()
            return total
        vote = get_vote(reminder.vote_id)
        if vote.status == OPEN and now_ < vote.closes_at:
            total += _remind(vote, reminder, now_)
        else:
            reminder.sent_at, reminder.recipients = now_, 0
        audit(WORKER, "vote.remind", vote_subject(vote), now=now_, scheduled=reminder.scheduled_at.isoformat(),
              recipients=reminder.recipients)
        db.session.commit()


def _remind(vote: Vote, reminder: VoteReminder, now: dt.datetime) -> int:
    if vote.status != OPEN or now >= vote.closes_at:
        raise Conflict(f"vote {vote.id} is not open; reminders go only to the voters of an open vote")
    waiting = _not_voted(vote)
    _queue_ballot_links(vote, waiting, now, subject=f"Reminder: your ballot: {vote.title}")
    reminder.sent_at, reminder.recipients = now, len(waiting)
    return len(waiting)


@dataclass(frozen=True)
class Elector:
    """A right in a vote's electorate, as the console lists it."""

    right_id: int
    name: str
    email: str
    capacity: str
    sponsor: str

    @property
    def label(self) -> str:
        return f"delegate of {self.sponsor}" if self.capacity == "delegate" else "individual"


def find_in_electorate(vote: Vote, email: str, limit: int = 20) -> list[Elector]:
    """Rights in the vote's electorate whose email contains ``email`` (any case)."""
    email = email.strip().lower()
    if not email:
        return []
    rows = db.session.execute(
        select(VotingRight.id, Member.given_name, Member.family_name, Member.email, VotingRight.capacity, VotingRight.sponsor)
        .join(ElectorateEntry, ElectorateEntry.right_id == VotingRight.id)
        .join(Member, Member.id == VotingRight.member_id)
        .where(ElectorateEntry.vote_id == vote.id, func.lower(Member.email).contains(email, autoescape=True))
        .order_by(Member.email, VotingRight.id)
        .limit(limit)
    ).all()
    return [_elector(*row) for row in rows]


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
    _queue_ballot_links(vote, [right_id], now)
    db.session.commit()
    return db.session.get(VotingRight, right_id).member.email


def turnout_by_day(vote: Vote) -> list[tuple[dt.date, int]]:
    """How many ballots were cast on each day: all the participation ledger knows, never what."""
    return [tuple(row) for row in db.session.execute(
        select(ParticipationRecord.voted_on, func.count())
        .where(ParticipationRecord.vote_id == vote.id)
        .group_by(ParticipationRecord.voted_on)
        .order_by(ParticipationRecord.voted_on)
    )]


def electorate_preview(vote: Vote, now: dt.datetime | None = None) -> int:
    """The electorate's size: frozen once open; for a draft, as it would be if it opened now."""
    if vote.status != DRAFT:
        return vote.electorate_size
    now = now or utcnow()
    period = db.session.get(EligibilityPeriod, vote.period_id)
    return len(eligibility.electorate(
        period, now.date(), fellows_only=vote.rules["electorate"] == "fellows",
        managing_years=vote.rules.get("managing_years"),
    ))


@dataclass(frozen=True)
class Participant:
    name: str
    email: str
    capacity: str
    sponsor: str
    voted_on: dt.date


def participants(vote: Vote) -> list[Participant]:
    """Who voted in a closed vote and on which day (the bylaws' waiver needs the last Board election's)."""
    if vote.status not in (CLOSED, PUBLISHED):
        raise Conflict(f"vote {vote.id} is {vote.status}; who voted is exported once a vote has closed")
    rows = db.session.execute(
        select(Member.given_name, Member.family_name, Member.email, VotingRight.capacity, VotingRight.sponsor,
               ParticipationRecord.voted_on)
        .join(VotingRight, VotingRight.id == ParticipationRecord.right_id)
        .join(Member, Member.id == VotingRight.member_id)
        .where(ParticipationRecord.vote_id == vote.id)
        .order_by(Member.family_name, Member.given_name, Member.email, VotingRight.id)
    ).all()
    return [
        Participant(" ".join(p for p in (given, family) if p) or email, email, capacity, sponsor, voted_on)
        for given, family, email, capacity, sponsor, voted_on in rows
    ]


def last_board_election() -> Vote | None:
    """The Board election that closed last (a cancelled one never closed)."""
    return db.session.scalar(
        select(Vote).where(Vote.kind == "board", Vote.status.in_((CLOSED, PUBLISHED)))
        .order_by(Vote.closed_at.desc(), Vote.id.desc()).limit(1)
    )


def _elector(right_id, given, family, email, capacity, sponsor) -> Elector:
    return Elector(right_id, " ".join(p for p in (given, family) if p) or email, email, capacity, sponsor)


def _require(vote: Vote, status: str, action: str) -> None:
    if vote.status != status:
        raise Conflict(f"vote {vote.id} is {vote.status}; only a {status} vote can be {action}")


def _sealing_key() -> bytes:
    return base64.urlsafe_b64decode(current_app.config["BALLOT_SEALING_KEY"])
