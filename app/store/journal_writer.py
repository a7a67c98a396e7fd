"""Journal entries written behind the response, in groups, by one thread per worker.

Every request on the simulated API records one journal entry. Committing it before the
response leaves made every request wait for SQLite's single write lock and for the
threads ahead of it. Here a request hands its entry to its worker's writer thread and
goes on; the thread commits everything that has arrived, in one transaction, as soon as
the previous one is done (the group commit databases use for their own logs).

Nothing that reads the journal sees less for it:

- a request whose run can be changed by its own journal — a step that waits for a client
  action, or faults that count requests — waits until its entry is committed, as before;
- every other reader first calls ``settle``: it waits until every writer on the host has
  committed what it had accepted (``journal_progress``), so the control plane, the UI,
  scoring and the engine see each exchange that was answered before they asked.

The progress board is a file, so writing behind needs every worker on one host: the
default for SQLite (whose WAL needs that anyway), and a choice for PostgreSQL
(``SANDBOX_JOURNAL_WRITE_BEHIND``). Without it every request waits for its entry.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import logging
import os
import threading
import time
import weakref
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    delete,
    event,
    insert,
    select,
    update,
)

from app.store import driver
from app.store.journal_progress import ProgressBoard, board_path
from app.store.models import JournalEntry, Run

TRIM_STEP = 500
WRITE_ATTEMPTS = 5
MAX_PENDING = 5000  # entries a worker holds uncommitted before requests wait for theirs
SETTLE_TIMEOUT = 30.0  # seconds a reader waits for the writers before it reads anyway
log = logging.getLogger(__name__)

_COLUMNS = [c for c in JournalEntry.__table__.columns if c.key != "id"]
_INSERT = insert(JournalEntry).values({c.key: bindparam(c.key, type_=c.type) for c in _COLUMNS})
_COUNT = (
    update(Run)
    .where(Run.id == bindparam("run_id"))
    .values(journal_count=Run.journal_count + bindparam("added"))
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
_TRIM = delete(JournalEntry).where(
    JournalEntry.run_id == bindparam("run_id"), JournalEntry.id <= bindparam("cutoff")
)


def trim_step(cap: int) -> int:
    """How many entries a trim drops at once: a run never holds more than ``cap``."""
    return max(1, min(TRIM_STEP, cap // 10))


class JournalWriter:
    """One per process: takes entries from request threads and commits them in groups."""

    def __init__(self, engine: Engine, cap: int, board: ProgressBoard | None = None) -> None:
        self.engine = engine
        self.cap = cap
        self.step = trim_step(cap)
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the writer thread waits here
        self._written = threading.Condition(self._lock)  # requests and readers wait here
        self._pending: list[dict[str, Any]] = []
        self._accepted = 0  # entries handed in
        self._done = 0  # every entry up to this one is written (or given up on)
        self._closing = False
        self._thread: threading.Thread | None = None
        self.batches = 0  # for benchmarks and tests: transactions committed
        self._between_processes = _file_lock(engine)
        self._connection: Any = None
        self.board = board or ProgressBoard(None)
        self.slot = self.board.claim()

    def write(self, entry: dict[str, Any], wait: bool = True) -> None:
        """Hand in ``entry`` (a row of ``journal``); with ``wait``, return once it is committed."""
        with self._lock:
            if self._closing:
                raise RuntimeError("the journal writer is closed")
            self._pending.append(entry)
            self._accepted += 1
            ticket = self._accepted
            if self.slot >= 0:
                self.board.accepted(self.slot, ticket)
            else:  # no place on the board: nobody could wait for us, so we wait
                wait = True
            if len(self._pending) > MAX_PENDING:  # the database falls behind: slow down
                wait = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="journal-writer", daemon=True
                )
                self._thread.start()
            self._work.notify()
            if wait:
                while self._done < ticket:
                    self._written.wait()

    def flush(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        """Wait until everything handed in so far is committed; False on timeout."""
        with self._lock:
            target = self._accepted
            return self._written.wait_for(lambda: self._done >= target, timeout)

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        """Wait until this and every other writer on the host has done what it had accepted."""
        return self.flush(timeout) and self.board.wait(timeout, skip=self.slot)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is waiting, stop the thread and close the connection (at the end)."""
        with self._lock:
            self._closing = True
            self._work.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return  # still writing: leave it its connection and its slot
        self._drop_connection()
        self.board.release(self.slot)
        self.board.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._work.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
                last = self._accepted
            try:
                self._write_batch(batch)
            except Exception:  # a bug in our own code: the thread must live on
                log.exception("%d journal entries lost", len(batch))
            with self._lock:
                self._done = last
                if self.slot >= 0:
                    self.board.done(self.slot, last)
                self._written.notify_all()

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
        # One lock order for every writer, so two workers' batches cannot deadlock (PostgreSQL).
        run_ids = sorted(per_run)
        driver.compiled(_COUNT, self.engine).run_many(
            cursor, [{"run_id": run_id, "added": per_run[run_id]} for run_id in run_ids]
        )
        # The counts as updated: the rows are this transaction's until it commits.
        counts: dict[str, int] = {}
        for start in range(0, len(run_ids), COUNTS_AT_ONCE):
            chunk = run_ids[start : start + COUNTS_AT_ONCE]
            read = driver.compiled(_counts_of(len(chunk)), self.engine)
            counts.update(read.all(cursor, {f"run{i}": r for i, r in enumerate(chunk)}))
        # A run deleted while its request was served has no count: its entries are dropped.
        kept = [entry for entry in batch if entry["run_id"] in counts]
        to_trim = [
            run_id
            for run_id in run_ids
            if run_id in counts
            and self._crosses_trim_point(counts[run_id] - per_run[run_id], counts[run_id])
        ]
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

    def __init__(self, engine: Engine, cap: int, write_behind: bool = True) -> None:
        self.engine = engine
        self.cap = cap
        self.write_behind = write_behind
        url = engine.url
        self.board_path = board_path(
            url.database, engine.dialect.name, url.render_as_string(hide_password=True)
        )
        self._pid = -1
        self._writer: JournalWriter | None = None
        self._lock = threading.Lock()
        _slots[id(engine)] = self
        event.listen(engine, "engine_disposed", self.close)

    def get(self) -> JournalWriter:
        """This process's writer."""
        writer = self._writer
        if writer is not None and self._pid == os.getpid():
            return writer
        with self._lock:
            if self._writer is None or self._pid != os.getpid():
                board = ProgressBoard(self.board_path if self.write_behind else None)
                self._writer = JournalWriter(self.engine, self.cap, board)
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

    def write(self, entry: dict[str, Any], wait: bool) -> None:
        """Hand ``entry`` to this process's writer; wait for it unless written behind."""
        self.get().write(entry, wait=wait or not self.write_behind)


# By the engine's id, holding the slot weakly: the slot holds its engine, so a mapping
# keyed by the engine itself would keep both alive for good.
_slots: weakref.WeakValueDictionary[int, WriterSlot] = weakref.WeakValueDictionary()


def settle(bind: Engine | Connection, timeout: float = SETTLE_TIMEOUT) -> None:
    """Before reading the journal: wait until every entry answered so far is committed."""
    slot = _slots.get(id(bind.engine))
    if slot is not None and slot.engine is bind.engine and slot.write_behind:
        slot.get().settle(timeout)
