"""Profile the hot path: GET /api/v1/kvittering (or oppdatering) called on the WSGI app.

One process, no HTTP server: the request goes straight into the app with a prepared WSGI
environ, so what is measured is the sandbox's own work per request (Flask,
authentication, the run snapshot, the journal entry — handed to the worker's journal
thread, which commits it alongside, as in production). The run is a happy-path run,
journalført, vedtak pending, as in the HTTP benchmark. Prints the time per request
without the profiler (median of repeats), a bare route's time for comparison, then the
30 most expensive calls: the request path as the app takes it, with its default settings.

    .venv/bin/python bench/profile_hot_path.py [kvittering|oppdatering]
"""

from __future__ import annotations

import base64
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from typing import Any

from werkzeug.test import EnvironBuilder

from app import create_app


def main() -> None:
    words = [word for word in sys.argv[1:] if not word.startswith("--")]
    api = words[0] if words else "kvittering"
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{folder}/profile.db",
                "SCENARIO_RELOAD": False,
            }
        )
        client = app.test_client()
        run = client.post(
            "/sandbox/runs", json={"scenario": "happy-path", "clock": {"mode": "manual"}}
        ).json
        assert run is not None
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "PT2H"})
        token = base64.b64encode(
            f"{run['credentials']['username']}:{run['credentials']['password']}".encode()
        ).decode()
        environ = EnvironBuilder(
            path=f"/api/v1/{api}",
            query_string=f"innsendingReferanse={run['innsendingReferanser'][0]}",
            headers={"Authorization": f"Basic {token}", "Host": "127.0.0.1:8000"},
        ).get_environ()
        bare = EnvironBuilder(path="/healthz").get_environ()

        def call(base: dict[str, Any]) -> None:
            env = {**base, "wsgi.input": io.BytesIO(b"")}
            body = app(env, lambda status, headers, exc_info=None: None)
            b"".join(body)
            getattr(body, "close", lambda: None)()

        def per_request(base: dict[str, Any], n: int = 1000) -> float:
            started = time.perf_counter()
            for _ in range(n):
                call(base)
            return (time.perf_counter() - started) / n * 1e6

        per_request(environ, 200)  # warm: snapshot, encoded body
        timings = [per_request(environ) for _ in range(5)]
        bare_timings = [per_request(bare) for _ in range(5)]
        print(
            f"GET /api/v1/{api}: median {statistics.median(timings):.0f} µs a request "
            f"(min {min(timings):.0f}); GET /healthz on the same app: "
            f"{statistics.median(bare_timings):.0f} µs (5 × 1000 requests, profiler off)"
        )
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(2000):
            call(environ)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        app.extensions["sandbox.engine"].dispose()


if __name__ == "__main__":
    main()
