"""Runs as last read, kept per process and checked against the stored version on every use.

The store stays the only source of truth. A client request reads the run's small head
row (id, version, counters) and reuses the parsed run only while the stored version is
the one it was read at. Every change to a run's case, timeline, clock or status bumps
its version (``_mutate``, ``advance_clock``, ``finish_run``), so a worker never serves
what another worker has since changed; it merely skips re-parsing what has not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from app.domain.case import Sak
from app.engine.runs import load_sak
from app.store import driver
from app.store.models import Run

CACHE_SIZE = 2048

_HEAD_COLUMNS = (
    Run.id,
    Run.password_sha256,
    Run.version,
    Run.journal_count,
    Run.clock_poll_step_seconds,
)
_HEAD_BY_USERNAME = select(*_HEAD_COLUMNS).where(Run.username == bindparam("username"))
_HEAD_BY_ID = select(*_HEAD_COLUMNS).where(Run.id == bindparam("id"))


@dataclass(frozen=True)
class RunHead:
    """The few columns a client request needs before anything else."""

    id: str
    password_sha256: str
    version: int
    journal_count: int
    poll_step_seconds: float | None


@dataclass
class Snapshot:
    """A run as stored at one version, with values derived from it (never changed in place)."""

    run: Run
    memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """The stored version this snapshot shows."""
        return self.run.version

    def sak(self) -> Sak:
        """The case aggregate, parsed once per version."""
        sak = self.memo.get("sak")
        if sak is None:
            sak = self.memo["sak"] = load_sak(self.run)
        return sak


def head_by_username(engine: Engine, username: str) -> RunHead | None:
    """The head row of the run with these credentials, or None (one indexed read)."""
    row = driver.read_one(engine, _HEAD_BY_USERNAME, {"username": username})
    return RunHead(*row) if row is not None else None


class SnapshotCache:
    """Least-recently-used snapshots of up to ``size`` runs, safe to share between threads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # runs read in full: for tests and benchmarks

    def cached(self, run_id: str, version: int) -> Snapshot | None:
        """The kept snapshot of ``run_id`` if it shows ``version`` or later; else None."""
        with self._lock:
            snapshot = self._items.get(run_id)
            if snapshot is not None and snapshot.version >= version:
                self._items.move_to_end(run_id)
                return snapshot
        return None

    def load(self, session: Session, run_id: str) -> Snapshot | None:
        """Read the run in full, as stored now, and keep it."""
        run = session.get(Run, run_id, populate_existing=True)
        if run is None:
            with self._lock:
                self._items.pop(run_id, None)
            return None
        session.expunge(run)
        snapshot = Snapshot(run)
        with self._lock:
            self.loads += 1
            current = self._items.get(run_id)
            if current is None or current.version <= snapshot.version:
                self._items[run_id] = snapshot
                self._items.move_to_end(run_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return snapshot
