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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from app.domain.case import Sak
from app.engine.folding import fold_epoch, plan_of
from app.engine.reads import kvittering_for, load_sak, oppdateringer_for
from app.engine.timeline import quiet_until
from app.store import driver, journal_reads
from app.store.models import Run

CACHE_SIZE = 2048

_HEAD_COLUMNS = (
    Run.id,
    Run.password_sha256,
    Run.version,
    Run.journal_count,
    Run.clock_poll_step_seconds,
    Run.status,
    Run.clock_waiting_factor,
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
    status: str
    clock_waiting_factor: float | None = None


Encode = Callable[[Any], bytes]
# The request's session, opened only when a value is not yet derived: a cached answer
# must not pay for a session it never uses.
OpenSession = Callable[[], Session]
_UNSET: Any = object()


@dataclass
class Snapshot:
    """A run as stored at one version, with values derived from it (never changed in place).

    Everything derived here depends on the stored run alone, so it holds for as long as
    the run stays at this version; a new version is a new snapshot.
    """

    run: Run
    _sak: Sak | None = None
    _quiet_until: Any = _UNSET
    _kvittering: dict[str | None, bytes] = field(default_factory=dict)
    _oppdateringer: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)
    _oppdatering_body: dict[tuple[str | None, int], bytes] = field(default_factory=dict)
    _fold_plan: Any = _UNSET

    @property
    def version(self) -> int:
        """The stored version this snapshot shows."""
        return self.run.version

    def sak(self) -> Sak:
        """The case aggregate, parsed once per version."""
        if self._sak is None:
            self._sak = load_sak(self.run)
        return self._sak

    def quiet_until(self, session: OpenSession) -> datetime | None:
        """Until when no step can fire at this version (``app.engine.timeline.quiet_until``)."""
        if self._quiet_until is _UNSET:
            self._quiet_until = quiet_until(session(), self.run)
        found: datetime | None = self._quiet_until
        return found

    def fold_epoch(self, session: OpenSession, now: datetime) -> str | None:
        """Which of the run's polls may share a journal row (``app.engine.folding``)."""
        if self._fold_plan is _UNSET:
            self._fold_plan = plan_of(self.run)
        run_id = self.run.id
        return fold_epoch(
            self._fold_plan,
            self.run,
            now,
            lambda t: journal_reads.polls_since(session(), run_id, t),
        )

    def kvittering(self, session: OpenSession, ref: str | None, encode: Encode) -> bytes:
        """The kvittering for ``ref``, encoded once per version (it never changes once sent)."""
        body = self._kvittering.get(ref)
        if body is None:
            body = self._kvittering[ref] = encode(
                kvittering_for(session(), self.run, self.sak(), ref)
            )
        return body

    def oppdateringer(self, session: OpenSession, ref: str | None) -> list[dict[str, Any]]:
        """Every oppdatering for ``ref`` at this version (new ones come with a new version)."""
        items = self._oppdateringer.get(ref)
        if items is None:
            items = oppdateringer_for(session(), self.run, self.sak(), ref)
            self._oppdateringer[ref] = items
        return items

    def oppdatering_body(
        self, session: OpenSession, ref: str | None, etter: int, encode: Encode
    ) -> tuple[bytes, str]:
        """The oppdateringer after ``etter``, encoded once per cursor and version, and the
        sekvensnummer of the last one sent (``etter`` when none)."""
        everything = self.oppdateringer(session, ref)
        newest = int(everything[-1]["sekvensnummer"]) if everything else 0
        key = (ref, min(etter, newest))  # every cursor at or past the newest: one answer
        body = self._oppdatering_body.get(key)
        if body is None:
            items = [item for item in everything if int(item["sekvensnummer"]) > etter]
            body = self._oppdatering_body[key] = encode(items)
        last = str(newest) if newest > etter else str(etter)
        return body, last


def head_by_username(engine: Engine, username: str) -> RunHead | None:
    """The head row of the run with these credentials, or None (one indexed read)."""
    row = driver.read_one(engine, _HEAD_BY_USERNAME, {"username": username})
    return RunHead(*row) if row is not None else None


def head_by_id(engine: Engine, run_id: str) -> RunHead | None:
    """The head row of the run ``run_id``, or None (one indexed read)."""
    row = driver.read_one(engine, _HEAD_BY_ID, {"id": run_id})
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
