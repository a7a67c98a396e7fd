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

import logging
import os
import threading
import time
from collections import Counter
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.store.models import JournalEntry, Run

TRIM_STEP = 50
WRITE_ATTEMPTS = 5
log = logging.getLogger(__name__)

_INSERT = insert(JournalEntry)


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
                with self.engine.begin() as connection:
                    self._store(connection, batch)
                self.batches += 1
                return
            except DBAPIError:
                if attempt == WRITE_ATTEMPTS - 1:
                    log.exception(
                        "%d journal entries lost after %d attempts", len(batch), attempt + 1
                    )
                    return
                time.sleep(0.005 * (attempt + 1))

    def _store(self, connection: Connection, batch: list[dict[str, Any]]) -> None:
        """Count, insert and trim in one transaction, so readers never see more than the cap."""
        per_run = Counter(entry["run_id"] for entry in batch)
        kept: list[dict[str, Any]] = []
        to_trim: list[str] = []
        # One lock order for every writer, so two workers' batches cannot deadlock (PostgreSQL).
        for run_id, added in sorted(per_run.items()):
            new_count = connection.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(journal_count=Run.journal_count + added)
                .returning(Run.journal_count)
            ).scalar_one_or_none()
            if new_count is None:  # the run was deleted while the request was served
                continue
            kept.extend(entry for entry in batch if entry["run_id"] == run_id)
            if self._crosses_trim_point(new_count - added, new_count):
                to_trim.append(run_id)
        if kept:
            connection.execute(_INSERT, kept)
        for run_id in to_trim:
            _trim(connection, run_id, self.cap - self.step + 1)

    def _crosses_trim_point(self, old: int, new: int) -> bool:
        """Trim at counts ``cap + 1``, ``cap + 1 + step``, …: between two trims a run's
        entries grow from ``cap - step + 1`` to at most ``cap``."""
        if new <= self.cap:
            return False
        if old <= self.cap:
            return True
        return (new - self.cap - 1) // self.step != (old - self.cap - 1) // self.step


def _trim(connection: Connection, run_id: str, keep: int) -> None:
    """Drop a run's oldest entries beyond the ``keep`` newest."""
    cutoff = connection.scalar(
        select(JournalEntry.id)
        .where(JournalEntry.run_id == run_id)
        .order_by(JournalEntry.id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is not None:
        connection.execute(
            delete(JournalEntry).where(JournalEntry.run_id == run_id, JournalEntry.id <= cutoff)
        )


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
