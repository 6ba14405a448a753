"""What a closed vote leaves in the database files: no sealed ballot's bytes, and a participation ledger
whose physical order says nothing about the order of casting."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, Table, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ballot.bulk import insert_rows, rewrite_in_order
from ballot.eligibility import services as eligibility
from ballot.extensions import db
from ballot.unit_of_work import unit_of_work
from ballot.votes import lifecycle, opening
from ballot.votes.models import ParticipationRecord, SealedBallot, Vote
from tests.functional.factories import YEAR, create, roster_file
from tests.functional.helpers import cast, run

VOTERS = 8


def voters_roster(tmp_path) -> Path:
    return roster_file(tmp_path, *(f"v{i},Voter{i},Tester,voter{i}@example.org,fellow:2015-05-01:,,"
                                   for i in range(VOTERS)))


def open_vote(runner, tmp_path) -> tuple[int, dict[str, int]]:
    """Everyone enrolled, one open vote, its links mailed; returns the vote's id and each address's right."""
    run(runner, "period", "open", str(YEAR))
    run(runner, "roster", "import", str(voters_roster(tmp_path)), "--period", str(YEAR))
    with unit_of_work("test"):
        rights = eligibility.rights_of(eligibility.get_period(YEAR))
        for right in rights:
            eligibility.confirm_opt_in(right)
        right_of = {right.member.email: right.id for right in rights}
    vote = create(runner, "--kind", "charter", "--title", "Packaging WG", "--question", "Charter it?")
    run(runner, "vote", "open", str(vote["id"]))
    run(runner, "mail", "send")
    return vote["id"], right_of


def ledger_in_physical_order(vote_id: int) -> list[int]:
    """The vote's participation records as the table stores them: PostgreSQL's ctid, SQLite's rowid."""
    order = "ctid" if db.session.get_bind().dialect.name == "postgresql" else "rowid"
    return list(db.session.scalars(text(
        f"SELECT right_id FROM participation_record WHERE vote_id = :vote ORDER BY {order}"), {"vote": vote_id}))


@pytest.mark.parametrize("order", ["descending", "interleaved"])
def test_after_the_close_the_ledgers_physical_order_is_right_id_order(app, runner, client, inbox, tmp_path, order):
    vote_id, right_of = open_vote(runner, tmp_path)
    by_right = sorted(right_of, key=right_of.get)
    casting = list(reversed(by_right)) if order == "descending" else by_right[1::2] + by_right[0::2]
    for address in casting:
        assert cast(client, inbox.links(address)[0], {"q1": "yes"}).status_code == 200
    # While the vote is open the table's order is the order of casting (what the close must undo).
    assert ledger_in_physical_order(vote_id) == [right_of[a] for a in casting]

    run(runner, "vote", "close", str(vote_id))
    assert ledger_in_physical_order(vote_id) == sorted(right_of.values())
    assert run(runner, "vote", "show", str(vote_id))["participants"] == VOTERS  # nothing lost on the way


def test_the_ledger_is_written_again_while_the_ballots_are_being_opened(app, runner, client, inbox, tmp_path,
                                                                        monkeypatch):
    """A close writes the ledger again and records who missed the vote while worker processes open the
    first sealed ballots, the rest not read yet (here one ballot a chunk): the same ledger, missed votes
    and count as when it is done first."""
    monkeypatch.setattr(lifecycle, "OPENING_CHUNK", 1)
    monkeypatch.setattr(opening, "MEANWHILE_CHUNKS", 1)
    monkeypatch.setitem(app.config, "BALLOT_OPENING_PROCESSES", 2)
    read, read_when_ledger_written = [0], []
    sealed_ballots, rewrite_ledger = lifecycle.sealed_ballots, lifecycle._rewrite_ledger_in_right_order

    def counted_chunks(vote):
        for chunk in sealed_ballots(vote):
            read[0] += 1
            yield chunk

    def noted_rewrite(vote):
        read_when_ledger_written.append(read[0])
        rewrite_ledger(vote)

    monkeypatch.setattr(lifecycle, "sealed_ballots", counted_chunks)
    monkeypatch.setattr(lifecycle, "_rewrite_ledger_in_right_order", noted_rewrite)
    vote_id, right_of = open_vote(runner, tmp_path)
    voting = sorted(right_of, key=right_of.get, reverse=True)[:VOTERS - 2]
    for n, address in enumerate(voting):
        assert cast(client, inbox.links(address)[0], {"q1": "yes" if n % 3 else "no"}).status_code == 200

    closed = run(runner, "vote", "close", str(vote_id))
    assert read_when_ledger_written == [2] and read[0] == len(voting)  # 1 chunk for each of the 2 workers, then
    assert (closed["ballots"], closed["missed"]) == (len(voting), 2)
    assert ledger_in_physical_order(vote_id) == sorted(right_of[a] for a in voting)
    shown = run(runner, "vote", "show", str(vote_id))
    assert shown["participants"] == len(voting) and shown["result"]["questions"][0]["counts"] == {
        "yes": 4, "no": 2, "abstain": 0}


def built_without_secure_delete(dbapi_connection, connection_record):
    """SQLite as most builds come (Debian's turns secure_delete on at compile time; python.org's does not)."""
    dbapi_connection.execute("PRAGMA secure_delete = OFF")


def test_sqlite_overwrites_the_sealed_ballots_deleted_at_the_close(committed_app, backend, inbox, tmp_path):
    if backend[0] != "sqlite":
        pytest.skip("PostgreSQL keeps deleted rows until VACUUM: docs/DOMAIN.md says what operators must do")
    runner, client = committed_app.test_cli_runner(), committed_app.test_client()
    with committed_app.app_context():
        # Before the service's own connection settings, on every connection from now on.
        event.listen(db.engine, "connect", built_without_secure_delete, insert=True)
        db.engine.dispose()
        vote_id, right_of = open_vote(runner, tmp_path)
        for address in right_of:
            assert cast(client, inbox.links(address)[0], {"q1": "no"}).status_code == 200
        sealed = [bytes(c) for c in db.session.scalars(select(SealedBallot.ciphertext))]
        db.session.remove()
        path = Path(db.engine.url.database)
        assert len(sealed) == VOTERS and all(c in path.read_bytes() for c in sealed)  # they are there to find

        run(runner, "vote", "close", str(vote_id))
        db.session.remove()
        db.engine.dispose()
        stored = path.read_bytes()
        assert not any(c[:32] in stored for c in sealed)
        assert not [f for f in path.parent.iterdir() if f.name.startswith(path.name + "-")]  # no journal left over


def test_postgresql_stores_a_record_as_written(app, runner, client, inbox, tmp_path):
    """The record is mostly random tokens and receipts: compressing it cost the closing transaction about
    a second of the server's CPU per 100,000 ballots to save a quarter of its size (migration 5b2e7d9c4a61)."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite compresses nothing")
    vote_id, right_of = open_vote(runner, tmp_path)
    for address in right_of:
        assert cast(client, inbox.links(address)[0], {"q1": "yes"}).status_code == 200
    run(runner, "vote", "close", str(vote_id))
    storage = db.session.scalar(text(
        "SELECT attstorage FROM pg_attribute WHERE attrelid = 'vote'::regclass AND attname = 'record'"))
    compressed = db.session.scalar(text("SELECT pg_column_compression(record) FROM vote WHERE id = :vote"),
                                   {"vote": vote_id})
    assert (storage, compressed) == ("e", None)


def test_the_ledger_is_read_for_its_rewrite_by_its_index_never_by_a_sort_that_could_reach_the_disk(app):
    """``bulk.rewrite_in_order``, which the close rewrites the ledger with: a sort bigger than PostgreSQL's
    work_mem goes to temporary files in runs, each in the order of casting; where a table has no
    statistics yet the planner sorts the rows read through the index by their place in the table."""
    table = Table("rewrite_probe", MetaData(), Column("vote_id", Integer, primary_key=True),
                  Column("right_id", Integer, primary_key=True), Column("voted_on", Date, nullable=False))
    table.create(db.session.connection())
    rights = list(range(1, 5001))
    random.Random(7).shuffle(rights)  # the order of casting
    day = dt.date(2026, 12, 2)
    insert_rows(table, [{"vote_id": 1, "right_id": r, "voted_on": day} for r in rights])
    insert_rows(table, [{"vote_id": 2, "right_id": r, "voted_on": day} for r in rights[:10]])
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:  # no temporary file at all from here on, and little memory to sort in
        db.session.execute(text("SET LOCAL work_mem = '64kB'"))
        db.session.execute(text("SET LOCAL temp_file_limit = 0"))
        with pytest.raises(DBAPIError, match="temp_file_limit"), db.session.begin_nested():
            db.session.execute(text("SELECT * FROM rewrite_probe WHERE vote_id = 1 ORDER BY right_id")).all()

    rewrite_in_order(table, table.c.vote_id, 1, table.c.right_id)

    if postgresql:
        db.session.execute(text("RESET temp_file_limit"))
    order = "ctid" if postgresql else "rowid"
    stored = db.session.execute(text(f"SELECT vote_id, right_id, voted_on FROM rewrite_probe ORDER BY {order}")).all()
    assert [(v, r) for v, r, _ in stored] == [(2, r) for r in rights[:10]] + [(1, r) for r in sorted(rights)]
    assert {str(d) for _, _, d in stored} == {"2026-12-02"}


@pytest.mark.parametrize("processes", [1, 2])
def test_a_sealed_ballot_that_does_not_open_stops_the_close_and_nothing_is_written(app, runner, client, inbox,
                                                                                   tmp_path, monkeypatch, processes):
    """A sealed ballot altered in the database, read among the others (one chunk at a time, the ledger
    already written again when it is reached): `ballot vote close` says so and exits non-zero, and the
    vote is as it was, open, its sealed ballots, ledger and key all there."""
    monkeypatch.setattr(lifecycle, "OPENING_CHUNK", 1)
    monkeypatch.setattr(opening, "MEANWHILE_CHUNKS", 1)
    monkeypatch.setitem(app.config, "BALLOT_OPENING_PROCESSES", processes)
    vote_id, right_of = open_vote(runner, tmp_path)
    for address in sorted(right_of)[:6]:
        assert cast(client, inbox.links(address)[0], {"q1": "yes"}).status_code == 200
    ids = sorted(db.session.scalars(select(SealedBallot.id).where(SealedBallot.vote_id == vote_id)))
    altered = db.session.get_one(SealedBallot, ids[-2])
    altered.ciphertext = altered.ciphertext[:-1] + bytes([altered.ciphertext[-1] ^ 1])
    db.session.flush()
    before = ledger_in_physical_order(vote_id)

    result = runner.invoke(args=["vote", "close", str(vote_id)])

    assert result.exit_code == 1
    assert result.output.strip() == "error: a sealed ballot does not open with the vote's key"
    db.session.expire_all()
    shown = run(runner, "vote", "show", str(vote_id))
    assert shown["status"] == "open" and shown["participants"] == 6
    assert db.session.get_one(Vote, vote_id).wrapped_key is not None
    assert sorted(db.session.scalars(select(SealedBallot.id).where(SealedBallot.vote_id == vote_id))) == ids
    assert ledger_in_physical_order(vote_id) == before


def test_the_ledger_holds_only_rights_of_the_votes_electorate(app, runner, tmp_path):
    """The ledger's one foreign key is to the electorate entry: no participation record for a right outside
    the vote's electorate, whatever writes it."""
    vote_id, right_of = open_vote(runner, tmp_path)
    other = create(runner, "--kind", "charter", "--title", "Another WG", "--question", "Charter it?")  # a draft
    right = next(iter(right_of.values()))
    ledger = ParticipationRecord.__table__
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(ledger.insert().values(vote_id=other["id"], right_id=right, voted_on=dt.date(2026, 12, 2)))
    db.session.execute(ledger.insert().values(vote_id=vote_id, right_id=right, voted_on=dt.date(2026, 12, 2)))
    assert ledger_in_physical_order(vote_id) == [right]
