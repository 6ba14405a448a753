"""Core statements run on the database driver's own cursor: the writes of a cast.

SQLAlchemy's execution of a statement (an execution context, its events, a
result object) costs more than the driver and the database spend on a cast's
INSERT (bench/README.md, "Casting"). A ``Prepared`` statement is compiled by
SQLAlchemy once per dialect, exactly as it would compile it, and its parameters
pass through the same bind processors (a timestamp stored as SQLite text, say);
then it runs on the connection's driver cursor, inside the connection's
transaction, which the unit of work commits as always.

What the driver raises is the driver's own error: catch
``connection.dialect.loaded_dbapi.IntegrityError``. Rows come back as the
driver returns them, without SQLAlchemy's result processing: these are for
writes, and for the plain values they return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.expression import Executable


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # the parameters' order for a positional driver (SQLite); None: by name
    defaults: dict[str, Any]  # values bound in the statement itself, such as a status it checks
    processors: dict[str, Callable[[Any], Any]]


class Prepared:
    """A Core statement compiled once per dialect, run on the driver's cursor."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def first(self, connection: Connection, parameters: dict[str, Any]) -> tuple | None:
        """Run the statement in the connection's transaction; the first row it returns, if any."""
        compiled = self._compiled.get(connection.dialect.name) or self._compile(connection.dialect)
        values = compiled.defaults | parameters
        for name, process in compiled.processors.items():
            values[name] = process(values[name])
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if compiled.positions is None:
                cursor.execute(compiled.sql, values)
            else:
                cursor.execute(compiled.sql, [values[name] for name in compiled.positions])
            return cursor.fetchone() if cursor.description else None
        finally:
            cursor.close()

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        # A statement that SQLAlchemy would rewrite per execution (IN lists, literal binds, escaped names) is not
        # one to run this way.
        assert not compiled.literal_execute_params and not compiled.post_compile_params
        assert not compiled.escaped_bind_names
        processors = {}
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        positions = tuple(compiled.positiontup) if compiled.positional else None
        result = _Compiled(compiled.string, positions, {k: v for k, v in compiled.params.items() if v is not None},
                           processors)
        self._compiled[dialect.name] = result
        return result
