"""Journal entries committed in groups before their answers leave (a durable group commit).

Every request on the simulated API records one journal entry, and its answer leaves
only once that entry is committed: "nothing answered is lost", even under ``kill -9``.
Committing one transaction per request made every request wait for SQLite's single
write lock and for the threads ahead of it, so each worker has one writer thread: a
request hands its entry in and waits; the thread commits everything that has arrived
in one transaction as soon as the previous one is done (the group commit databases use
for their own logs), then wakes the requests it wrote.

A request that changes its run (an innsending, a supplering) does not come here: its
entry is written by :func:`store` in the same transaction as the change
(``app.engine.apply``), so a crash can never leave the case changed and the exchange
unrecorded.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import logging
import os
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Select, bindparam, delete, event, insert, select, update

from app.store import driver, journal_folding
from app.store.models import JournalEntry, Run

TRIM_STEP = 500
WRITE_ATTEMPTS = 5
log = logging.getLogger(__name__)

_COLUMNS = [c for c in JournalEntry.__table__.columns if c.key != "id"]
_INSERT = insert(JournalEntry).values({c.key: bindparam(c.key, type_=c.type) for c in _COLUMNS})
_COUNT = (
    update(Run)
    .where(Run.id == bindparam("run_id"))
    .values(
        journal_count=Run.journal_count + bindparam("added"),
        last_exchange_at=bindparam("at", type_=Run.last_exchange_at.type),
    )
)
COUNTS_AT_ONCE = 64  # runs whose counts one statement reads back


@functools.cache
def _counts_of(size: int) -> Select[str, int]:
    """The journal counts of ``size`` runs, bound as ``run0``, ``run1``, … (one statement
    per size, so each is compiled once)."""
    return select(Run.id, Run.journal_count).where(
        Run.id.in_([bindparam(f"run{i}", type_=Run.id.type) for i in range(size)])
    )


_CUTOFF = (
    select(JournalEntry.id)
    .where(JournalEntry.run_id == bindparam("run_id"))
    .order_by(JournalEntry.id.desc())
    .offset(bindparam("keep"))
    .limit(1)
)
# A client's writes (innsending, supplering) decide verdicts and are few: never trimmed.
_TRIM = delete(JournalEntry).where(
    JournalEntry.run_id == bindparam("run_id"),
    JournalEntry.id <= bindparam("cutoff"),
    JournalEntry.method != "POST",
)


def trim_step(cap: int) -> int:
    """How many entries a trim drops at once: a run never holds more than ``cap``."""
    return max(1, min(TRIM_STEP, cap // 10))


class JournalWriter:
    """One per process: takes entries from request threads and commits them in groups."""

    def __init__(self, engine: Engine, cap: int) -> None:
        self.engine = engine
        self.cap = cap
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the writer thread waits here
        # Each entry waits on a gate of its own, held until its batch is committed: the
        # writer wakes exactly the requests it wrote, with no shared condition for them to
        # queue on again (alternating A/B runs: 1.05-1.2 x the throughput of one notify_all).
        self._pending: list[tuple[dict[str, Any], threading.Lock]] = []
        self._closing = False
        self._thread: threading.Thread | None = None
        self.batches = 0  # for benchmarks and tests: transactions committed
        self._between_processes = _file_lock(engine)
        self._connection: Any = None

    def write(self, entry: dict[str, Any]) -> None:
        """Hand in ``entry`` (a row of ``journal``) and return once it is committed."""
        gate = threading.Lock()
        gate.acquire()
        with self._lock:
            if self._closing:
                raise RuntimeError("the journal writer is closed")
            self._pending.append((entry, gate))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="journal-writer", daemon=True
                )
                self._thread.start()
            self._work.notify()
        gate.acquire()  # released by the writer once the entry's batch is written

    def close(self, timeout: float = 10.0) -> None:
        """Write what is waiting, stop the thread and close the connection (at the end)."""
        with self._lock:
            self._closing = True
            self._work.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return  # still writing: leave it its connection
        self._drop_connection()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._work.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
            try:
                self._write_batch([entry for entry, _gate in batch])
            except Exception:  # a bug in our own code: the thread must live on
                log.exception("%d journal entries lost", len(batch))
            for _entry, gate in batch:
                gate.release()

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                # Only the leader writes, one batch at a time: it keeps one connection.
                if self._connection is None:
                    self._connection = self.engine.raw_connection()
                with self._between_processes:
                    cursor = self._connection.cursor()
                    try:
                        store(cursor, self.engine, self.cap, batch)
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


def store(cursor: Any, engine: Engine, cap: int, batch: list[dict[str, Any]]) -> None:
    """Count, insert and trim in the cursor's transaction, so readers never see more than
    the cap; the caller commits."""
    step = trim_step(cap)
    per_run = Counter(entry["run_id"] for entry in batch)
    # One lock order for every writer, so two workers' batches cannot deadlock (PostgreSQL).
    run_ids = sorted(per_run)
    at = datetime.now(UTC)
    driver.compiled(_COUNT, engine).run_many(
        cursor, [{"run_id": run_id, "added": per_run[run_id], "at": at} for run_id in run_ids]
    )
    # The counts as updated: the rows are this transaction's until it commits.
    counts: dict[str, int] = {}
    for start in range(0, len(run_ids), COUNTS_AT_ONCE):
        chunk = run_ids[start : start + COUNTS_AT_ONCE]
        read = driver.compiled(_counts_of(len(chunk)), engine)
        counts.update(read.all(cursor, {f"run{i}": r for i, r in enumerate(chunk)}))
    # A run deleted while its request was served has no count: its entries are dropped.
    kept = [entry for entry in batch if entry["run_id"] in counts]
    to_trim = [
        run_id
        for run_id in run_ids
        if run_id in counts
        and crosses_trim_point(cap, step, counts[run_id] - per_run[run_id], counts[run_id])
    ]
    rows = journal_folding.fold(cursor, engine, kept)
    if rows:
        driver.compiled(_INSERT, engine).run_many(cursor, rows)
    for run_id in to_trim:
        row = driver.compiled(_CUTOFF, engine).one(
            cursor, {"run_id": run_id, "keep": cap - step + 1}
        )
        if row is not None:
            driver.compiled(_TRIM, engine).run(cursor, {"run_id": run_id, "cutoff": row[0]})


def crosses_trim_point(cap: int, step: int, old: int, new: int) -> bool:
    """Trim at counts ``cap + 1``, ``cap + 1 + step``, …: between two trims a run's
    entries grow from ``cap - step + 1`` to at most ``cap``."""
    if new <= cap:
        return False
    if old <= cap:
        return True
    return (new - cap - 1) // step != (old - cap - 1) // step


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
    """The app's writer, made afresh in each process: the server forks after the app is built."""

    def __init__(self, engine: Engine, cap: int) -> None:
        self.engine = engine
        self.cap = cap
        self._pid = -1
        self._writer: JournalWriter | None = None
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", self.close)

    def get(self) -> JournalWriter:
        """This process's writer."""
        writer = self._writer
        if writer is not None and self._pid == os.getpid():
            return writer
        with self._lock:
            if self._writer is None or self._pid != os.getpid():
                self._writer = JournalWriter(self.engine, self.cap)
                self._pid = os.getpid()
                atexit.register(self._writer.close)
            return self._writer

    def close(self, _engine: Engine | None = None) -> None:
        """Write what is waiting and close this process's writer (with ``engine.dispose``);
        the next write opens a new one."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is None or self._pid != os.getpid():
                return
        atexit.unregister(writer.close)
        writer.close()

    def write(self, entry: dict[str, Any]) -> None:
        """Hand ``entry`` to this process's writer and return once it is committed."""
        self.get().write(entry)
