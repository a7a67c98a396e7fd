"""Group commit of journal entries: everything waiting goes in one transaction, within the cap."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select

from app.store.db import get_session
from app.store.journal_writer import JournalWriter
from app.store.models import JournalEntry, Run
from tests.conftest import INNSENDING


def _entry(run_id: str, n: int) -> dict[str, Any]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "run_id": run_id,
        "real_time": now,
        "virtual_time": now,
        "method": "GET",
        "path": "/api/v1/status",
        "query": f"n={n}",
        "request_headers": {},
        "request_body": None,
        "request_body_truncated": False,
        "status": 200,
        "response_headers": {},
        "response_body": None,
        "response_body_truncated": False,
        "action": "status_hentet",
        "fault": None,
        "duration_ms": 1.0,
    }


def _new_run(app: Flask) -> str:
    run = app.test_client().post("/sandbox/runs", json={"innsending": INNSENDING}).json
    assert run is not None
    return str(run["id"])


def _rows(app: Flask, run_id: str) -> list[str]:
    with app.app_context():
        return list(
            get_session().scalars(
                select(JournalEntry.query)
                .where(JournalEntry.run_id == run_id)
                .order_by(JournalEntry.id)
            )
        )


def _count(app: Flask, run_id: str) -> int:
    with app.app_context():
        return int(get_session().scalar(select(Run.journal_count).where(Run.id == run_id)) or 0)


class HeldWriter(JournalWriter):
    """A writer whose first transaction waits until the test lets it go."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.release = threading.Event()
        self.sizes: list[int] = []

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        self.sizes.append(len(batch))
        if len(self.sizes) == 1:
            self.release.wait(10)
        super()._write_batch(batch)


def test_entries_that_wait_are_committed_in_one_transaction(app: Flask) -> None:
    run_id = _new_run(app)
    writer = HeldWriter(app.extensions["sandbox.engine"], 100)
    first = threading.Thread(target=writer.write, args=(_entry(run_id, 0),))
    first.start()
    while not writer.sizes:
        time.sleep(0.001)
    others = [threading.Thread(target=writer.write, args=(_entry(run_id, n),)) for n in range(1, 6)]
    for thread in others:
        thread.start()
    while len(writer._pending) < 5:
        time.sleep(0.001)
    # Nobody returns before their entry is committed.
    assert all(t.is_alive() for t in [first, *others])
    writer.release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert writer.sizes == [1, 5]
    assert writer.batches == 2
    assert sorted(_rows(app, run_id)) == [f"n={n}" for n in range(6)]
    assert _count(app, run_id) == 6


def test_concurrent_writers_keep_every_count_and_never_exceed_the_cap(app: Flask) -> None:
    run_id = _new_run(app)
    cap = 20
    writer = JournalWriter(app.extensions["sandbox.engine"], cap)
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(len(_rows(app, run_id)))

    def client(base: int) -> None:
        for n in range(base, base + 40):
            writer.write(_entry(run_id, n))

    watcher = threading.Thread(target=watch)
    watcher.start()
    clients = [threading.Thread(target=client, args=(k * 1000,)) for k in range(6)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(60)
    done.set()
    watcher.join(10)
    rows = _rows(app, run_id)
    assert _count(app, run_id) == 240
    assert max(seen) <= cap
    # Trimming drops ``step`` (here 2) at a time, oldest first.
    assert cap - writer.step + 1 <= len(rows) <= cap


def test_entries_for_a_deleted_run_are_dropped_quietly(app: Flask) -> None:
    run_id = _new_run(app)
    with app.app_context():
        session = get_session()
        session.execute(delete(Run).where(Run.id == run_id))
        session.commit()
    writer = JournalWriter(app.extensions["sandbox.engine"], 100)
    writer.write(_entry(run_id, 0))
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(JournalEntry)) == 0
    assert writer.batches == 1


def test_a_failed_batch_leaves_no_transaction_behind(app: Flask) -> None:
    run_id = _new_run(app)
    writer = JournalWriter(app.extensions["sandbox.engine"], 100)
    broken = _entry(run_id, 0)
    del broken["status"]  # a bug in the caller: the insert cannot be built
    # SQLite's positional parameters fail in our code (KeyError, raised to the request);
    # PostgreSQL's named ones in the driver (retried, then logged and dropped).
    with contextlib.suppress(KeyError):
        writer.write(broken)
    # The count update of the failed batch was rolled back, and the next write goes through
    # (a transaction left open would hold SQLite's write lock).
    writer.write(_entry(run_id, 1))
    assert _rows(app, run_id) == ["n=1"]
    assert _count(app, run_id) == 1
