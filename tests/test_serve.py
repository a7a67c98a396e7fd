"""``byggesak-sandbox serve`` over real HTTP on loopback: keep-alive polling and bad options.

The server is started as the command starts it (granian, its default settings unless a
test changes one option). Polling clients keep their connections open between polls; a
server that closes an idle connection just as the client reuses it makes that client see a
reset. These tests hold the chosen keep-alive window to never doing that.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from app.cli.serve import KEEP_ALIVE
from tests.conftest import INNSENDING, Sandbox, basic

BIN = Path(sys.executable).parent
CONNECTIONS = 8  # polling clients at once
BURST = 10  # polls a client sends back to back before it goes quiet


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(database_url: str, tmp_path: Path, *options: str) -> Iterator[str]:
    """``byggesak-sandbox serve`` on a free loopback port until the block ends."""
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "byggesak-sandbox"), "serve", "--port", str(port), *options],
        env={**os.environ, "SANDBOX_DATABASE_URL": database_url},
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        log.close()


def _poll_target(base: str) -> tuple[str, dict[str, str]]:
    """A live run's kvittering path and its Basic credentials, as a client polls them."""
    sandbox = Sandbox(base)
    run = sandbox.create_run(innsending=INNSENDING)
    sandbox.event(run["id"], {"type": "journalfor"})
    creds = run["credentials"]
    path = f"/api/v1/kvittering?innsendingReferanse={run['innsendingReferanser'][0]}"
    return path, basic(creds["username"], creds["password"])


def _each_client(poll: Callable[[int], Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        return list(pool.map(poll, range(CONNECTIONS)))


def _strict_client(
    base: str, path: str, headers: dict[str, str], idles: list[float]
) -> Callable[[int], tuple[list[str], set[int]]]:
    """One connection that never reconnects: any close by the server is an error here."""
    port = int(base.rsplit(":", 1)[1])

    def poll(_n: int) -> tuple[list[str], set[int]]:
        errors: list[str] = []
        local_ports: set[int] = set()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for idle in [*idles, 0.0]:
                for _ in range(BURST):
                    try:
                        connection.request("GET", path, headers=headers)
                        response = connection.getresponse()
                        response.read()
                        if response.status != 200:
                            errors.append(f"status {response.status}")
                    except (OSError, http.client.HTTPException) as error:
                        errors.append(f"{error.__class__.__name__}: {error}")
                        connection.close()
                    if connection.sock is not None:
                        local_ports.add(connection.sock.getsockname()[1])
                time.sleep(idle)
        finally:
            connection.close()
        return errors, local_ports

    return poll


def test_polling_clients_keep_their_connections_across_quiet_spells(
    database_url: str, tmp_path: Path
) -> None:
    """Default settings: connections quiet for 2 s (gunicorn's window, where resets were seen)
    and for 5 s are still open, and every poll on them is answered."""
    with served(database_url, tmp_path) as base:
        path, headers = _poll_target(base)
        results = _each_client(_strict_client(base, path, headers, [2.0, 5.0]))
    assert [errors for errors, _ports in results] == [[]] * CONNECTIONS
    # One connection each from first poll to last: the server closed none of them.
    assert [len(ports) for _errors, ports in results] == [1] * CONNECTIONS
    assert KEEP_ALIVE >= 30


# The window is the server's, not the store's: these two run on SQLite alone.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_quiet_just_under_the_keep_alive_window_keeps_the_connection(
    database_url: str, tmp_path: Path
) -> None:
    """With a 2 s window, quiet spells of 1.5 s and 1.7 s end on the same open connection."""
    with served(database_url, tmp_path, "--keep-alive", "2") as base:
        path, headers = _poll_target(base)
        results = _each_client(_strict_client(base, path, headers, [1.5, 1.7]))
    assert [errors for errors, _ports in results] == [[]] * CONNECTIONS
    assert [len(ports) for _errors, ports in results] == [1] * CONNECTIONS


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_quiet_past_the_keep_alive_window_ends_in_a_clean_close(
    database_url: str, tmp_path: Path
) -> None:
    """With a 2 s window, quiet spells of 2.4 s and 3 s: the server has closed the connection
    cleanly by then, so a polling client (requests) sees it and reconnects: no errors."""
    with served(database_url, tmp_path, "--keep-alive", "2") as base:
        path, headers = _poll_target(base)

        def poll(_n: int) -> tuple[list[str], list[int]]:
            errors: list[str] = []
            local_ports: list[int] = []
            with requests.Session() as http:
                for idle in [2.4, 3.0, 0.0]:
                    for _ in range(BURST):
                        try:
                            url = f"{base}{path}"
                            response = http.get(url, headers=headers, timeout=10, stream=True)
                            # The connection the answer came on, before reading hands it back.
                            local_ports.append(response.raw.connection.sock.getsockname()[1])
                            response.content  # noqa: B018 - reads the body
                            if response.status_code != 200:
                                errors.append(f"status {response.status_code}")
                        except requests.RequestException as error:
                            errors.append(f"{error.__class__.__name__}: {error}")
                    time.sleep(idle)
            return errors, local_ports

        results = _each_client(poll)
    assert [errors for errors, _ports in results] == [[]] * CONNECTIONS
    # One connection a burst, a new one after each quiet spell: the window was passed,
    # the server had closed the connection, and the client saw it before sending.
    for _errors, ports in results:
        bursts = [set(ports[n : n + BURST]) for n in range(0, len(ports), BURST)]
        assert [len(burst) for burst in bursts] == [1, 1, 1]
        assert len(set.union(*bursts)) == 3


def _serve(*options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "byggesak-sandbox"), "serve", *options],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--port", "99999"],
            "Error: Invalid value for '--port': 99999 is not in the range 1<=x<=65535.",
        ),
        (
            ["--workers", "0"],
            "Error: Invalid value for '--workers': 0 is not in the range 1<=x<=64.",
        ),
        (
            ["--keep-alive", "61"],
            "Error: Invalid value for '--keep-alive': 61 is not in the range 1<=x<=60.",
        ),
        (
            ["--threads", "many"],
            "Error: Invalid value for '--threads': 'many' is not a valid integer range.",
        ),
        (["--no-such-option"], "Error: No such option '--no-such-option'."),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(
    options: list[str], message: str, tmp_path: Path
) -> None:
    done = _serve(*options, env={"SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"})
    assert done.returncode == 2
    assert done.stderr.strip() == message
    assert done.stdout == ""


def test_an_address_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve(
            "--port", str(port), env={"SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
        )
    assert done.returncode == 1
    assert (
        done.stderr.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in done.stdout + done.stderr


def test_python_dash_m_app_serve_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "Error: Invalid value for '--port': 0 is not in the range 1<=x<=65535."
    )
