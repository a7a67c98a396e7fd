"""Failed logins on the simulated API, recorded apart from every run's journal.

A request that names a run's username with the wrong password is not that run's client:
it never enters the run's journal, so it can never count as a poll, fire a trigger or
decide a verdict. It is counted here instead, with the last few attempts kept for the UI.

Anyone can send such requests, as fast as they like, so they are not written one by one:
each process gathers them in memory and one thread writes what has gathered, at most
every ``FLUSH_SECONDS``, in one transaction. A flood costs the database a few writes a
second, never one per request, and never holds up the journal of real clients. What
gathered in the last moment before a crash is lost: this is a tally, not evidence.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.store.models import AuthFailureTally, Run, Tenant, TenantAuthFailureTally

RECENT = 5  # attempts kept per run
FLUSH_SECONDS = 0.1
WRITE_ATTEMPTS = 3
log = logging.getLogger(__name__)
_TALLY = AuthFailureTally
_TENANT_TALLY = TenantAuthFailureTally
# A tenant's failures share the recorder with the runs', under this prefix of the key.
TENANT_KEY = "tenant:"


@dataclass
class _Gathered:
    """A run's failed attempts not yet written."""

    first_at: datetime
    count: int = 0
    last_at: datetime | None = None
    recent: list[dict[str, Any]] = field(default_factory=list)


class FailureRecorder:
    """One per process: gathers failed attempts and writes them in batches on its thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._written = threading.Condition(self._lock)
        self._pending: dict[str, _Gathered] = {}
        self._accepted = 0
        self._done = 0
        self._closing = False
        self._thread: threading.Thread | None = None
        self.batches = 0  # for tests: transactions written

    def record(self, run_id: str, at: datetime, attempt: dict[str, Any]) -> None:
        """Count one failed attempt on ``run_id``; returns at once (written soon after)."""
        with self._lock:
            if self._closing:
                return
            gathered = self._pending.setdefault(run_id, _Gathered(first_at=at))
            gathered.count += 1
            gathered.last_at = at
            gathered.recent.append(attempt)
            del gathered.recent[:-RECENT]
            self._accepted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="auth-failures", daemon=True)
                self._thread.start()
            self._work.notify()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every attempt recorded so far is written."""
        deadline = time.monotonic() + timeout
        with self._lock:
            ticket = self._accepted
            while self._done < ticket and self._thread is not None:
                if not self._written.wait(max(0.0, deadline - time.monotonic())):
                    return

    def close(self, timeout: float = 10.0) -> None:
        """Write what is waiting and stop the thread."""
        with self._lock:
            self._closing = True
            self._work.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._work.wait()
                if not self._pending:
                    self._written.notify_all()
                    return
                batch, self._pending = self._pending, {}
                last = self._accepted
            try:
                self._write(batch)
            except Exception:  # the thread must live on, whatever went wrong
                log.exception("failed logins of %d runs not recorded", len(batch))
            with self._lock:
                self._done = last
                self._written.notify_all()
                closing = self._closing
            if not closing:
                time.sleep(FLUSH_SECONDS)

    def _write(self, batch: dict[str, _Gathered]) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    for run_id in sorted(batch):  # one lock order for every process
                        _add(connection, run_id, batch[run_id])
                self.batches += 1
                return
            except DBAPIError:
                # A busy SQLite file, or another process that inserted the row first.
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))


def _add(connection: Connection, key: str, gathered: _Gathered) -> None:
    """Add ``gathered`` to the run's (or tenant's) tally; one deleted meanwhile gets none."""
    if key.startswith(TENANT_KEY):
        name = key.removeprefix(TENANT_KEY)
        _add_to(connection, _TENANT_TALLY, _TENANT_TALLY.tenant, Tenant.name, name, gathered)
    else:
        _add_to(connection, _TALLY, _TALLY.run_id, Run.id, key, gathered)


def _add_to(
    connection: Connection,
    table: type[AuthFailureTally] | type[TenantAuthFailureTally],
    column: Any,
    owner: Any,
    key: str,
    gathered: _Gathered,
) -> None:
    where = column == key
    # Write first, so this transaction holds the write lock before it reads (SQLite).
    changed = connection.execute(
        update(table)
        .where(where)
        .values(count=table.count + gathered.count, last_at=gathered.last_at)
    )
    if changed.rowcount == 0:
        if connection.execute(select(owner).where(owner == key)).first() is None:
            return
        connection.execute(
            insert(table).values(
                {
                    column.key: key,
                    "count": gathered.count,
                    "first_at": gathered.first_at,
                    "last_at": gathered.last_at,
                    "recent": gathered.recent,
                }
            )
        )
        return
    kept = connection.execute(select(table.recent).where(where)).scalar_one()
    recent = [*(kept or []), *gathered.recent][-RECENT:]
    connection.execute(update(table).where(where).values(recent=recent))


def tally_of(session: Session, run_id: str) -> dict[str, Any] | None:
    """The run's failed logins as written so far: count, first and last time, the last few."""
    return _tally(session.get(AuthFailureTally, run_id))


def tenant_tally_of(session: Session, name: str) -> dict[str, Any] | None:
    """The tenant's failed logins as written so far, like :func:`tally_of`."""
    return _tally(session.get(TenantAuthFailureTally, name))


def _tally(row: AuthFailureTally | TenantAuthFailureTally | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "count": row.count,
        "firstAt": row.first_at,
        "lastAt": row.last_at,
        "recent": list(reversed(row.recent or [])),  # newest first
    }


class RecorderSlot:
    """The app's recorder, made afresh in each process: the server forks after the app is built."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pid = -1
        self._recorder: FailureRecorder | None = None
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", self.close)

    def get(self) -> FailureRecorder:
        """This process's recorder."""
        with self._lock:
            if self._recorder is None or self._pid != os.getpid():
                self._recorder = FailureRecorder(self.engine)
                self._pid = os.getpid()
                atexit.register(self._recorder.close)
            return self._recorder

    def record(self, run_id: str, at: datetime, attempt: dict[str, Any]) -> None:
        """Count one failed attempt on ``run_id`` in this process's recorder."""
        self.get().record(run_id, at, attempt)

    def flush(self) -> None:
        """Wait until this process's recorder has written what it was given."""
        if self._recorder is not None and self._pid == os.getpid():
            self._recorder.flush()

    def close(self, _engine: Engine | None = None) -> None:
        """Write what is waiting and stop this process's recorder (with ``engine.dispose``)."""
        with self._lock:
            recorder, self._recorder = self._recorder, None
            if recorder is None or self._pid != os.getpid():
                return
        atexit.unregister(recorder.close)
        recorder.close()
