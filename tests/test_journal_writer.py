"""Journal entries: group commit within the cap, written behind the answer, settled for readers."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select

from app import create_app
from app.store import journal_writer
from app.store.db import get_session
from app.store.journal_progress import ProgressBoard
from app.store.journal_writer import JournalWriter, WriterSlot
from app.store.models import JournalEntry, Run
from tests.conftest import INNSENDING, basic


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


def test_one_batch_over_many_runs_counts_and_trims_each(app: Flask, monkeypatch: Any) -> None:
    # Counts are read back a few runs at a time: make "a few" 3, so 8 runs take 3 reads.
    monkeypatch.setattr(journal_writer, "COUNTS_AT_ONCE", 3)
    runs = [_new_run(app) for _ in range(8)]
    gone = runs[5]
    with app.app_context():
        session = get_session()
        session.execute(delete(Run).where(Run.id == gone))
        session.commit()
    cap = 10
    writer = JournalWriter(app.extensions["sandbox.engine"], cap)
    # Run k gets 2k + 1 entries in one batch, interleaved with the others'.
    batch = [
        _entry(run_id, n)
        for n in range(2 * len(runs))
        for k, run_id in enumerate(runs)
        if n < 2 * k + 1
    ]
    writer._write_batch(batch)
    assert writer.batches == 1
    for k, run_id in enumerate(runs):
        if run_id == gone:
            assert _rows(app, run_id) == []
            continue
        assert _count(app, run_id) == 2 * k + 1
        rows = _rows(app, run_id)
        # The newest entries are kept, at most ``cap`` of them (trimmed in one go here).
        expected = [f"n={n}" for n in range(2 * k + 1)]
        if len(expected) > cap:
            expected = expected[-(cap - writer.step + 1) :]
        assert rows == expected


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


def _hold(app: Flask) -> HeldWriter:
    """Give the app's journal a writer whose first transaction waits for the test."""
    slot: WriterSlot = app.extensions["sandbox.journal"]
    slot.write_behind = True  # PostgreSQL's default is off (workers may be on several hosts)
    writer = HeldWriter(app.extensions["sandbox.engine"], 100, ProgressBoard(slot.board_path))
    slot._writer, slot._pid = writer, os.getpid()
    return writer


def _scenario_run(app: Flask, scenario: str, advance: str) -> tuple[str, dict[str, str], str]:
    client = app.test_client()
    run = client.post(
        "/sandbox/runs", json={"scenario": scenario, "clock": {"mode": "manual"}}
    ).json
    assert run is not None
    client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": advance})
    credentials = run["credentials"]
    headers = basic(credentials["username"], credentials["password"])
    return str(run["id"]), headers, str(run["innsendingReferanser"][0])


def _until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_quiet_run_is_answered_before_its_entry_is_committed_and_readers_wait(
    app: Flask,
) -> None:
    # happy-path two hours in: journalført, and nothing can happen until the vedtak is due.
    run_id, headers, ref = _scenario_run(app, "happy-path", "PT2H")
    writer = _hold(app)
    client = app.test_client()
    answer = client.get(
        "/api/v1/kvittering", query_string={"innsendingReferanse": ref}, headers=headers
    )
    assert answer.status_code == 200
    _until(lambda: writer.sizes == [1])
    assert _rows(app, run_id) == []  # answered, while the entry is still being written
    threading.Timer(0.2, writer.release.set).start()
    # The control plane settles the journal before it reads it.
    journal = client.get(f"/sandbox/runs/{run_id}/journal").json
    assert journal is not None
    assert [e["request"]["path"] for e in journal["entries"]] == ["/api/v1/kvittering"]
    assert client.get(f"/sandbox/runs/{run_id}").json["journalCount"] == 1  # type: ignore[index]


def test_a_run_its_own_journal_can_change_is_answered_only_after_the_commit(app: Flask) -> None:
    # mangel-then-vedtak ten days in: the mangel is out and the vedtak waits for a supplering,
    # so any request may be the client action a step waits for.
    run_id, headers, ref = _scenario_run(app, "mangel-then-vedtak", "P10D")
    writer = _hold(app)
    answers: list[int] = []
    request = threading.Thread(
        target=lambda: answers.append(
            app.test_client()
            .get("/api/v1/oppdatering", query_string={"innsendingReferanse": ref}, headers=headers)
            .status_code
        )
    )
    request.start()
    _until(lambda: writer.sizes == [1])
    time.sleep(0.1)
    assert request.is_alive() and answers == []  # the answer waits for its entry
    writer.release.set()
    request.join(10)
    assert answers == [200]
    assert _rows(app, run_id) == ["innsendingReferanse=" + ref]  # committed, no settling


def _owner(path: str, accepted: int, done_after: float | None, ready: Any) -> None:
    """In a child process: accept entries, tell the parent, finish them later (or never)."""
    board = ProgressBoard(path)
    slot = board.claim()
    board.accepted(slot, accepted)
    ready.set()
    if done_after is None:
        os._exit(0)  # a worker that dies with entries in hand
    time.sleep(done_after)
    board.done(slot, accepted)


def _child(path: str, accepted: int, done_after: float | None) -> multiprocessing.Process:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    process = context.Process(target=_owner, args=(path, accepted, done_after, ready))
    process.start()
    assert ready.wait(10)
    return process


def test_settling_waits_for_a_writer_in_another_process(tmp_path: Any) -> None:
    path = str(tmp_path / "board")
    board = ProgressBoard(path)
    child = _child(path, 3, done_after=0.3)
    started = time.monotonic()
    assert board.wait(10)
    assert time.monotonic() - started >= 0.25
    child.join(10)
    # With nothing in hand anywhere, settling returns at once.
    started = time.monotonic()
    assert board.wait(10)
    assert time.monotonic() - started < 0.1


def test_settling_gives_up_on_a_slow_writer_and_skips_a_dead_one(tmp_path: Any) -> None:
    path = str(tmp_path / "board")
    board = ProgressBoard(path)
    slow = _child(path, 2, done_after=5)
    assert board.wait(0.2) is False
    slow.terminate()
    slow.join(10)
    dead = _child(path, 1, done_after=None)
    dead.join(10)
    started = time.monotonic()
    assert board.wait(10)  # both are gone: nothing left to wait for
    assert time.monotonic() - started < 1
    # Their slots are free for the next workers: the first of them is taken again.
    assert board.claim() == 0


def test_requests_wait_for_their_entry_once_the_database_falls_behind(
    app: Flask, monkeypatch: Any
) -> None:
    monkeypatch.setattr(journal_writer, "MAX_PENDING", 3)
    run_id = _new_run(app)
    writer = HeldWriter(app.extensions["sandbox.engine"], 100)
    writer.write(_entry(run_id, 0), wait=False)
    _until(lambda: writer.sizes == [1])  # the first transaction is held
    for n in range(1, 4):
        writer.write(_entry(run_id, n), wait=False)  # taken without waiting
    late = threading.Thread(target=writer.write, args=(_entry(run_id, 4),), kwargs={"wait": False})
    late.start()
    time.sleep(0.1)
    assert late.is_alive()  # a fifth entry in hand: this request waits for its commit
    writer.release.set()
    late.join(10)
    assert not late.is_alive()
    assert sorted(_rows(app, run_id)) == [f"n={n}" for n in range(5)]


def test_a_reader_waits_for_another_writer_of_the_same_process(database_url: str) -> None:
    # Two apps on one database, as two workers: each writer has its own place on the board.
    first = create_app({"TESTING": True, "DATABASE_URL": database_url})
    second = create_app({"TESTING": True, "DATABASE_URL": database_url})
    for app in (first, second):
        app.extensions["sandbox.journal"].write_behind = True
    run_id = _new_run(first)
    held = _hold(first)
    held.write(_entry(run_id, 0), wait=False)
    _until(lambda: held.sizes == [1])
    assert second.extensions["sandbox.journal"].get().slot != held.slot
    threading.Timer(0.2, held.release.set).start()
    journal = second.test_client().get(f"/sandbox/runs/{run_id}/journal").json
    assert journal is not None
    assert [e["request"]["query"] for e in journal["entries"]] == ["n=0"]
    # Disposing of the engine closes the writer and gives its place up.
    path, slot = held.board.path, held.slot
    assert path is not None
    first.extensions["sandbox.engine"].dispose()
    second.extensions["sandbox.engine"].dispose()
    assert first.extensions["sandbox.journal"]._writer is None
    assert ProgressBoard(path)._read(slot)[0] == 0
