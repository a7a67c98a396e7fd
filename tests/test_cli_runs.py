"""``byggesak-sandbox runs``: ``--server`` before or after the command, and ``start --env``
prints every BYGGESAK_* variable a client reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer

CLI = Path(sys.executable).with_name("byggesak-sandbox")


def _runs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "runs", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_start_env_prints_every_client_variable_and_server_goes_anywhere(
    live_server: LiveServer,
) -> None:
    started = _runs("start", "happy-path", "--env", "--server", live_server.url)
    assert started.returncode == 0, started.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines()
    )
    assert set(exports) == {
        "BYGGESAK_RUN_ID",
        "BYGGESAK_BASE_URL",
        "BYGGESAK_API_BASE_URL",
        "BYGGESAK_USERNAME",
        "BYGGESAK_PASSWORD",
        "BYGGESAK_INNSENDINGSREFERANSER",
        "BYGGESAK_POLL_INTERVAL",
    }
    assert exports["BYGGESAK_API_BASE_URL"] == exports["BYGGESAK_BASE_URL"] + "/api/v1"
    run_id = exports["BYGGESAK_RUN_ID"]
    before = _runs("--server", live_server.url, "timeline", run_id)
    after = _runs("timeline", run_id, "--server", live_server.url)
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout
