"""Journal entries: a durable group commit within the cap; a change recorded with its exchange."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from app.errors import JournalUnavailable
from app.store import journal_writer
from app.store.db import get_session
from app.store.journal_service import InProcessWriter, WriterSlot
from app.store.journal_writer import Batcher
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
        "request_body_canonical": None,
        "status": 200,
        "response_headers": {},
        "response_body": None,
        "response_body_truncated": False,
        "action": "status_hentet",
        "fault": None,
        "replay_of": None,
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


class HeldBatcher(Batcher):
    """A batcher whose first transaction waits until the test lets it go."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.release = threading.Event()
        self.sizes: list[int] = []

    def write(self, batch: list[dict[str, Any]]) -> bool:
        self.sizes.append(len(batch))
        if len(self.sizes) == 1:
            self.release.wait(10)
        return super().write(batch)


@pytest.fixture
def writer_for(app: Flask) -> Iterator[Callable[[Batcher], InProcessWriter]]:
    """Start the writer loop around a batcher; stopped at the end of the test."""
    started: list[InProcessWriter] = []

    def start(batcher: Batcher) -> InProcessWriter:
        started.append(InProcessWriter(batcher))
        return started[-1]

    yield start
    for writer in started:
        writer.close()


def test_entries_that_wait_are_committed_in_one_transaction(
    app: Flask, writer_for: Callable[[Batcher], InProcessWriter]
) -> None:
    run_id = _new_run(app)
    held = HeldBatcher(app.extensions["sandbox.engine"], 100)
    writer = writer_for(held)
    first = threading.Thread(target=writer.write, args=(_entry(run_id, 0),))
    first.start()
    _until(lambda: held.sizes == [1])
    others = [threading.Thread(target=writer.write, args=(_entry(run_id, n),)) for n in range(1, 6)]
    for thread in others:
        thread.start()
    time.sleep(0.5)  # their frames wait in the socket while the first batch is written
    # Nobody returns before their entry is committed.
    assert all(t.is_alive() for t in [first, *others])
    held.release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert held.sizes == [1, 5]
    assert held.batches == 2
    assert sorted(_rows(app, run_id)) == [f"n={n}" for n in range(6)]
    assert _count(app, run_id) == 6


def test_concurrent_writers_keep_every_count_and_never_exceed_the_cap(
    app: Flask, writer_for: Callable[[Batcher], InProcessWriter]
) -> None:
    run_id = _new_run(app)
    cap = 20
    writer = writer_for(Batcher(app.extensions["sandbox.engine"], cap))
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
    assert cap - journal_writer.trim_step(cap) + 1 <= len(rows) <= cap


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
    batcher = Batcher(app.extensions["sandbox.engine"], cap)
    # Run k gets 2k + 1 entries in one batch, interleaved with the others'.
    batch = [
        _entry(run_id, n)
        for n in range(2 * len(runs))
        for k, run_id in enumerate(runs)
        if n < 2 * k + 1
    ]
    assert batcher.write(batch)
    assert batcher.batches == 1
    for k, run_id in enumerate(runs):
        if run_id == gone:
            assert _rows(app, run_id) == []
            continue
        assert _count(app, run_id) == 2 * k + 1
        rows = _rows(app, run_id)
        # The newest entries are kept, at most ``cap`` of them (trimmed in one go here).
        expected = [f"n={n}" for n in range(2 * k + 1)]
        if len(expected) > cap:
            expected = expected[-(cap - journal_writer.trim_step(cap) + 1) :]
        assert rows == expected


def test_entries_for_a_deleted_run_are_dropped_quietly(
    app: Flask, writer_for: Callable[[Batcher], InProcessWriter]
) -> None:
    run_id = _new_run(app)
    with app.app_context():
        session = get_session()
        session.execute(delete(Run).where(Run.id == run_id))
        session.commit()
    batcher = Batcher(app.extensions["sandbox.engine"], 100)
    writer_for(batcher).write(_entry(run_id, 0))
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(JournalEntry)) == 0
    assert batcher.batches == 1


def test_a_failed_batch_leaves_no_transaction_behind(
    app: Flask, writer_for: Callable[[Batcher], InProcessWriter]
) -> None:
    run_id = _new_run(app)
    writer = writer_for(Batcher(app.extensions["sandbox.engine"], 100))
    broken = _entry(run_id, 0)
    del broken["status"]  # a bug in the caller: the insert cannot be built
    # SQLite's positional parameters fail in our code (KeyError); PostgreSQL's named ones
    # in the driver (retried, then given up): either way the request hears it was not written.
    with pytest.raises(JournalUnavailable):
        writer.write(broken)
    # The count update of the failed batch was rolled back, and the next write goes through
    # (a transaction left open would hold SQLite's write lock).
    writer.write(_entry(run_id, 1))
    assert _rows(app, run_id) == ["n=1"]
    assert _count(app, run_id) == 1


def _hold(app: Flask) -> HeldBatcher:
    """Give the app's journal a writer whose first transaction waits for the test."""
    slot: WriterSlot = app.extensions["sandbox.journal"]
    slot.close()
    held = HeldBatcher(app.extensions["sandbox.engine"], 100)
    slot._writer, slot._pid = InProcessWriter(held), os.getpid()
    return held


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


@pytest.mark.parametrize(
    ("scenario", "advance", "path"),
    [
        # journalført, and nothing can happen until the vedtak is due
        ("happy-path", "PT2H", "/api/v1/kvittering"),
        # the vedtak waits for a supplering: any request may be the action a step waits for
        ("mangel-then-vedtak", "P10D", "/api/v1/oppdatering"),
    ],
)
def test_every_answer_leaves_only_after_its_entry_is_committed(
    app: Flask, scenario: str, advance: str, path: str
) -> None:
    run_id, headers, ref = _scenario_run(app, scenario, advance)
    writer = _hold(app)
    answers: list[int] = []
    request = threading.Thread(
        target=lambda: answers.append(
            app.test_client()
            .get(path, query_string={"innsendingReferanse": ref}, headers=headers)
            .status_code
        )
    )
    request.start()
    _until(lambda: writer.sizes == [1])
    time.sleep(0.1)
    assert request.is_alive() and answers == []  # the answer waits for its entry
    assert _rows(app, run_id) == []
    writer.release.set()
    request.join(10)
    assert answers == [200]
    assert _rows(app, run_id) == ["innsendingReferanse=" + ref]


def _supplering(app: Flask) -> tuple[str, dict[str, str], dict[str, Any]]:
    run_id, headers, ref = _scenario_run(app, "mangel-then-vedtak", "P10D")
    with app.app_context():
        run = get_session().get(Run, run_id)
        assert run is not None
        innsending = next(i for i in run.state["innsendinger"] if i["innsendingReferanse"] == ref)
        mangler = [m["mangelID"] for m in innsending.get("mangler", [])]
        saksnummer = innsending["saksnummer"]
    assert mangler
    body = {
        "innsendingReferanse": ref,
        "kommunensSaksnummer": {
            "saksaar": saksnummer["saksaar"],
            "sakssekvensnummer": saksnummer["sakssekvensnummer"],
        },
        "mangelbesvarelse": [{"mangelID": m, "kommentar": "Vedlagt."} for m in mangler],
    }
    return run_id, headers, body


def test_a_supplering_is_recorded_with_the_change_it_makes(app: Flask) -> None:
    run_id, headers, body = _supplering(app)
    writer = _hold(app)  # a request that went through the writer would wait here
    answer = app.test_client().post("/api/v1/supplering", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    assert writer.sizes == []
    with app.app_context():
        entries = (
            get_session().scalars(select(JournalEntry).where(JournalEntry.run_id == run_id)).all()
        )
        assert [(e.path, e.status, e.action) for e in entries] == [
            ("/api/v1/supplering", 201, "supplering_mottatt")
        ]
        assert entries[0].response_body is not None
        assert answer.json is not None
        assert answer.json["suppleringReferanse"] in entries[0].response_body
    assert _count(app, run_id) == 1


def test_a_supplering_whose_journal_entry_fails_changes_nothing(
    app: Flask, monkeypatch: Any
) -> None:
    run_id, headers, body = _supplering(app)
    with app.app_context():
        before = get_session().get(Run, run_id)
        assert before is not None
        state, version = before.state, before.version

    def broken(*_args: Any) -> None:
        raise RuntimeError("the journal is down")

    monkeypatch.setattr(journal_writer, "store", broken)
    answer = app.test_client().post("/api/v1/supplering", json=body, headers=headers)
    # Never a 201 for a supplering the journal lacks: the change fails (500), and that
    # answer cannot be recorded either, so it leaves as "not recorded" (503).
    assert answer.status_code == 503
    with app.app_context():
        after = get_session().get(Run, run_id)
        assert after is not None
        assert (after.state, after.version) == (state, version)
