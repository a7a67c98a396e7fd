"""A clock that starts on the client's first request: it stands still until the client calls."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from tests.conftest import INNSENDING, basic

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_clock_waits_for_the_first_request_then_runs(client: FlaskClient) -> None:
    clock = {"mode": "accelerated", "factor": 86_400, "startsOnFirstRequest": True}
    made = client.post("/sandbox/runs", json={"innsending": INNSENDING, "clock": clock})
    assert made.status_code == 201, made.get_data(as_text=True)
    run = made.get_json()
    assert run["clock"]["waitingForFirstRequest"] is True
    time.sleep(0.3)
    waiting = client.get(f"/sandbox/runs/{run['id']}").get_json()["clock"]
    assert waiting["now"] == run["clock"]["start"]  # no client yet: the clock stands
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    ref = run["innsendingReferanser"][0]
    assert client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=auth).status_code
    time.sleep(0.3)
    running = client.get(f"/sandbox/runs/{run['id']}").get_json()["clock"]
    assert running["waitingForFirstRequest"] is False
    assert running["now"] > run["clock"]["start"]  # a day a second: hours have gone


def test_only_realtime_and_accelerated_clocks_wait(client: FlaskClient) -> None:
    clock = {"mode": "manual", "startsOnFirstRequest": True}
    refused = client.post("/sandbox/runs", json={"clock": clock})
    assert refused.status_code == 400
    assert refused.get_json()["errors"][0]["field"].endswith("startsOnFirstRequest")
