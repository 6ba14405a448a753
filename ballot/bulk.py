"""Writing many rows at once: the one place that knows how, per database.

PostgreSQL takes rows fastest through COPY (a 100,000-member roster, a vote's
electorate and its ballot links); SQLite through one prepared INSERT run
over all the rows by the driver (``executemany``). Either way each value goes
through its column type's conversion once and straight to the driver, not
through SQLAlchemy's per-row parameter handling, which costs more than the
writing. Both write inside the session's current transaction, so a failure
later in the same service still leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import operator
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Column, CursorResult, Dialect, Select, Table
from sqlalchemy.types import TypeEngine

from ballot.extensions import db

if TYPE_CHECKING:
    import sqlite3

    import psycopg


def _repeating(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """A column's conversion that converts a value once when rows repeat it (a time stamp shared by a
    vote's 100,000 messages, say): the same object in, the same value out."""
    if process is None:
        return None
    last: list[Any] = [_NOTHING, None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[:] = [value, process(value)]
        return last[1]
    return convert


_NOTHING = object()


class JSONText(str):
    """The value of a JSON column already written as JSON text (by ``json.dumps``, as the column would
    write it): it goes to the database as it is. Many rows that hold the same value write it once."""


class JSONTemplate:
    """A JSON value written once for many rows that differ only in a few places (``holes``).

    ``fill`` gives each row's JSON text (a ``JSONText``): the value written by ``json.dumps`` with each
    hole's own value in its place, the same text as ``json.dumps`` of the whole row's value, at the cost
    of encoding only what differs (a vote's 100,000 ballot links share all of their context but the
    name and the right). A hole is a placeholder string in ``value`` that nothing else in it contains.
    """

    def __init__(self, value: Any, *holes: str) -> None:
        text = json.dumps(value)
        self.parts = []
        for hole in holes:
            written = json.dumps(hole)
            if text.count(written) != 1:
                raise ValueError(f"the placeholder {hole!r} must appear exactly once in the template")
            before, text = text.split(written)
            self.parts.append(before)
        self.parts.append(text)

    def fill(self, *values: Any) -> JSONText:
        pieces = [self.parts[0]]
        for value, part in zip(values, self.parts[1:], strict=True):
            pieces += (_encode_hole(value), part)
        return JSONText("".join(pieces))


# The holes of a message's context queued for many rights at once (a vote's ballot links, a year's opt-in
# requests): the messages of one capacity differ only in the holder's name and the right's id.
NAME_HOLE, RIGHT_HOLE = "\0name", "\0right"


def _encode_hole(value: Any) -> str:
    """``json.dumps(value)``: text and whole numbers (a name, a right's id) written directly by the
    functions json.dumps itself ends in, anything else by json.dumps."""
    if value.__class__ is str:
        return _encode_text(value)
    if value.__class__ is int:
        return int.__repr__(value)
    return _encode(value)


_encode = json.JSONEncoder().encode  # json.dumps with its default settings, less its checks of them
_encode_text = json.encoder.encode_basestring_ascii  # how _encode writes a str (ensure_ascii, the default)


def _json_processor(json_type: TypeEngine, dialect: Dialect) -> Callable[[Any], Any]:
    # COPY's text takes JSON as its text; the SQLite dialect's JSON type converts it itself.
    write = json.dumps if dialect.name == "postgresql" else json_type.bind_processor(dialect) or json.dumps
    return lambda value: value if value.__class__ is JSONText else write(value)


def insert_rows(table: Table, rows: Iterable[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the current transaction.

    ``rows`` may be a generator: each row is made as it is written, so on PostgreSQL the server stores
    the rows already sent while the next are made (COPY sends them as its buffer fills)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = itertools.chain((first,), rows)
    dialect, driver_connection = _driver()
    columns = list(first)
    json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
    # Each column's conversion for this database, as SQLAlchemy's own statements apply it (the dialect's
    # type: on SQLite a time stamp is then written as the same text as the ORM writes it).
    processors = [_repeating(_json_processor(table.columns[name].type, dialect) if name in json_columns
                             else table.columns[name].type.dialect_impl(dialect).bind_processor(dialect))
                  for name in columns]
    values = _values(rows, columns, processors)
    if dialect.name == "postgresql":
        with cast("psycopg.Connection", driver_connection).cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        return
    sqlite_cursor = cast("sqlite3.Connection", driver_connection).cursor()
    try:
        sqlite_cursor.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", values)
    finally:
        sqlite_cursor.close()


def rewrite_in_order(table: Table, where: Column, equals: int, order_by: Column) -> None:
    """Write the rows of ``table`` whose ``where`` equals ``equals`` again, in ``order_by`` order, in the
    current transaction: read in that order, deleted, and written back as read.

    The values go back as the database gave them, never turned into Python values and back (a vote's
    ledger of 100,000 rows): on PostgreSQL they are copied out and in as COPY's text, on SQLite passed
    from the read to the insert as the driver returns them.

    The read follows an index on (``where``, ``order_by``), such as the primary key's, and never sorts: a
    sort too big for PostgreSQL's ``work_mem`` goes to temporary files in runs, each in the order it
    read the rows in, which is the order they were written (a ledger's, the order of casting). The planner
    chooses such a sort where the table has no statistics yet, so sorting is switched off for the read.
    """
    db.session.flush()
    columns = ", ".join(column.name for column in table.columns)
    condition = f"FROM {table.name} WHERE {where.name} = "
    dialect, driver_connection = _driver()
    if dialect.name == "postgresql":
        with cast("psycopg.Connection", driver_connection).cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            with cursor.copy(f"COPY (SELECT {columns} {condition}%s ORDER BY {order_by.name}) TO STDOUT",
                             (equals,)) as copy_out:
                copied = b"".join(copy_out)  # a row a block: written back in one (psycopg splits it to send)
            cursor.execute("RESET enable_sort")
            cursor.execute(f"DELETE {condition}%s", (equals,))
            with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy_in:
                copy_in.write(copied)
        return
    sqlite_cursor = cast("sqlite3.Connection", driver_connection).cursor()
    try:
        rows = sqlite_cursor.execute(f"SELECT {columns} {condition}? ORDER BY {order_by.name}", (equals,)).fetchall()
        sqlite_cursor.execute(f"DELETE {condition}?", (equals,))
        sqlite_cursor.executemany(
            f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join('?' for _ in table.columns)})", rows)
    finally:
        sqlite_cursor.close()


def read_in_chunks(column: Column, where: Column, equals: int, order_by: Column, size: int
                   ) -> Generator[list, None, None]:
    """The values of ``column`` in the rows of its table whose ``where`` equals ``equals``, in ``order_by``
    order, ``size`` at a time, read from the database as they are asked for, in the current transaction.

    For a column of many bytes (a vote's sealed ballots, 24 MB for 100,000 yes/no ballots): the values come as the
    driver gives them, on PostgreSQL through a server-side cursor in binary, where text would be bytea's
    hex, twice the bytes, for the server to write and the driver to read back. Other statements may run
    on the session between two chunks. Not read to its end, it must be closed (``contextlib.closing``)
    before the transaction ends: its cursor is closed then, not whenever the generator is collected, by
    which time the connection may be serving another transaction.
    """
    db.session.flush()
    select_sql = f"SELECT {column.name} FROM {column.table.name} WHERE {where.name} = {{}} ORDER BY {order_by.name}"
    dialect, driver_connection = _driver()
    if dialect.name == "postgresql":
        with cast("psycopg.Connection", driver_connection).cursor(f"read_{column.table.name}",
                                                                  binary=True) as server_cursor:
            server_cursor.itersize = size
            server_cursor.execute(select_sql.format("%s"), (equals,))
            while rows := server_cursor.fetchmany(size):
                yield [value for (value,) in rows]
        return
    sqlite_cursor = cast("sqlite3.Connection", driver_connection).cursor()
    try:
        sqlite_cursor.execute(select_sql.format("?"), (equals,))
        while rows := sqlite_cursor.fetchmany(size):
            yield [value for (value,) in rows]
    finally:
        sqlite_cursor.close()


def _driver() -> tuple[Dialect, Any]:
    """The session's dialect and its driver's connection, in the current transaction: PostgreSQL is
    reached through psycopg 3 (postgresql+psycopg://), SQLite through the standard library's sqlite3."""
    connection = db.session.connection()
    driver_connection = connection.connection.dbapi_connection
    assert driver_connection is not None, "the session's connection is open"
    return connection.dialect, driver_connection


def _values(rows: Iterable[dict], columns: list[str], processors: list[Callable[[Any], Any] | None]
            ) -> Iterator[list]:
    """Each row's values in the order of ``columns``, converted where a column converts."""
    take = operator.itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    converting = [(place, process) for place, process in enumerate(processors) if process is not None]
    for row in rows:
        values = list(take(row))
        for place, process in converting:
            values[place] = process(values[place])
        yield values


def read_rows(statement: Select) -> CursorResult:
    """The rows of a query of columns (not of mapped objects) in the current transaction, read through
    the session's connection: over a roster's or an electorate's rows the ORM's handling of a result costs
    more than the reading (some 2 us a row), and adds nothing to plain columns. The session's pending
    changes are flushed first, as its own ``execute`` would."""
    db.session.flush()
    return db.session.connection().execute(statement)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a bulk operation builds many objects that live as
    long as it runs (a roster's members, their rows, the report).

    Each collection walks every object still alive, and the collector runs again every few thousand
    objects made: half of an import of 100,000 members went on walking its own members again and
    again. What the operation leaves behind is collected as usual once it ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
