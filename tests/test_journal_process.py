"""The journal writer's own process under ``serve``: started again when it dies, gone when
``serve`` stops; an exchange the journal cannot record is a 503, never a 2xx."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from app import create_app
from app.store.db import build_engine
from app.store.journal_service import InProcessWriter
from app.store.journal_writer import Batcher
from tests.conftest import basic
from tests.crash_harness import Database, Server, journal, wait_for
from tests.crash_harness import database as database  # noqa: PLC0414 - the fixture

WRITER = "app.store.journal_process"


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


@pytest.mark.parametrize("ctrl_c", [False, True], ids=["sigint", "ctrl-c"])
def test_serve_stopped_by_sigint_stops_its_writer_and_its_socket(
    database: Database, tmp_path: Path, ctrl_c: bool
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
    name = _listening_name(writer)
    assert name.startswith("@byggesak-journal-")  # abstract: nothing on disk to leave behind
    assert list(temp.iterdir()) == []
    if ctrl_c:  # a terminal's Ctrl-C: the whole process group
        os.killpg(process.pid, signal.SIGINT)
    else:  # a supervisor's stop: the main process alone
        os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    server._process = None
    assert _state(writer) == "gone"
    assert name not in _unix_sockets().values()


def _unix_sockets() -> dict[str, str]:
    """Every named Unix socket on this machine now, by inode."""
    sockets = {}
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) == 8:
            sockets[fields[6]] = fields[7]
    return sockets


def _listening_name(pid: int) -> str:
    """The name of the socket the writer process listens on (its inherited descriptor)."""
    names = _unix_sockets()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:[") and target[8:-1] in names:
            return names[target[8:-1]]
    raise AssertionError("the writer listens on no named socket")


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


SYSTEM_PYTHON = "/usr/bin/python3"
PEER = """
import pickle, socket, struct, sys
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect("\\0" + sys.argv[1][1:])
payload = pickle.dumps({"run_id": "x"})
try:
    conn.sendall(struct.pack("!I", len(payload)) + payload)
    print(repr(conn.recv(1)))
except OSError as error:
    print(type(error).__name__)
"""


def test_a_process_of_another_user_cannot_use_the_writer(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.fail("this test starts a process as another user: run the suite as root (CI does)")
    batcher = Batcher(build_engine(f"sqlite:///{tmp_path / 'sandbox.db'}"), 100)
    writer = InProcessWriter(batcher)
    try:
        other = subprocess.run(
            # The system's Python: the user nobody cannot open our virtualenv's.
            [
                SYSTEM_PYTHON if Path(SYSTEM_PYTHON).exists() else sys.executable,
                "-c",
                PEER,
                writer.address,
            ],
            user=65534,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert other.stdout.strip() in ("b''", "ConnectionResetError", "BrokenPipeError"), other
        assert batcher.batches == 0
    finally:
        writer.close()
        batcher.engine.dispose()
