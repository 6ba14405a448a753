"""The cast path: a voter's ballot page and the cast, the busiest requests there are.

A cast reads nothing before it writes: each app process keeps an open vote's
ballot box (questions, rules, public key, all fixed at opening), and one
statement records the participation only while the vote is open, for a right
in its electorate, with the key the ballot was sealed with. The sealed ballot
is written beside it; both commit with the request's unit of work.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from flask import current_app
from sqlalchemy import Date, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from ballot import sealing
from ballot.eligibility.models import EligibilityPeriod, VotingRight, capacity_label
from ballot.errors import AlreadyVoted, Conflict, InvalidInput, TokenInvalid, VoteClosed
from ballot.extensions import db
from ballot.outbox import services as outbox
from ballot.timestamps import utcnow
from ballot.tokens import BALLOT_LINK, BALLOT_TOKEN, token_service
from ballot.votes.models import CANCELLED, OPEN, ElectorateEntry, ParticipationRecord, SealedBallot, Vote
from ballot.votes.tally import Problem, validate_answers


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
    trustee_threshold: int | None  # k of the vote's trustees; None: the sealing key protects it


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
        raise VoteClosed(f"This vote was cancelled: {vote.cancel_reason}")
    if vote.status != OPEN or now >= vote.closes_at:
        raise VoteClosed("This vote is closed; ballots can no longer be cast.")


class BallotInvalid(InvalidInput):
    """A ballot refused, with every problem, each naming its question."""

    def __init__(self, problems: list[Problem]):
        super().__init__(" ".join(problems))
        self.problems = problems


def check_ballot(vote: Vote | BallotPaper | BallotBox, form: dict) -> dict:
    """The answers of a submitted ballot form, or BallotInvalid naming every problem."""
    answers, problems = validate_answers(vote.rules, vote.questions, form)
    if problems:
        raise BallotInvalid(problems)
    return answers


@dataclass(frozen=True)
class BallotBox:
    """What casting needs of an open vote: its questions and rules, to check a ballot, and its
    public key, to seal it; and its period's year, for the voter's standing link.

    All of it is fixed when the vote opens, so each app process keeps the box of every open vote
    it has served, and a cast reads nothing before it writes. The statement that records a cast
    checks, against the vote's row, that the vote is open, that the right is in its electorate and
    that the box's key is the vote's key: a box kept from before a database was restored or reset
    never seals a ballot that the close could not open, and a ballot it refuses is checked again
    against the vote as it is now.
    """

    vote_id: int
    questions: list
    rules: dict
    public_key: bytes
    period_year: int
    sealing_key: X25519PublicKey  # the public key, ready to seal with
    padded_size: int  # what every ballot is padded past (sealing.padded_size)

    @classmethod
    def of(cls, vote_id: int, questions: list, rules: dict, public_key: bytes, period_year: int) -> BallotBox:
        return cls(vote_id, questions, rules, public_key, period_year, X25519PublicKey.from_public_bytes(public_key),
                   sealing.padded_size(questions))


_ballot_boxes: dict[int, BallotBox] = {}  # by vote id, in this process


def _keep_box(access: BallotAccess) -> BallotBox | None:
    vote = access.vote
    if vote.status != OPEN or vote.public_key is None:  # an open vote has its key until it closes
        return None
    box = _ballot_boxes.get(vote.id)
    if box is not None and box.public_key == vote.public_key:  # the same vote: its key was made for it alone
        return box
    box = BallotBox.of(vote.id, vote.questions, vote.rules, vote.public_key, access.period_year)
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
_sealed = SealedBallot.__table__
_SEAL_BALLOT = insert(_sealed)
# On PostgreSQL both in one statement, so one round trip: the sealed ballot is written if, and only
# if, the participation record was. (SQLite allows no INSERT inside WITH; it is in-process anyway.)
_recorded = _RECORD_PARTICIPATION.cte("recorded")
_RECORD_AND_SEAL = (
    insert(_sealed)
    .from_select(["id", "vote_id", "ciphertext"],
                 select(*(bindparam(column.name, type_=column.type) for column in _sealed.c)).select_from(_recorded))
    .add_cte(_recorded)
    .returning(_sealed.c.vote_id)
)


@dataclass(frozen=True)
class Cast:
    receipt: str
    right_id: int
    period_year: int


def cast_ballot(vote_id: int, token: str, form: dict, now: dt.datetime | None = None) -> Cast:
    """Check a ballot link and a ballot form, and record the ballot; the voter gets the receipt.

    The participation record (who, which day) and the sealed ballot (answers
    and an anonymous signed token, under a random id) are written in the
    request's one transaction. The participation record's primary key makes a second ballot
    for the same right fail, however many processes try at once.
    """
    now = now or utcnow()
    right_id = _right_of_link(vote_id, token, now)
    box = _ballot_boxes.get(vote_id)
    if box is not None:
        try:
            answers = check_ballot(box, form)
        except InvalidInput:
            # Refused by the questions this process kept: refuse only by those the vote has now (a box
            # kept from before a database was restored or reset may hold another vote's).
            _ballot_boxes.pop(vote_id, None)
            box = None
    if box is None:
        box = _box_for_casting(vote_id, right_id, now)
        answers = check_ballot(box, form)
    receipt = _write_ballot(box, right_id, answers, now)
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
        raise AlreadyVoted(ALREADY_CAST)
    check_open(access.vote, now)
    box = _keep_box(access)
    assert box is not None, "check_open refuses a vote that is not open"
    return box


def seal_ballot(box: BallotBox, answers: dict) -> tuple[str, bytes]:
    """A fresh anonymous ballot token (signed, with a random nonce: it names no voter) and the ballot,
    answers and token, sealed to the vote's key and padded as every ballot of the vote is."""
    nonce = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    ballot_token = token_service(current_app.config, BALLOT_TOKEN).dumps({"v": box.vote_id, "n": nonce})
    ciphertext = sealing.seal({"answers": answers, "token": ballot_token}, box.sealing_key, box.vote_id,
                              box.padded_size)
    return ballot_token, ciphertext


def _write_ballot(box: BallotBox, right_id: int, answers: dict, now: dt.datetime) -> str | None:
    """Write the participation record and the sealed ballot; None (and nothing written) if refused.

    A second ballot for the same right breaks the participation record's
    primary key: Conflict, and the request's unit of work rolls back.
    """
    ballot_token, ciphertext = seal_ballot(box, answers)
    # Core statements on the session's connection (in its transaction): the ORM has nothing to add here.
    connection = db.session.connection()
    participation = {"vote_id": box.vote_id, "right_id": right_id, "voted_on": now.date(), "now": now,
                     "public_key": box.public_key}
    sealed = {"id": os.urandom(16).hex(), "vote_id": box.vote_id, "ciphertext": ciphertext}
    try:
        if connection.dialect.name == "postgresql":
            recorded = connection.execute(_RECORD_AND_SEAL, participation | sealed).first()
        else:
            recorded = connection.execute(_RECORD_PARTICIPATION, participation).first()
            if recorded is not None:
                connection.execute(_SEAL_BALLOT, sealed)
    except IntegrityError:
        raise AlreadyVoted(ALREADY_CAST) from None
    if recorded is None:
        return None
    return sealing.receipt_for(ballot_token)
