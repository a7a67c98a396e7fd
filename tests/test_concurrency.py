"""Many requests at once, and two server workers on one store: events apply exactly once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.conftest import INNSENDING, LiveServer, Sandbox


def _post_many(url: str, bodies: list[dict[str, Any]], auth: Any = None) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(
            pool.map(lambda body: requests.post(url, json=body, auth=auth, timeout=30), bodies)
        )


def test_concurrent_journalforing_issues_one_kvittering(
    live_server: LiveServer, sandbox: Sandbox
) -> None:
    run = sandbox.create_run(innsending=INNSENDING)
    url = f"{live_server.url}/sandbox/runs/{run['id']}/events"
    statuses = sorted(r.status_code for r in _post_many(url, [{"type": "journalfor"}] * 8))
    assert statuses == [201] + [409] * 7


def test_concurrent_events_get_distinct_contiguous_sequence_numbers(
    live_server: LiveServer, sandbox: Sandbox
) -> None:
    run = sandbox.create_run(innsending=INNSENDING)
    sandbox.event(run["id"], {"type": "journalfor"})
    url = f"{live_server.url}/sandbox/runs/{run['id']}/events"
    bodies = [{"type": "publiser_dokument", "tittel": f"Brev {n}"} for n in range(10)]
    responses = _post_many(url, bodies)
    assert [r.status_code for r in responses] == [201] * 10
    ref = run["innsendingReferanser"][0]
    creds = run["credentials"]
    items = requests.get(
        f"{live_server.url}/api/v1/oppdatering",
        params={"innsendingReferanse": ref},
        auth=(creds["username"], creds["password"]),
        timeout=10,
    ).json()
    assert [int(i["sekvensnummer"]) for i in items] == list(range(1, 11))
    titles = sorted(i["utgaaendeDokument"][0]["dokumentTittel"] for i in items)
    assert titles == sorted(f"Brev {n}" for n in range(10))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_server_workers_serve_one_run(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SANDBOX_DATABASE_URL": database_url}
    command = Path(sys.executable).with_name("byggesak-sandbox")
    server = subprocess.Popen(
        # As the README deploys it: granian, two worker processes.
        [str(command), "serve", "--port", str(port), "--workers", "2", "--threads", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        sandbox = Sandbox(base)
        run = sandbox.create_run(innsending=INNSENDING)
        auth = (run["credentials"]["username"], run["credentials"]["password"])
        ref = run["innsendingReferanser"][0]
        url = f"{base}/sandbox/runs/{run['id']}/events"
        assert (
            sorted(r.status_code for r in _post_many(url, [{"type": "journalfor"}] * 6))
            == [201] + [409] * 5
        )
        assert [
            r.status_code
            for r in _post_many(url, [{"type": "publiser_dokument", "tittel": "Brev"}] * 6)
        ] == [201] * 6
        # Whichever worker answers, every read agrees, and every exchange is journalled
        # (both workers' writers commit groups of entries side by side).
        with ThreadPoolExecutor(max_workers=16) as pool:
            reads = list(
                pool.map(
                    lambda _: requests.get(
                        f"{base}/api/v1/oppdatering",
                        params={"innsendingReferanse": ref},
                        auth=auth,
                        timeout=10,
                    ).json(),
                    range(200),
                )
            )
        assert all([int(i["sekvensnummer"]) for i in r] == [1, 2, 3, 4, 5, 6] for r in reads)
        journal = requests.get(
            f"{base}/sandbox/runs/{run['id']}/journal", params={"limit": 1000}, timeout=10
        ).json()
        # Identical polls fold into entries with a count: every one of the 200 is there.
        assert sum(e["repeats"] for e in journal["entries"]) == 200
        summary = requests.get(f"{base}/sandbox/runs/{run['id']}", timeout=10).json()
        assert summary["journalCount"] == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_due_steps_fire_once_when_many_requests_catch_up_at_once(
    live_server: LiveServer, sandbox: Sandbox, app: object
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from app.store.models import Run

    run = sandbox.create_run(scenario="samling", clock={"mode": "manual"})
    # Move the virtual clock past several due steps behind the engine's back, so that the
    # next requests are the ones that catch the run up, all at once.
    engine = app.extensions["sandbox.engine"]  # type: ignore[attr-defined]
    with engine.begin() as conn:
        start = (
            conn.execute(
                Run.__table__.select().where(Run.id == run["id"])  # type: ignore[attr-defined]
            )
            .one()
            ._mapping["clock_virtual_anchor"]
        )
        conn.execute(
            update(Run)
            .where(Run.id == run["id"])
            .values(clock_virtual_anchor=start + timedelta(days=2))
        )
    auth = (run["credentials"]["username"], run["credentials"]["password"])
    refs = run["innsendingReferanser"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(
                lambda n: requests.get(
                    f"{live_server.url}/api/v1/oppdatering",
                    params={"innsendingReferanse": refs[n % 2]},
                    auth=auth,
                    timeout=30,
                ),
                range(8),
            )
        )
    assert [r.status_code for r in responses] == [200] * 8
    timeline = requests.get(
        f"{live_server.url}/sandbox/runs/{run['id']}/timeline", timeout=10
    ).json()
    assert [s["status"] for s in timeline["steps"]] == [
        "fired",
        "fired",
        "fired",
        "pending",
        "pending",
        "pending",
    ]
    case = requests.get(f"{live_server.url}/sandbox/runs/{run['id']}/case", timeout=10).json()
    fired = [h["type"] for h in case["hendelser"] if h["type"].startswith("steg:")]
    assert fired == ["steg:journalfor-ramme", "steg:journalfor-disp", "steg:samling"]
    # One samling oppdatering, seen by both innsendinger.
    items = requests.get(
        f"{live_server.url}/api/v1/oppdatering",
        params={"innsendingReferanse": refs[0]},
        auth=auth,
        timeout=10,
    ).json()
    assert [i["hendelse"] for i in items] == ["endre_saksnummer"]
