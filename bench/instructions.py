"""Instructions a request costs, counted by valgrind's callgrind: a figure that load does not move.

Wall and CPU times on a shared two-core machine drift by tens of percent from one minute to
the next; the count of machine instructions a request executes does not. This runs the app
in one process (no HTTP server, as ``profile_hot_path.py`` does), warms it, and counts only
the requests (instrumentation is switched on around them, in every thread, so the journal
writer's commit is counted too). Compare a change with its parent commit by this figure,
then confirm it with ``http_bench.py``.

    apt-get install valgrind
    .venv/bin/python bench/instructions.py [kvittering|oppdatering|healthz] [--requests 500]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import subprocess
import sys
import tempfile
from typing import Any


def measure(api: str, requests: int) -> None:
    """Serve ``requests`` requests with callgrind's instrumentation on (the child's part)."""
    from werkzeug.test import EnvironBuilder

    from app import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/i.db", "SCENARIO_RELOAD": False})
        client = app.test_client()
        run = client.post(
            "/sandbox/runs", json={"scenario": "happy-path", "clock": {"mode": "manual"}}
        ).json
        assert run is not None
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "PT2H"})
        credentials = f"{run['credentials']['username']}:{run['credentials']['password']}"
        environ = EnvironBuilder(
            path="/healthz" if api == "healthz" else f"/api/v1/{api}",
            query_string=f"innsendingReferanse={run['innsendingReferanser'][0]}",
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
                "Host": "127.0.0.1:8000",
            },
        ).get_environ()

        def call() -> None:
            body: Any = app({**environ, "wsgi.input": io.BytesIO(b"")}, lambda *_a: None)
            b"".join(body)
            body.close()

        for _ in range(50):  # warm: snapshot, encoded body, compiled statements
            call()
        switch = ["callgrind_control", "--instr"]
        subprocess.run([*switch, "on", str(os.getpid())], capture_output=True, check=True)
        for _ in range(requests):
            call()
        subprocess.run([*switch, "off", str(os.getpid())], capture_output=True, check=True)
        app.extensions["sandbox.engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api", nargs="?", default="kvittering")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.api, args.requests)
        return
    with tempfile.TemporaryDirectory() as folder:
        command = [
            *("valgrind", "--tool=callgrind", "--instr-atstart=no"),
            f"--callgrind-out-file={folder}/callgrind.out",
            *(sys.executable, __file__, args.api, "--requests", str(args.requests), "--child"),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    collected = re.search(r"Collected : (\d+)", out)
    if collected is None:
        sys.exit(f"callgrind printed no count: {out[-400:]}")
    per_request = int(collected[1]) / args.requests
    print(f"{args.api}: {per_request:,.0f} instructions a request ({args.requests} requests)")


if __name__ == "__main__":
    main()
