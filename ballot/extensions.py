"""Flask extensions, created once here and bound to the app in ``create_app``."""

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    if TYPE_CHECKING:
        # Every model here is declared with __tablename__, so its __table__ is a Table
        # (SQLAlchemy types it as any FromClause, which bulk inserts cannot take).
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# The models' base class. Flask-SQLAlchemy makes db.Model at run time, a subclass
# of Base, which a type checker cannot follow: it sees Base instead.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()


class _Limiter(Limiter):
    """Flask-Limiter, its check before each request skipped for the pages exempt from every limit.

    Every limit here is its own route's decorator, checked when that view runs; the check before each
    request is for limits on every page, of which there are none, yet it would resolve an exempt
    page's limits all the same. The ballot page is the busiest page there is.
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and current_app.view_functions.get(request.endpoint or "") in _unlimited_views:
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = _Limiter(key_func=get_remote_address)

View = TypeVar("View", bound=Callable)
_unlimited_views: set[Callable] = set()


def unlimited(view: View) -> View:
    """Exempt a page from the rate limits: a signed link that acts once (docs/DOMAIN.md, "Rate limits")."""
    _unlimited_views.add(view)
    limiter.exempt(view)
    return view


def serialise_sqlite_transactions(engine: Engine) -> None:
    """SQLite, the embedded default: let SQLAlchemy, not the driver, start
    transactions, take the write lock when a transaction begins
    (BEGIN IMMEDIATE), and overwrite what is deleted (secure_delete). SQLite then serialises transactions instead of
    failing a write whose snapshot went stale, and a check made early in a
    transaction still holds when it commits.

    The hooks go on the SQLite engine only: a connection with event hooks
    pays for dispatching every statement's events, and PostgreSQL needs none.
    """
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection, connection_record):
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    dbapi_connection.execute("PRAGMA busy_timeout = 30000")
    # Deleted content is overwritten with zeros, not left in free space: the sealed ballots deleted at
    # a close are gone from the file (docs/DOMAIN.md). Not every SQLite build does it by default.
    dbapi_connection.execute("PRAGMA secure_delete = ON")


def _sqlite_begin(connection):
    # On the driver's connection: every transaction begins here, and SQLAlchemy's execution of a
    # statement (its context, events and result) costs ten times what SQLite does for this one.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")
