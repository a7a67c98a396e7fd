"""The run page's live fragment is rendered only when the run changed (issue 14, item 14)."""

from __future__ import annotations

import time

from flask.testing import FlaskClient

from tests.conftest import INNSENDING, basic


def test_an_unchanged_run_gets_304_and_a_change_a_fresh_fragment(client: FlaskClient) -> None:
    run = client.post("/sandbox/runs", json={"clock": {"mode": "manual"}}).json
    assert run is not None
    url = f"/ui/runs/{run['id']}/live"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    assert int(first.headers["X-Refresh-After"]) >= 1
    assert first.headers["Cache-Control"] == "no-store"
    etag = first.headers["ETag"]
    same = client.get(url, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    # The run's client calls: one more exchange, so the fragment is new.
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    client.get("/api/v1/status?innsendingReferanse=AR1", headers=auth)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Exchanges (1)" in changed.get_data(as_text=True)
    # A clock move is a change too.
    client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "P1D"})
    moved = client.get(url, headers={"If-None-Match": changed.headers["ETag"]})
    assert moved.status_code == 200


def test_a_running_clock_changes_the_fragment_every_second(client: FlaskClient) -> None:
    run = client.post("/sandbox/runs", json={"clock": {"mode": "accelerated"}}).json
    assert run is not None
    url = f"/ui/runs/{run['id']}/live"
    first = client.get(url)
    time.sleep(1.05)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200  # the virtual now it shows has moved


def test_folded_polls_show_their_count(client: FlaskClient) -> None:
    body = {"clock": {"mode": "manual"}, "innsending": INNSENDING}
    run = client.post("/sandbox/runs", json=body).json
    assert run is not None
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    ref = run["innsendingReferanser"][0]
    for _ in range(5):  # the first alone, then one entry for the other four
        client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=auth)
    page = client.get(f"/ui/runs/{run['id']}/live").get_data(as_text=True)
    assert "Exchanges (5)" in page and "× 4, the same answer each time" in page
