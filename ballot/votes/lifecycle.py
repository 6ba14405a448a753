"""The life of a vote: draft, open, close (and, with trustees, count), publish, or cancel; and its times.

Each function acts within the caller's unit of work: it checks, changes,
writes its audit entry and flushes; the unit of work commits. A vote's row is
locked (``FOR UPDATE``) before a change of status, so an administrator's
close racing the worker's gives one close and one plain refusal.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Generator, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask import current_app
from sqlalchemy import delete, select

from ballot import sealing, unit_of_work
from ballot.audit import audit, vote_subject
from ballot.bulk import collector_paused, insert_rows, read_in_chunks, rewrite_in_order
from ballot.eligibility import services as eligibility
from ballot.errors import Conflict, InvalidInput, NotFound
from ballot.extensions import db
from ballot.timestamps import utcnow
from ballot.votes import custody, opening
from ballot.votes import record as vote_record
from ballot.votes import rules as vote_rules
from ballot.votes.links import queue_ballot_links, queue_cancellation_notices
from ballot.votes.models import (
    CANCELLED,
    CLOSED,
    COUNTING,
    DRAFT,
    OPEN,
    PUBLISHED,
    ElectorateAddition,
    ElectorateEntry,
    ParticipationRecord,
    SealedBallot,
    Vote,
)
from ballot.votes.queries import (
    additions_of,
    electorate_of,
    not_voted,
    not_voted_query,
    period_of,
    quorum_base,
    record_of,
)
from ballot.votes.tally import tally
from ballot.worker import forget_failures

log = logging.getLogger(__name__)


def create_vote(
    period, kind: str, title: str, closes_at: dt.datetime, *,
    description: str = "", questions: Sequence[str] = (), candidates: Sequence[str] = (),
    statements: dict[str, str] | None = None, **options,
) -> Vote:
    """A draft vote; its rules are checked now and frozen when it opens.

    ``statements``: a link to each candidate's or nominee's statement, by name, shown on the ballot and
    the results (kept with the rules, which the record publishes; no rule depends on them).
    """
    policy = eligibility.policy_of(period)
    kind_ = vote_rules.get_kind(kind, policy)
    _check_title(title)
    if closes_at.tzinfo is None:
        raise InvalidInput("the closing time needs a time zone (e.g. 2026-12-01T18:00+00:00)")
    if kind_.name == "fellow" and policy.nominees_must_be_members:
        questions = [_nominee(period, text) for text in questions if text.strip()]
    built = vote_rules.build_questions(kind_, list(questions), list(candidates))
    rules = vote_rules.build_rules(kind_, policy, candidates=list(candidates), **options)
    if kind_.name == "fellow" and rules.get("affiliations"):
        nominees = [q["title"] for q in built]
        unknown = [name for name in rules["affiliations"] if name not in nominees]
        if unknown:
            raise InvalidInput(f"affiliations: {', '.join(unknown)} is not one of the nominees ({', '.join(nominees)})")
    if statements:
        rules["statements"] = _statements(kind_, statements, built)
    if rules.get("group"):
        # Each member named must be on the roster with a voting right: refused now, not at opening.
        eligibility.group_rights(period, rules["group"]["members"], utcnow().date())
    vote = Vote(
        period_id=period.id, kind=kind_.name, title=title.strip(), description=description.strip(),
        status=DRAFT, closes_at=closes_at, questions=built, rules=rules,
    )
    db.session.add(vote)
    db.session.flush()
    audit("vote.create", vote_subject(vote), period=period.year, kind=vote.kind)
    custody.apply_installation_trustees(vote)
    return vote


def vote_problems(
    period, kind: str, *, title: str | None, questions: Sequence[str] | None, candidates: Sequence[str] | None,
    keep_titles: Sequence[str] = (), **options,
) -> list[tuple[str, str]]:
    """Every problem with a vote's settings at once, each with the part it is about: "title",
    "questions", "quorum" or "rules" (for forms that show each next to its field). ``create_vote``
    and ``edit_draft`` check the same, stopping at the first; a part given as None is not checked."""
    problems: list[tuple[str, str]] = []
    policy = eligibility.policy_of(period)
    try:
        kind_ = vote_rules.get_kind(kind, policy)
    except InvalidInput as exc:
        return [("rules", str(exc))]

    def check(part: str, step) -> bool:
        try:
            step()
        except InvalidInput as exc:
            problems.append((part, str(exc)))
            return False
        return True

    if title is not None:
        check("title", lambda: _check_title(title))
    if questions is not None or candidates is not None:
        def build() -> None:
            titles = list(questions or [])
            if kind_.name == "fellow" and policy.nominees_must_be_members:
                titles = [t.strip() if t.strip() in keep_titles else _nominee(period, t) for t in titles if t.strip()]
            vote_rules.build_questions(kind_, titles, list(candidates or []))
        check("questions", build)
    quorum_ok = options.get("quorum") is None or check(
        "quorum", lambda: vote_rules.check_quorum(options["quorum"], policy))

    statements = options.pop("statements", None)

    def rules() -> None:
        built = vote_rules.build_rules(kind_, policy, candidates=list(candidates or []),
                                       **(options if quorum_ok else options | {"quorum": None}))
        if built.get("group"):
            eligibility.group_rights(period, built["group"]["members"], utcnow().date())
    check("rules", rules)
    if statements and (questions is not None or candidates is not None):
        def statements_fit() -> None:
            titles = [t.strip() for t in questions or [] if t.strip()]
            if kind_.name == "fellow" and policy.nominees_must_be_members:
                titles = [t if t in keep_titles else _nominee(period, t) for t in titles]
            _statements(kind_, statements, vote_rules.build_questions(kind_, titles, list(candidates or [])))
        check("statements", statements_fit)
    return problems


def _statements(kind_: vote_rules.Kind, statements: dict[str, str], questions: list[dict]) -> dict[str, str]:
    """The statements' links, checked against the vote's candidates or nominees."""
    if kind_.ballot not in (vote_rules.BOARD, "agree"):
        raise InvalidInput("statements are for Board candidates and Fellow nominees")
    return vote_rules.check_statements(statements, questions, kind_.ballot == vote_rules.BOARD)


def _check_title(title: str) -> None:
    if not title.strip():
        raise InvalidInput("a vote needs a title")
    if any(ord(c) < 32 or ord(c) == 127 for c in title.strip()):
        # The title goes into the ballot emails' subject: a line break there cannot be sent.
        raise InvalidInput("a vote's title must be one line of text")


# What an edit of a draft can change, and how the audit log names it.
EDITABLE = {"title": "title", "description": "description", "closes_at": "closing time",
            "questions": "questions, nominees or candidates", "rules": "rules"}


def edit_draft(
    vote: Vote, *, title: str | None = None, description: str | None = None, closes_at: dt.datetime | None = None,
    questions: Sequence[str] | None = None, candidates: Sequence[str] | None = None,
    now: dt.datetime | None = None, **options,
) -> list[str]:
    """Change a draft before it opens: what is given replaces what it had, the rest is kept.

    Every rule is checked again by ``votes.rules.build_rules`` against the
    period's policy, as at creation; the edit is audited with what changed.
    Returns the names of what changed (nothing: nothing is written).
    """
    now = now or utcnow()
    vote = _locked(vote)
    _require(vote, DRAFT, "edited")
    period = period_of(vote)
    policy = eligibility.policy_of(period)
    kind_ = vote_rules.get_kind(options.pop("kind", None) or vote.kind, policy)
    if kind_.name != vote.kind:
        raise InvalidInput(f"a draft keeps its kind ({vote_rules.kind_label(vote.kind)}); create another vote instead")
    new_title = vote.title if title is None else title.strip()
    _check_title(new_title)
    new_closes_at = vote.closes_at if closes_at is None else closes_at
    if closes_at is not None:
        if closes_at.tzinfo is None:
            raise InvalidInput("the closing time needs a time zone")
        if closes_at != vote.closes_at and closes_at <= now:
            raise InvalidInput("the closing time must be in the future")
        if vote.opens_at is not None and vote.opens_at >= closes_at:
            raise InvalidInput("the vote is scheduled to open after that closing time; move the opening first")
    board = kind_.ballot == vote_rules.BOARD
    names = list(candidates) if candidates is not None else (vote.questions[0]["choices"] if board else [])
    titles = list(questions) if questions is not None else [q["title"] for q in vote.questions]
    if kind_.name == "fellow" and policy.nominees_must_be_members:
        kept = {q["title"] for q in vote.questions}
        titles = [text.strip() if text.strip() in kept else _nominee(period, text) for text in titles if text.strip()]
    built = vote_rules.build_questions(kind_, [] if board else titles, names)
    statements = options.pop("statements", None)
    if statements is None:  # kept, for the candidates or nominees still there
        names_now = {choice for q in built for choice in (q["choices"] if board else [q["title"]])}
        statements = {name: url for name, url in (vote.rules.get("statements") or {}).items() if name in names_now}
    chosen = vote_rules.options_of(vote.rules) | options
    rules = vote_rules.build_rules(kind_, policy, candidates=names, **chosen)
    if statements:
        rules["statements"] = _statements(kind_, statements, built)
    if rules.get("group"):
        eligibility.group_rights(period, rules["group"]["members"], now.date())
    new = {"title": new_title, "description": vote.description if description is None else description.strip(),
           "closes_at": new_closes_at, "questions": built, "rules": rules}
    changed = [name for name in EDITABLE if new[name] != getattr(vote, name)]
    if not changed:
        return []
    detail: dict = {"changed": [EDITABLE[name] for name in changed]}
    if "title" in changed:
        detail["was"] = vote.title
    if "closes_at" in changed:
        detail["closes_at"] = new_closes_at.isoformat()
    if "rules" in changed:
        detail["rules"] = sorted(k for k in set(rules) | set(vote.rules) if rules.get(k) != vote.rules.get(k))
    for name in changed:
        setattr(vote, name, new[name])
    audit("vote.edit", vote_subject(vote), **detail)
    db.session.flush()
    return [EDITABLE[name] for name in changed]


def _nominee(period, text: str) -> str:
    """A Fellow nominee under a policy where only members can be nominated (psf-bylaws 4.8: "a member
    must be nominated"): named by member id, email, or "Name <email>"; the member's name is the question."""
    address = text.strip()
    if address.endswith(">") and "<" in address:
        address = address[address.rindex("<") + 1:-1]
    member = eligibility.find_member(period, address)
    if member is None:
        raise InvalidInput(f"{text.strip()!r} is not a member on the {period.year} roster; only members can be "
                           "nominated as Fellows: name each nominee by member id or email address")
    return member.display_name


def _locked(vote: Vote) -> Vote:
    """The vote's row, locked for the rest of the unit of work and read afresh."""
    return db.session.execute(
        select(Vote).where(Vote.id == vote.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _require(vote: Vote, status: str, action: str) -> None:
    if vote.status != status:
        article = "an" if status[0] in "aeiou" else "a"
        raise Conflict(f"vote {vote.id} is {vote.status}; only {article} {status} vote can be {action}")


def _sealing_key() -> bytes:
    return base64.urlsafe_b64decode(current_app.config["BALLOT_SEALING_KEY"])


def open_vote(vote: Vote, now: dt.datetime | None = None) -> int:
    """Freeze the electorate and the trustees, make the vote's keys, queue a ballot link to each right.

    With trustees, the vote's private key is kept only split among them
    (``custody.protect_key``); without, wrapped under the sealing key.
    """
    now = now or utcnow()
    vote = _locked(vote)
    _require(vote, DRAFT, "opened")
    policy = eligibility.policy_of(period_of(vote))
    if vote.closes_at <= now:
        raise Conflict(f"vote {vote.id} would close at {vote.closes_at:%Y-%m-%d %H:%M} UTC, which has passed")
    if policy.max_open_days and vote.closes_at - now > dt.timedelta(days=policy.max_open_days):
        raise Conflict(f"a vote may stay open at most {policy.max_open_days} days under {policy.title}")
    with collector_paused():  # the roll of 100,000 rights: as many tuples, kept
        entitled = electorate_of(vote, now.date())
    if not entitled:
        raise Conflict("nobody is in this vote's electorate: enrol voters before opening it")
    trustees = custody.check_before_opening(vote)
    detail: dict[str, Any] = {"scheduled": vote.opens_at.isoformat()} if vote.opens_at and vote.opens_at <= now else {}
    if trustees:
        detail |= {"trustees": len(trustees), "threshold": vote.trustee_threshold}
    audit("vote.open", vote_subject(vote), now=now, **detail)
    if trustees:
        vote.public_key = custody.protect_key(vote, trustees)
    else:
        vote.public_key, vote.wrapped_key = sealing.new_vote_keys(_sealing_key(), vote.id)
    vote.status, vote.opened_at, vote.electorate_size = OPEN, now, len(entitled)
    with collector_paused():  # 100,000 rights are as many rows of each kind, alive until written
        insert_rows(ElectorateEntry.__table__, [
            {"vote_id": vote.id, "right_id": e.right_id, "quorum_only_if_voting": e.quorum_only_if_voting}
            for e in entitled])
        right_ids = [e.right_id for e in entitled]
        queue_ballot_links(vote, right_ids, now)
    db.session.flush()
    log.info("vote %s opened with %s rights", vote.id, len(right_ids))
    return len(right_ids)


def add_voter(vote: Vote, key_or_email: str, reason: str, now: dt.datetime | None = None) -> int:
    """Add to an open vote the rights of a member who was missed, with the reason; returns how many.

    The PSF's practice ("new voters may need to be added as they were
    missed"): the member must be on the period's roster (import the corrected
    roster first) and hold a right the vote's electorate takes; enrolment is
    not asked for, the administrator vouching with the reason. Each added right
    gets its ballot link and counts in the electorate; the addition is audited
    and listed with the vote. It says only that the right may vote.
    """
    now = now or utcnow()
    vote = _locked(vote)
    _require(vote, OPEN, "given another voter")
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why the voter is added (for the audit log and the record)")
    if now >= vote.closes_at:
        raise Conflict(f"vote {vote.id} closed at {vote.closes_at:%Y-%m-%d %H:%M} UTC: no one can be added")
    period = period_of(vote)
    member = eligibility.find_member(period, key_or_email)
    if member is None:
        raise NotFound(f"no member {key_or_email.strip()!r} on the {period.year} roster: import the corrected "
                       "roster first")
    entitled = eligibility.entitled_if_added(
        period, member, now.date(), scope=vote.rules["electorate"], managing_years=vote.rules.get("managing_years"))
    if not entitled:
        raise Conflict(f"{member.email} holds no voting right that this vote's electorate takes")
    present = set(db.session.scalars(select(ElectorateEntry.right_id).where(
        ElectorateEntry.vote_id == vote.id, ElectorateEntry.right_id.in_([e.right_id for e in entitled]))))
    added = [e for e in entitled if e.right_id not in present]
    if not added:
        raise Conflict(f"{member.email} is already in this vote's electorate")
    actor = unit_of_work.actor()
    for entry in added:
        db.session.add(ElectorateEntry(vote_id=vote.id, right_id=entry.right_id,
                                       quorum_only_if_voting=entry.quorum_only_if_voting))
        db.session.add(ElectorateAddition(vote_id=vote.id, right_id=entry.right_id, reason=reason,
                                          added_by=actor, added_at=now))
    vote.electorate_size += len(added)
    audit("vote.add-voter", vote_subject(vote), member=member.key, name=member.display_name, email=member.email,
          rights=len(added), reason=reason)
    queue_ballot_links(vote, [e.right_id for e in added], now)
    db.session.flush()
    return len(added)


def close_vote(vote: Vote, now: dt.datetime | None = None) -> dict:
    """Close: casting stops and missed votes are recorded; then the ballots are counted, or the vote waits.

    A vote closes when told to or at its closing time, whichever comes first:
    casting stopped then, so that is when it closed, even if the worker gets to
    it later. The participation ledger is written again in right order at once.
    Without trustees the ballots are counted at once (``_count``): the sealed
    ballots and the vote's key are destroyed in the same transaction, and what
    remains is the record, in receipt order. With trustees the vote is
    "counting": a collection key is made for their answers, and
    ``receive_trustee_answer`` counts it once k have answered.
    """
    now = now or utcnow()
    vote = _locked(vote)
    _require(vote, OPEN, "closed")
    assert vote.wrapped_key is not None and vote.opened_at is not None, "an open vote has its key and opening time"
    closed_at = min(now, vote.closes_at)
    audit("vote.close", vote_subject(vote), now=now,
          **({"scheduled": vote.closes_at.isoformat()} if vote.closes_at <= now else {}))
    vote.status, vote.closed_at = (COUNTING if vote.trustee_threshold else CLOSED), closed_at
    db.session.flush()
    forget_failures("vote.close", vote.id)
    summary: dict[str, Any] = {"status": vote.status}

    def record_participation() -> None:
        _rewrite_ledger_in_right_order(vote)  # casting has stopped: the order it came in is told by nothing
        missed, forfeited = eligibility.record_missed(vote.id, period_of(vote), not_voted_query(vote), closed_at)
        summary.update(missed=missed, forfeited=len(forfeited))

    if vote.status == COUNTING:
        record_participation()
        collection_key = custody.start_collection(vote)
        db.session.flush()
        log.info("vote %s closed: %s missed, %s forfeited; waiting for %s trustees", vote.id, summary["missed"],
                 summary["forfeited"], vote.trustee_threshold)
        return summary | {"trustees_needed": vote.trustee_threshold, "trustees": len(custody.trustees_of(vote)),
                          "collection_key": collection_key}
    private_key = X25519PrivateKey.from_private_bytes(
        sealing.unwrap_vote_key(_sealing_key(), vote.id, vote.wrapped_key))
    # The ledger and the missed votes are written while the first sealed ballots are being opened.
    counted = _count(vote, private_key, custody.protection_of(vote), meanwhile=record_participation)
    return summary | counted


def receive_trustee_answer(vote: Vote, answer: str | bytes, now: dt.datetime | None = None) -> dict:
    """Take one trustee's answer to a counting vote; with the k-th, open the ballots and count them.

    An answer that is wrong, repeated or forged is refused with the reason and
    changes nothing. The count, and the destruction of every piece of key
    material, happen in the unit of work that accepts the k-th answer.
    """
    now = now or utcnow()
    vote = _locked(vote)
    if vote.status != COUNTING:
        raise Conflict(f"vote {vote.id} is {vote.status}; trustees' answers are taken only while a vote waits for "
                       "them, after its close")
    assert vote.trustee_threshold is not None, "a counting vote has trustees"
    row = custody.accept_answer(vote, answer, now)
    took_part = custody.answered(vote)
    summary = {"trustee": row.fingerprint, "answered": len(took_part), "trustees_needed": vote.trustee_threshold,
               "status": vote.status}
    if len(took_part) < vote.trustee_threshold:
        return summary
    private_key = custody.recover_vote_key(vote)
    audit("vote.count", vote_subject(vote), trustees=[r.fingerprint for r in took_part])
    vote.status = CLOSED
    counted = _count(vote, private_key, custody.protection_of(vote, took_part))
    custody.destroy_key_material(vote)
    return summary | counted | {"status": vote.status}


def _count(vote: Vote, private_key: X25519PrivateKey, protection: dict,
           meanwhile: Callable[[], None] | None = None) -> dict:
    """Open the ballots into the record and count them; the sealed ballots and the vote's key are destroyed.

    What remains is the record, in receipt order, and the result. ``meanwhile``: the close's other
    writes, done while worker processes open the first ballots (``opening.open_ballots``), before the count.
    """
    assert vote.opened_at is not None and vote.closed_at is not None, "a vote is counted after its close"
    with contextlib.closing(sealed_ballots(vote)) as sealed:
        opened = opening.open_ballots(vote.id, private_key, sealed,
                                      opening.processes_for(current_app.config["BALLOT_OPENING_PROCESSES"]),
                                      meanwhile)
    db.session.execute(delete(SealedBallot).where(SealedBallot.vote_id == vote.id))
    vote.public_key = vote.wrapped_key = None
    vote.result = tally(vote.rules, vote.questions, opened.contents, vote.electorate_size,
                        quorum_base(vote), len(additions_of(vote)))
    info = {
        "id": vote.id, "kind": vote.kind, "title": vote.title, "description": vote.description,
        "opened_at": vote.opened_at.isoformat(), "closed_at": vote.closed_at.isoformat(),
    }
    vote.record = vote_record.build_json(info, vote.questions, vote.rules, opened.record_entries(), vote.result,
                                         protection)
    db.session.flush()
    log.info("vote %s counted: %s ballots", vote.id, len(opened.contents))
    return {"ballots": len(opened.contents), "result": vote.result}


OPENING_CHUNK = 2_000  # sealed ballots read, and handed to a worker process, at a time


def sealed_ballots(vote: Vote) -> Generator[list[bytes], None, None]:
    """The vote's sealed ballots, ``OPENING_CHUNK`` at a time, in the order of their random ids: an order
    that says nothing of who cast them, or when."""
    sealed = SealedBallot.__table__
    return read_in_chunks(sealed.c.ciphertext, sealed.c.vote_id, vote.id, sealed.c.id, OPENING_CHUNK)


def cancel_vote(vote: Vote, reason: str, now: dt.datetime | None = None) -> None:
    """Cancel a draft or open vote; its ballots are destroyed unopened and nobody misses it."""
    if not reason.strip():
        raise InvalidInput("say why the vote is cancelled (--reason)")
    vote = _locked(vote)
    if vote.status not in (DRAFT, OPEN):
        raise Conflict(f"vote {vote.id} is {vote.status}; only a draft or open vote can be cancelled")
    audit("vote.cancel", vote_subject(vote), reason=reason.strip())
    now = now or utcnow()
    if vote.status == OPEN:  # its electorate was sent ballot links: tell them, with the reason
        queue_cancellation_notices(vote, reason.strip(), now)
    vote.status, vote.cancelled_at, vote.cancel_reason = CANCELLED, now, reason.strip()
    vote.public_key = None
    custody.destroy_key_material(vote)
    db.session.execute(delete(SealedBallot).where(SealedBallot.vote_id == vote.id))
    _rewrite_ledger_in_right_order(vote)
    forget_failures("vote.close", vote.id)
    forget_failures("vote.open", vote.id)
    db.session.flush()


def _rewrite_ledger_in_right_order(vote: Vote) -> None:
    """Write the vote's participation records again, in right order, once casting has stopped.

    Rows are stored in the order they were written (PostgreSQL's ctid, SQLite's
    rowid, and so a dump's order): written as ballots were cast, they would tell
    the order of casting within a day, which the ledger must not. The copies
    written now are in right order; the old rows are deleted (overwritten at
    once on SQLite; on PostgreSQL, see docs/DOMAIN.md on VACUUM).
    """
    ledger = ParticipationRecord.__table__
    rewrite_in_order(ledger, ledger.c.vote_id, vote.id, ledger.c.right_id)


def publish(vote: Vote, now: dt.datetime | None = None) -> dict:
    """Sign the record and make the result public."""
    vote = _locked(vote)
    _require(vote, CLOSED, "published")
    audit("vote.publish", vote_subject(vote))
    document = vote_record.signed(record_of(vote), current_app.config["BALLOT_SIGNING_KEY"])
    vote.record_signature = document["signature"]
    vote.status, vote.published_at = PUBLISHED, now or utcnow()
    db.session.flush()
    return document


# Times: closing, opening, extending ---------------------------------------------------

def schedule_close(vote: Vote, closes_at: dt.datetime, now: dt.datetime | None = None) -> None:
    """Set a draft's closing time; an open vote is moved later only, with ``extend_vote``."""
    now = now or utcnow()
    _require(vote, DRAFT, "rescheduled")
    if closes_at.tzinfo is None:
        raise InvalidInput("the closing time needs a time zone")
    if closes_at <= now:
        raise InvalidInput("the closing time must be in the future")
    audit("vote.schedule", vote_subject(vote), closes_at=closes_at.isoformat())
    vote.closes_at = closes_at
    db.session.flush()


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
    audit("vote.schedule-opening", vote_subject(vote), opens_at=opens_at.isoformat() if opens_at else None)
    vote.opens_at = opens_at
    forget_failures("vote.open", vote.id)
    db.session.flush()


def extend_vote(vote: Vote, new_closes_at: dt.datetime, now: dt.datetime | None = None) -> int:
    """Close an open vote later, within the policy's longest opening.

    Ballot links embed the closing time as their expiry, so every right that
    has not voted yet gets a fresh link; returns how many were queued.
    """
    now = now or utcnow()
    vote = _locked(vote)
    _require(vote, OPEN, "extended")
    assert vote.opened_at is not None, "an open vote has its opening time"
    if new_closes_at.tzinfo is None:
        raise InvalidInput("the closing time needs a time zone")
    if now >= vote.closes_at:
        raise Conflict(f"vote {vote.id} closed at {vote.closes_at:%Y-%m-%d %H:%M} UTC; it can no longer be extended")
    if new_closes_at <= vote.closes_at:
        raise InvalidInput(
            f"a vote can only be extended: the new closing time must be after {vote.closes_at:%Y-%m-%d %H:%M} UTC"
        )
    policy = eligibility.policy_of(period_of(vote))
    if policy.max_open_days and new_closes_at - vote.opened_at > dt.timedelta(days=policy.max_open_days):
        raise Conflict(f"a vote may stay open at most {policy.max_open_days} days under {policy.title}")
    audit("vote.extend", vote_subject(vote), closes_at=new_closes_at.isoformat(), was=vote.closes_at.isoformat())
    vote.closes_at = new_closes_at
    waiting = not_voted(vote)
    queue_ballot_links(vote, waiting, now, "extended")
    db.session.flush()
    log.info("vote %s extended; %s fresh links queued", vote.id, len(waiting))
    return len(waiting)

