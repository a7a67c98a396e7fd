"""The journal writer's own process under ``serve``: started again when it dies, gone when
``serve`` stops; an exchange the journal cannot record is a 503, never a 2xx."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from app import create_app
from tests.conftest import basic
from tests.crash_harness import Database, Server, journal, wait_for
from tests.crash_harness import database as database  # noqa: PLC0414 - the fixture

WRITER = "app.store.journal_service"


def _processes(root: int) -> list[int]:
    """``root`` and every process below it."""
    found = [root]
    for children in Path(f"/proc/{root}/task").glob("*/children"):
        try:
            kids = [int(pid) for pid in children.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += _processes(kid)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _writers(server: Server) -> list[int]:
    process = server._process
    assert process is not None
    return [pid for pid in _processes(process.pid) if WRITER in _cmdline(pid)]


def _run(base: str) -> tuple[str, dict[str, str], str]:
    run = requests.post(
        f"{base}/sandbox/runs",
        json={"scenario": "happy-path", "clock": {"mode": "manual"}},
        timeout=30,
    ).json()
    requests.post(f"{base}/sandbox/runs/{run['id']}/clock", json={"advance": "PT2H"}, timeout=30)
    credentials = run["credentials"]
    headers = basic(credentials["username"], credentials["password"])
    return str(run["id"]), headers, str(run["innsendingReferanser"][0])


def _recorded_kvitteringer(base: str, run_id: str) -> int:
    return sum(
        int(entry["repeats"])
        for entry in journal(base, run_id)
        if entry["request"]["path"] == "/api/v1/kvittering" and entry["response"]["status"] == 200
    )


def test_a_writer_that_dies_is_started_again_and_nothing_answered_is_lost(
    database: Database, tmp_path: Path
) -> None:
    server = Server(database, tmp_path)
    server.start()
    try:
        run_id, headers, ref = _run(server.url)
        url = f"{server.url}/api/v1/kvittering"
        ok = 0
        with requests.Session() as http:

            def poll() -> int:
                nonlocal ok
                status = http.get(
                    url, params={"innsendingReferanse": ref}, headers=headers, timeout=30
                ).status_code
                ok += status == 200
                return status

            for _ in range(20):
                assert poll() == 200
            [first] = _writers(server)
            os.kill(first, signal.SIGKILL)
            wait_for(lambda: _writers(server) not in ([], [first]), 30, "a new writer")
            assert len(_writers(server)) == 1
            # Every worker thread's connection to the old writer is stale now: each sends
            # again on a new one (the new writer takes them as soon as it runs), so not one
            # poll is refused.
            for _ in range(60):
                assert poll() == 200
        assert _recorded_kvitteringer(server.url, run_id) == ok
        assert "the journal writer stopped" in server.log_tail(100)
    finally:
        server.stop()


def test_serve_stopped_by_sigint_stops_its_writer_and_removes_the_socket(
    database: Database, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = Server(database, tmp_path, env={"TMPDIR": str(temp)})
    server.start()
    process = server._process
    assert process is not None
    _run_id, headers, ref = _run(server.url)
    answer = requests.get(
        f"{server.url}/api/v1/kvittering",
        params={"innsendingReferanse": ref},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 200
    [writer] = _writers(server)
    [folder] = temp.iterdir()
    assert folder.name.startswith("byggesak-journal-")
    assert folder.stat().st_mode & 0o077 == 0  # nobody but the owner reaches the socket
    os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    server._process = None
    assert _state(writer) == "gone"
    assert list(temp.iterdir()) == []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_an_exchange_the_journal_cannot_record_is_refused_with_503(tmp_path: Path) -> None:
    app: Flask = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}",
            "JOURNAL_SOCKET": str(tmp_path / "no-writer-here.sock"),
        }
    )
    client = app.test_client()
    run: Any = client.post("/sandbox/runs", json={"scenario": "happy-path"}).json
    credentials = run["credentials"]
    answer = client.get(
        "/api/v1/kvittering",
        query_string={"innsendingReferanse": run["innsendingReferanser"][0]},
        headers=basic(credentials["username"], credentials["password"]),
    )
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    assert answer.json is not None
    assert "journal" in answer.json["detail"]
    assert answer.headers["Retry-After"] == "1"
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200  # the control plane and health go on
    assert time.monotonic() - started < 5
    app.extensions["sandbox.engine"].dispose()
