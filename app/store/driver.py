"""The hot path's SQL: Core statements compiled once per dialect, run on the DBAPI cursor.

For a one-row statement SQLAlchemy's per-execution work (cache key, parameter and result
processing, transaction bookkeeping) costs ten times what SQLite itself spends. The few
statements every client request runs are therefore written as ordinary Core statements
(so table and column names stay in ``models``), compiled here once per dialect with
their columns' bind processors, and executed straight on a DBAPI connection (the
journal writer's own, or the thread's read connection). Everything else goes through
the ORM as usual.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Sequence
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


class _Readers(threading.local):
    """Each thread's own read connection per engine, kept open between reads."""

    def __init__(self) -> None:
        self.by_engine: weakref.WeakKeyDictionary[Engine, tuple[int, Any]] = (
            weakref.WeakKeyDictionary()
        )


_readers = _Readers()


def _reader(engine: Engine) -> Any:
    """This thread's read connection to ``engine``: outside the pool, never in a transaction.

    Checking a pooled connection out and back in (with its rollback) cost more than the
    read itself. SQLite's driver begins no transaction for a SELECT, so each read sees the
    latest commit; PostgreSQL's connection is put in autocommit for the same effect.
    """
    found = _readers.by_engine.get(engine)
    if found is not None and found[0] == os.getpid():
        return found[1]
    pooled = engine.raw_connection()
    pooled.detach()  # the pool forgets it; it closes with this thread's reference
    connection: Any = pooled.dbapi_connection
    if engine.dialect.name == "postgresql":
        connection.autocommit = True
    _readers.by_engine[engine] = (os.getpid(), connection)
    return connection


def read_one(engine: Engine, statement: ClauseElement, values: dict[str, Any]) -> Any:
    """Run a one-row read on this thread's read connection; the row as a tuple, or None.

    A connection that fails (a restarted server, say) is dropped and the read tried once
    more on a new one.
    """
    prepared = compiled(statement, engine)
    for attempt in (1, 2):
        connection = _reader(engine)
        try:
            cursor = connection.cursor()
            try:
                return prepared.one(cursor, values)
            finally:
                cursor.close()
        except engine.dialect.loaded_dbapi.Error:
            _readers.by_engine.pop(engine, None)
            with contextlib.suppress(engine.dialect.loaded_dbapi.Error):
                connection.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
