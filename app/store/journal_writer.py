"""A batch of journal entries committed in one transaction: counted, inserted and trimmed.

Every request on the simulated API records one journal entry, and its answer leaves
only once that entry is committed: "nothing answered is lost", even under ``kill -9``.
Committing one transaction per request made every request wait for SQLite's single
write lock and for the threads ahead of it, so one writer commits everything that has
arrived in one transaction as soon as the previous one is done (the group commit
databases use for their own logs; the loop that gathers the batches and answers the
requests is ``app.store.journal_service``).

A request that changes its run (an innsending, a supplering) does not come here: its
entry is written by :func:`store` in the same transaction as the change
(``app.engine.apply``), so a crash can never leave the case changed and the exchange
unrecorded.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Select, bindparam, delete, insert, select, update

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


class Batcher:
    """Commits one batch of entries at a time on a connection of its own (the writer's)."""

    def __init__(self, engine: Engine, cap: int) -> None:
        self.engine = engine
        self.cap = cap
        self.batches = 0  # for benchmarks and tests: transactions committed
        self._between_processes = _file_lock(engine)
        self._connection: Any = None

    def write(self, batch: list[dict[str, Any]]) -> bool:
        """Count, insert and trim ``batch`` in one transaction; False if it could not be."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
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
                return True
            except self.engine.dialect.loaded_dbapi.Error:
                self._drop_connection()
                if attempt == WRITE_ATTEMPTS - 1:
                    log.exception(
                        "%d journal entries lost after %d attempts", len(batch), attempt + 1
                    )
                    return False
                time.sleep(0.005 * (attempt + 1))
        return False

    def close(self) -> None:
        """Give up the connection (at the end)."""
        self._drop_connection()

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
