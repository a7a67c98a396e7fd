"""Time to score a run and render every report format when its journal holds 10,000 entries.

Plays mangel-then-vedtak with a few real exchanges, then fills the journal with polls up to
the size asked for (inserted directly, as if a busy client had made them), and times
scoring plus JSON, JUnit, HTML and Markdown rendering.

    .venv/bin/python bench/report_bench.py [--entries 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import insert

from app import create_app
from app.reports import RENDERERS
from app.scoring.result import combine, score_run
from app.store.db import get_session
from app.store.models import JournalEntry, Run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{folder}/r.db", "JOURNAL_MAX_ENTRIES": args.entries + 100}
        )
        client = app.test_client()
        run = client.post(
            "/sandbox/runs", json={"scenario": "mangel-then-vedtak", "clock": {"mode": "manual"}}
        ).json
        assert run is not None
        auth = {
            "Authorization": "Basic "
            + base64.b64encode(
                f"{run['credentials']['username']}:{run['credentials']['password']}".encode()
            ).decode()
        }
        ref = run["innsendingReferanser"][0]
        client.post(f"/sandbox/runs/{run['id']}/next")
        client.get(f"/api/v1/kvittering?innsendingReferanse={ref}", headers=auth)
        with app.app_context():
            session = get_session()
            row = session.get(Run, run["id"])
            assert row is not None
            template = (
                session.query(JournalEntry)
                .filter_by(run_id=run["id"])
                .order_by(JournalEntry.id.desc())
                .first()
            )
            assert template is not None
            base = {
                c.name: getattr(template, c.name)
                for c in JournalEntry.__table__.columns
                if c.name != "id"
            }
            rows = []
            for n in range(args.entries - 1):
                entry = dict(base)
                entry["real_time"] = template.real_time + timedelta(milliseconds=300 * (n + 1))
                entry["path"] = "/api/v1/oppdatering"
                rows.append(entry)
            session.execute(insert(JournalEntry), rows)
            session.commit()
            times = []
            sizes = {}
            for _ in range(args.repeat):
                started = time.perf_counter()
                session.expire_all()
                document = combine([score_run(session, session.get(Run, run["id"]))], "bench")
                for kind, render in RENDERERS.items():
                    sizes[kind] = len(render(document).encode("utf-8"))
                times.append(time.perf_counter() - started)
        app.extensions["sandbox.engine"].dispose()
    ms = sorted(t * 1000 for t in times)
    print(
        f"score + all reports, {args.entries} journal entries: median {statistics.median(ms):.0f} ms, min {ms[0]:.0f}, max {ms[-1]:.0f} (n={len(ms)})"
    )
    print("report sizes: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sizes.items()))


if __name__ == "__main__":
    main()
