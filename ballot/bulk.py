"""Writing many rows at once: the one place that knows how, per database.

PostgreSQL takes rows fastest through COPY (a 100,000-member roster, a vote's
electorate and its ballot links); SQLite through an executemany INSERT. Both
write inside the session's current transaction, so a failure later in the
same service still leaves nothing behind.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, insert

from ballot.extensions import db

if TYPE_CHECKING:
    import psycopg


def insert_rows(table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the current transaction."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
    processors = {
        name: table.columns[name].type.bind_processor(connection.dialect) for name in columns
        if name not in json_columns
    }
    # PostgreSQL is reached through psycopg 3 (postgresql+psycopg://), whose cursors copy.
    driver_connection = cast("psycopg.Connection", connection.connection.dbapi_connection)
    with driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([
                    json.dumps(row[name]) if name in json_columns
                    else (processors[name](row[name]) if processors[name] else row[name])
                    for name in columns
                ])
