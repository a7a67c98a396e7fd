"""Profile the hot path: 1000 GET /api/v1/kvittering through the Flask test client, one process.

Prints the wall time per request (with the profiler on) and the 30 most expensive calls
by cumulative time. The numbers in bench/README.md came from this script.

    .venv/bin/python bench/profile_hot_path.py
"""

from __future__ import annotations

import base64
import cProfile
import pstats
import tempfile
import time

from app import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/profile.db"})
        client = app.test_client()
        innsending = {
            "soknadstype": "RS",
            "tiltakstype": ["nyttbyggboligformal"],
            "dokumenter": [
                {"dokumentNavn": "a.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "1"}
            ],
        }
        run = client.post(
            "/sandbox/runs", json={"seed": 1, "clock": {"mode": "manual"}, "innsending": innsending}
        ).json
        assert run is not None
        client.post(f"/sandbox/runs/{run['id']}/events", json={"type": "journalfor"})
        token = base64.b64encode(
            f"{run['credentials']['username']}:{run['credentials']['password']}".encode()
        ).decode()
        headers = {"Authorization": f"Basic {token}"}
        url = f"/api/v1/kvittering?innsendingReferanse={run['innsendingReferanser'][0]}"
        for _ in range(50):
            client.get(url, headers=headers)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(1000):
            client.get(url, headers=headers)
        profile.disable()
        print(f"{(time.perf_counter() - started):.2f} ms a request (1000 requests, profiler on)")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        app.extensions["sandbox.engine"].dispose()


if __name__ == "__main__":
    main()
