"""The hot path's SQL: Core statements compiled once per dialect, run on the DBAPI cursor.

For a one-row statement SQLAlchemy's per-execution work (cache key, parameter and result
processing, transaction bookkeeping) costs ten times what SQLite itself spends. The few
statements every client request runs are therefore written as ordinary Core statements
(so table and column names stay in ``models``), compiled here once per dialect with
their columns' bind processors, and executed straight on a DBAPI connection (the
journal writer's own, or one of the process's read connections). Everything else goes through
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
        # Positional drivers: each place's name and processor, looked up once here.
        self._places = tuple((name, self.processors.get(name)) for name in self.order)

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """``values`` (by bind name) as the driver wants them: processed, in its paramstyle."""
        if self.fixed:
            values = {**self.fixed, **values}
        if self.positional:
            return [
                values[name] if process is None else process(values[name])
                for name, process in self._places
            ]
        processors = self.processors
        return {
            name: processors[name](value) if name in processors else value
            for name, value in values.items()
        }

    def one(self, cursor: Any, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """Execute and return the first row (or None)."""
        cursor.execute(self.sql, self.parameters(values))
        row = cursor.fetchone()
        return tuple(row) if row is not None else None

    def all(self, cursor: Any, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Execute and return every row."""
        cursor.execute(self.sql, self.parameters(values))
        return [tuple(row) for row in cursor.fetchall()]

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


MAX_IDLE_READERS = 16


class _Readers:
    """A process's idle read connections to one engine, outside SQLAlchemy's pool.

    Checking a pooled connection out and back in (with its rollback) cost more than the
    read itself. These are handed out as they are: SQLite's driver begins no transaction
    for a SELECT, so each read sees the latest commit, and PostgreSQL's connections are
    in autocommit for the same effect.
    """

    def __init__(self) -> None:
        # No reference to the engine: it is the key of the weak mapping that holds these.
        self.pid = os.getpid()
        self.idle: list[Any] = []
        self.lock = threading.Lock()

    def take(self, engine: Engine) -> Any:
        """An idle connection, or a new one to ``engine``."""
        with self.lock:
            if self.idle:
                return self.idle.pop()
        pooled = engine.raw_connection()
        pooled.detach()  # the pool forgets it: it is ours to close
        connection: Any = pooled.dbapi_connection
        if engine.dialect.name == "postgresql":
            connection.autocommit = True
        return connection

    def give_back(self, connection: Any) -> None:
        """Keep ``connection`` for the next read (close it when enough are idle)."""
        with self.lock:
            if len(self.idle) < MAX_IDLE_READERS:
                self.idle.append(connection)
                return
        connection.close()


_readers: weakref.WeakKeyDictionary[Engine, _Readers] = weakref.WeakKeyDictionary()
_readers_lock = threading.Lock()


def _readers_of(engine: Engine) -> _Readers:
    """This process's read connections to ``engine`` (a fresh set after a fork)."""
    readers = _readers.get(engine)
    if readers is None or readers.pid != os.getpid():
        with _readers_lock:
            readers = _readers.get(engine)
            if readers is None or readers.pid != os.getpid():
                readers = _readers[engine] = _Readers()
    return readers


def read_one(engine: Engine, statement: ClauseElement, values: dict[str, Any]) -> Any:
    """Run a one-row read on a read connection; the row as a tuple, or None.

    A connection that fails (a restarted server, say) is closed and the read tried once
    more on a new one.
    """
    prepared = compiled(statement, engine)
    readers = _readers_of(engine)
    for attempt in (1, 2):
        connection = readers.take(engine)
        try:
            cursor = connection.cursor()
            try:
                row = prepared.one(cursor, values)
            finally:
                cursor.close()
        except engine.dialect.loaded_dbapi.Error:
            with contextlib.suppress(engine.dialect.loaded_dbapi.Error):
                connection.close()
            if attempt == 2:
                raise
            continue
        readers.give_back(connection)
        return row
    raise AssertionError("unreachable")


def close_readers(engine: Engine) -> None:
    """Close this process's idle read connections to ``engine`` (with ``engine.dispose``)."""
    readers = _readers.pop(engine, None)
    if readers is not None and readers.pid == os.getpid():
        with readers.lock:
            idle, readers.idle = readers.idle, []
        for connection in idle:
            with contextlib.suppress(engine.dialect.loaded_dbapi.Error):
                connection.close()
