"""The yardstick for casting throughput: a bare Flask app, one statement per route.

- ``POST /insert``: one INSERT, committed (beside the cast POST);
- ``GET /row/<token>``: one SELECT of a row by its token, its value as the answer
  (beside the ballot page); a voter's whole cast is set beside this GET, then
  the POST.

It runs under the same gunicorn settings as the service (config/gunicorn.conf.py)
against the same database, so the ratio of the two throughputs is what the
service's own work per ballot costs on top of HTTP, Flask and one committed
write. The table and the rows to read are made by ``create_table`` before
gunicorn starts, so that two workers never race to create them.

    BENCH_BARE_DATABASE_URL=sqlite:////tmp/x.sqlite3 \\
        gunicorn -c config/gunicorn.conf.py --pythonpath bench 'bare_app:create_app()'
"""

from __future__ import annotations

import os
import secrets
import sqlite3

from flask import Flask, abort, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Engine

metadata = MetaData()
bare_row = Table(
    "bench_bare_row",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(100), nullable=False, unique=True),
    Column("value", String(100), nullable=False),
)
db = SQLAlchemy(metadata=metadata)


@event.listens_for(Engine, "connect")
def _sqlite_wait_for_lock(dbapi_connection, connection_record):
    # Two workers write one SQLite file: wait for the lock as the service does.
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BENCH_BARE_DATABASE_URL"]
    db.init_app(app)

    @app.post("/insert")
    def insert_row():
        db.session.execute(
            insert(bare_row).values(token=secrets.token_urlsafe(32), value=request.form.get("value", ""))
        )
        db.session.commit()
        return "inserted\n"

    @app.get("/row/<token>")
    def read_row(token: str):
        value = db.session.execute(select(bare_row.c.value).where(bare_row.c.token == token)).scalar()
        if value is None:
            abort(404)
        return f"{value}\n"

    return app


def create_table(database_url: str, rows: int) -> None:
    """The table, with ``rows`` rows to read: tokens voter-0, voter-1, ..."""
    engine = create_engine(database_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(bare_row), [{"token": f"voter-{n}", "value": f"value{n}"} for n in range(rows)])
    engine.dispose()
