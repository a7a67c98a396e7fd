"""How long a 12-week case takes to play out in manual-clock mode (wall time).

Creates a run of bench/scenarios/twelve-weeks.yaml (15 steps over 12 weeks, 12 PDF
letters), then moves the clock twelve weeks in one call, so every step fires, each in its
own transaction with its payloads checked against DiBK's rules. Repeats and prints the
median and the spread, on SQLite (a file) and, when reachable, PostgreSQL.

    .venv/bin/python bench/timeline_bench.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from app import create_app

HERE = Path(__file__).parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def play(database_url: str, repeat: int) -> list[float]:
    """Wall seconds for create + advance P12W, ``repeat`` times."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SCENARIO_DIR": str(HERE / "scenarios"),
            "SCENARIO_RELOAD": False,
        }
    )
    client = app.test_client()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run = client.post(
            "/sandbox/runs", json={"scenario": "twelve-weeks", "clock": {"mode": "manual"}}
        ).json
        assert run is not None
        moved = client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "P12W"}).json
        assert moved is not None and len(moved["fired"]) == 15, moved
        times.append(time.perf_counter() - started)
    app.extensions["sandbox.engine"].dispose()
    return times


def report(name: str, times: list[float]) -> None:
    """Print median and spread in milliseconds."""
    ms = sorted(t * 1000 for t in times)
    print(
        f"{name:10s} 12-week case: median {statistics.median(ms):7.1f} ms"
        f"  min {ms[0]:7.1f}  max {ms[-1]:7.1f}  (n={len(ms)})"
    )


def main() -> None:
    """Run on SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report("sqlite", play(f"sqlite:///{folder}/bench.db", args.repeat))
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bsbx_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional here
        print(f"postgresql skipped: {exc.__class__.__name__}")
        return
    try:
        report("postgresql", play(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.repeat))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
