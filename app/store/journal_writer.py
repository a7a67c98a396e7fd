"""Group commit for journal entries: one transaction for every entry that waits at once.

Every request on the simulated API writes one journal entry, and it must be stored
before the response leaves (scenario triggers and scoring read the journal). One write
transaction per request makes the threads of a worker queue for SQLite's single write
lock, each sleeping in its busy handler. Here the threads hand their entry to the
process's writer instead: the first to arrive writes everything that is waiting, in one
transaction, while the others wait for it — the group commit databases use for their
own logs. Nothing is buffered past the response: ``write`` returns once the entry is
committed (or has been given up on, which is logged).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select, update

from app.store import driver
from app.store.models import JournalEntry, Run

TRIM_STEP = 50
WRITE_ATTEMPTS = 5
log = logging.getLogger(__name__)

_COLUMNS = [c for c in JournalEntry.__table__.columns if c.key != "id"]
_INSERT = insert(JournalEntry).values({c.key: bindparam(c.key, type_=c.type) for c in _COLUMNS})
_COUNT = (
    update(Run)
    .where(Run.id == bindparam("run_id"))
    .values(journal_count=Run.journal_count + bindparam("added"))
    .returning(Run.journal_count)
)
_CUTOFF = (
    select(JournalEntry.id)
    .where(JournalEntry.run_id == bindparam("run_id"))
    .order_by(JournalEntry.id.desc())
    .offset(bindparam("keep"))
    .limit(1)
)
_TRIM = delete(JournalEntry).where(
    JournalEntry.run_id == bindparam("run_id"), JournalEntry.id <= bindparam("cutoff")
)


def trim_step(cap: int) -> int:
    """How many entries a trim drops at once: a run never holds more than ``cap``."""
    return max(1, min(TRIM_STEP, cap // 10))


class JournalWriter:
    """One per process: takes entries from request threads and commits them in groups."""

    def __init__(self, engine: Engine, cap: int) -> None:
        self.engine = engine
        self.cap = cap
        self.step = trim_step(cap)
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._writing = False
        self._issued = 0  # tickets handed out
        self._done = 0  # every ticket up to this one is written (or given up on)
        self.batches = 0  # for benchmarks and tests: transactions committed
        self._between_processes = _file_lock(engine)
        self._connection: Any = None

    def write(self, entry: dict[str, Any]) -> None:
        """Store ``entry`` (a row of ``journal``); return once it is committed."""
        with self._cond:
            self._pending.append(entry)
            self._issued += 1
            ticket = self._issued
            while self._done < ticket:
                if not self._writing:
                    break
                self._cond.wait()
            else:
                return
            batch, self._pending = self._pending, []
            last = self._issued
            self._writing = True
        try:
            self._write_batch(batch)
        finally:
            with self._cond:
                self._writing = False
                self._done = last
                self._cond.notify_all()

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                # Only the leader writes, one batch at a time: it keeps one connection.
                if self._connection is None:
                    self._connection = self.engine.raw_connection()
                with self._between_processes:
                    cursor = self._connection.cursor()
                    try:
                        self._store(cursor, batch)
                    except BaseException:
                        # Never keep a half-written transaction: on SQLite it would hold
                        # the write lock for good.
                        cursor.close()
                        self._drop_connection()
                        raise
                    cursor.close()
                    self._connection.commit()
                self.batches += 1
                return
            except self.engine.dialect.loaded_dbapi.Error:
                self._drop_connection()
                if attempt == WRITE_ATTEMPTS - 1:
                    log.exception(
                        "%d journal entries lost after %d attempts", len(batch), attempt + 1
                    )
                    return
                time.sleep(0.005 * (attempt + 1))

    def _drop_connection(self) -> None:
        """Roll back and give up the connection (it may be broken); the next batch opens one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.rollback()
                connection.close()
            except self.engine.dialect.loaded_dbapi.Error:
                connection.invalidate()

    def _store(self, cursor: Any, batch: list[dict[str, Any]]) -> None:
        """Count, insert and trim in one transaction, so readers never see more than the cap."""
        per_run = Counter(entry["run_id"] for entry in batch)
        kept: list[dict[str, Any]] = []
        to_trim: list[str] = []
        # One lock order for every writer, so two workers' batches cannot deadlock (PostgreSQL).
        for run_id, added in sorted(per_run.items()):
            row = driver.compiled(_COUNT, self.engine).one(
                cursor, {"run_id": run_id, "added": added}
            )
            if row is None:  # the run was deleted while the request was served
                continue
            new_count = int(row[0])
            kept.extend(entry for entry in batch if entry["run_id"] == run_id)
            if self._crosses_trim_point(new_count - added, new_count):
                to_trim.append(run_id)
        if kept:
            driver.compiled(_INSERT, self.engine).run_many(cursor, kept)
        for run_id in to_trim:
            self._trim(cursor, run_id, self.cap - self.step + 1)

    def _crosses_trim_point(self, old: int, new: int) -> bool:
        """Trim at counts ``cap + 1``, ``cap + 1 + step``, …: between two trims a run's
        entries grow from ``cap - step + 1`` to at most ``cap``."""
        if new <= self.cap:
            return False
        if old <= self.cap:
            return True
        return (new - self.cap - 1) // self.step != (old - self.cap - 1) // self.step

    def _trim(self, cursor: Any, run_id: str, keep: int) -> None:
        """Drop a run's oldest entries beyond the ``keep`` newest."""
        row = driver.compiled(_CUTOFF, self.engine).one(cursor, {"run_id": run_id, "keep": keep})
        if row is not None:
            driver.compiled(_TRIM, self.engine).run(cursor, {"run_id": run_id, "cutoff": row[0]})


class _FileLock:
    """An exclusive ``flock`` beside the SQLite file, taken around each journal transaction.

    SQLite makes a second process's writer poll for the lock, sleeping 1, 2, 5, 10, … ms
    between tries; with every worker writing a batch every few milliseconds those sleeps
    became the latency tail. A blocking ``flock`` wakes the next writer as soon as the
    lock is free.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: Any = None

    def __enter__(self) -> None:
        if self._file is None:  # one open file per process, for its life
            self._file = open(self.path, "a")  # noqa: SIM115
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)


def _file_lock(engine: Engine) -> AbstractContextManager[None]:
    """The cross-process lock for a SQLite file; nothing for PostgreSQL or memory."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext()
    return _FileLock(f"{database}-journal-writer.lock")


class WriterSlot:
    """The app's writer, made afresh in each process: gunicorn forks after the app is built."""

    def __init__(self, engine: Engine, cap: int) -> None:
        self.engine = engine
        self.cap = cap
        self._pid = -1
        self._writer: JournalWriter | None = None
        self._lock = threading.Lock()

    def get(self) -> JournalWriter:
        """This process's writer."""
        writer = self._writer
        if writer is not None and self._pid == os.getpid():
            return writer
        with self._lock:
            if self._writer is None or self._pid != os.getpid():
                self._writer = JournalWriter(self.engine, self.cap)
                self._pid = os.getpid()
            return self._writer
