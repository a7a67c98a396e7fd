"""The journal writer's own cost: µs per entry for batches spread over 1, 50 and 500 runs.

Entries shaped like a kvittering exchange (a 741-byte body, the headers wrk sends) are
committed in batches of ``--batch``, on one thread, the way the journal writer's loop
(``app.store.journal_service``) commits what the requests handed it: count, insert and
trim in one transaction per batch, on a SQLite file. A batch over many runs updates many
runs' counts and index pages; this is the part of the HTTP benchmark's scale lines that
belongs to the writer. Only the one-run line passes the cap, so only it includes trims.

    .venv/bin/python bench/journal_bench.py [--runs 1,50,500] [--batch 25] [--entries 4000]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from app import create_app
from app.engine.clock import utcnow
from app.store.db import get_session
from app.store.journal_writer import Batcher
from app.store.models import JournalEntry, Run

BODY = "x" * 741


def entry(run_id: str) -> dict[str, Any]:
    """A journal row like one kvittering exchange of the HTTP benchmark."""
    now = utcnow()
    return {
        "run_id": run_id,
        "real_time": now,
        "virtual_time": now,
        "method": "GET",
        "path": "/api/v1/kvittering",
        "query": "innsendingReferanse=AR0123456789abcdef",
        "request_headers": {
            "Host": "127.0.0.1:8000",
            "Authorization": "Basic klient-0123456789:***",
        },
        "request_body": None,
        "request_body_truncated": False,
        "request_body_canonical": None,
        "status": 200,
        "response_headers": {"Content-Type": "application/json", "Content-Length": "741"},
        "response_body": BODY,
        "response_body_truncated": False,
        "action": "kvittering_hentet",
        "fault": None,
        "replay_of": None,
        "duration_ms": 1.0,
    }


def per_entry(writer: Batcher, runs: Iterator[str], batch: int, entries: int) -> float:
    """Commit ``entries`` entries in batches of ``batch``; µs an entry."""
    batches = [[entry(next(runs)) for _ in range(batch)] for _ in range(entries // batch)]
    started = time.perf_counter()
    for one in batches:
        writer.write(one)
    return (time.perf_counter() - started) / (len(batches) * batch) * 1e6


def measure(count: int, args: argparse.Namespace) -> list[float]:
    """Timings for entries spread over ``count`` new runs in a new SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{folder}/journal.db", "SCENARIO_RELOAD": False}
        )
        client = app.test_client()
        ids = [
            client.post(
                "/sandbox/runs", json={"scenario": "happy-path", "clock": {"mode": "manual"}}
            ).json["id"]  # type: ignore[index]
            for _ in range(count)
        ]
        writer = Batcher(app.extensions["sandbox.engine"], args.cap)
        runs = itertools.cycle(ids)
        # Warm up with cap + one measurement of entries: with one run, every measurement
        # then trims as a busy run does.
        per_entry(writer, runs, args.batch, args.cap + args.entries)
        timings = [per_entry(writer, runs, args.batch, args.entries) for _ in range(args.repeat)]
        writer.close()
        # What was measured must have been written: every count, no run over the cap.
        written = writer.batches * args.batch
        with app.app_context():
            session = get_session()
            counted = session.scalar(select(func.sum(Run.journal_count)))
            busiest = session.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .group_by(JournalEntry.run_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        if counted != written or (busiest or 0) > args.cap:
            raise SystemExit(f"journal wrong: {counted} counted of {written}, busiest {busiest}")
        app.extensions["sandbox.engine"].dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="1,50,500", help="runs the entries are spread over")
    parser.add_argument("--batch", type=int, default=25, help="entries a transaction")
    parser.add_argument("--entries", type=int, default=4000, help="entries a measurement")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cap", type=int, default=10_000, help="journal entries kept a run")
    args = parser.parse_args()
    print(
        f"batches of {args.batch}, {args.entries} entries a measurement, "
        f"median of {args.repeat}; cap {args.cap}"
    )
    for count in (int(c) for c in args.runs.split(",")):
        timings = measure(count, args)
        print(
            f"{count:5d} run{'s' if count > 1 else ' '}: "
            f"median {statistics.median(timings):5.1f} µs an entry "
            f"(min {min(timings):.1f}, max {max(timings):.1f})"
        )


if __name__ == "__main__":
    main()
