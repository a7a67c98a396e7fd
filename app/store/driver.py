"""The hot path's SQL: Core statements compiled once per dialect, run on the DBAPI cursor.

For a one-row statement SQLAlchemy's per-execution work (cache key, parameter and result
processing, transaction bookkeeping) costs ten times what SQLite itself spends. The few
statements every client request runs are therefore written as ordinary Core statements
(so table and column names stay in ``models``), compiled here once per dialect with
their columns' bind processors, and executed straight on a pooled DBAPI connection.
Everything else goes through the ORM as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


class DriverStatement:
    """One Core statement compiled for one dialect, with its parameters' bind processors."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.order: Sequence[str] = tuple(compiled.positiontup or ())
        self.processors: dict[str, Callable[[Any], Any]] = {}
        # Values written into the statement itself (``limit(1)``); callers name the rest.
        self.fixed = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if bind.value is not None
        }
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """``values`` (by bind name) as the driver wants them: processed, in its paramstyle."""
        if self.fixed:
            values = {**self.fixed, **values}
        processors = self.processors
        if self.positional:
            return tuple(
                processors[name](values[name]) if name in processors else values[name]
                for name in self.order
            )
        return {
            name: processors[name](value) if name in processors else value
            for name, value in values.items()
        }

    def one(self, cursor: Any, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """Execute and return the first row (or None)."""
        cursor.execute(self.sql, self.parameters(values))
        row = cursor.fetchone()
        return tuple(row) if row is not None else None

    def run(self, cursor: Any, values: dict[str, Any]) -> None:
        """Execute for its effect."""
        cursor.execute(self.sql, self.parameters(values))

    def run_many(self, cursor: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Execute once per row, in one driver call."""
        cursor.executemany(self.sql, [self.parameters(row) for row in rows])


_compiled: dict[tuple[int, str], DriverStatement] = {}
_lock = threading.Lock()


def compiled(statement: ClauseElement, engine: Engine) -> DriverStatement:
    """``statement`` compiled for ``engine``'s dialect (once; statements are module constants)."""
    key = (id(statement), f"{engine.dialect.name}+{engine.dialect.driver}")
    found = _compiled.get(key)
    if found is None:
        with _lock:
            found = _compiled.setdefault(key, DriverStatement(statement, engine.dialect))
    return found


@contextmanager
def cursor(engine: Engine) -> Iterator[Any]:
    """A cursor on a pooled DBAPI connection, for reads; rolled back and returned after."""
    connection = engine.raw_connection()
    try:
        dbapi_cursor = connection.cursor()
        try:
            yield dbapi_cursor
        finally:
            dbapi_cursor.close()
        connection.rollback()
    finally:
        connection.close()
