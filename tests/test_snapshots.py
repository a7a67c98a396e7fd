"""Each worker keeps runs as last read, but never serves one another worker has changed since."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import engine_config
from app.engine.reads import status_for
from app.errors import NotFound
from app.http import json_body
from app.store import driver
from app.store.db import get_session
from tests.conftest import basic


@pytest.fixture
def two_workers(database_url: str) -> Iterator[tuple[Flask, Flask]]:
    """Two apps on one database, as two server workers would be."""
    first = create_app({"TESTING": True, "DATABASE_URL": database_url})
    second = create_app({"TESTING": True, "DATABASE_URL": database_url})
    yield first, second
    first.extensions["sandbox.engine"].dispose()
    second.extensions["sandbox.engine"].dispose()


def _happy_path(client: FlaskClient) -> tuple[str, dict[str, str], str]:
    run = client.post(
        "/sandbox/runs", json={"scenario": "happy-path", "clock": {"mode": "manual"}}
    ).json
    assert run is not None
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    return run["id"], auth, run["innsendingReferanser"][0]


def test_a_worker_reuses_the_run_while_nothing_changes(app: Flask) -> None:
    client = app.test_client()
    run_id, auth, ref = _happy_path(client)
    client.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "PT2H"})
    cache = app.extensions["sandbox.snapshots"]
    for _ in range(20):
        assert client.get(f"/api/v1/kvittering?innsendingReferanse={ref}", headers=auth).json
        oppdatering = client.get(f"/api/v1/oppdatering?innsendingReferanse={ref}", headers=auth)
        assert oppdatering.status_code == 200
    assert cache.loads == 1


def test_an_event_applied_by_another_worker_is_served_at_once(
    two_workers: tuple[Flask, Flask],
) -> None:
    serving, other = (w.test_client() for w in two_workers)
    run_id, auth, ref = _happy_path(serving)
    kvittering = f"/api/v1/kvittering?innsendingReferanse={ref}"
    url = f"/api/v1/oppdatering?innsendingReferanse={ref}"
    assert serving.get(kvittering, headers=auth).status_code == 404
    assert serving.get(url, headers=auth).json == []
    # The other worker moves the clock past the journalføring: the step fires there.
    other.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "PT2H"})
    assert serving.get(kvittering, headers=auth).status_code == 200
    # And a hand-applied event on the other worker shows in the next poll here.
    other.post(f"/sandbox/runs/{run_id}/events", json={"type": "vedtak", "resultat": "avslag"})
    seen = serving.get(url, headers=auth).json
    assert seen is not None and seen[-1]["vedtak"]["resultat"] == "avslag"


def test_a_step_falls_due_without_any_change_to_the_run(app: Flask) -> None:
    # An accelerated clock (an hour a second) moves without a write: the cached "nothing due
    # before" time must still let the step fire once the clock reaches it.
    client = app.test_client()
    run = client.post(
        "/sandbox/runs",
        json={"scenario": "happy-path", "clock": {"mode": "accelerated", "factor": 3600}},
    ).json
    assert run is not None
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    url = f"/api/v1/kvittering?innsendingReferanse={run['innsendingReferanser'][0]}"
    assert client.get(url, headers=auth).status_code == 404  # not journalført yet
    for _ in range(60):
        response = client.get(url, headers=auth)
        if response.status_code == 200:
            break
        time.sleep(0.05)
    assert response.status_code == 200


def test_a_finished_run_stops_firing_on_every_worker(two_workers: tuple[Flask, Flask]) -> None:
    serving, other = (w.test_client() for w in two_workers)
    outcomes = {}
    for finish in (False, True):
        run_id, auth, ref = _happy_path(serving)
        url = f"/api/v1/oppdatering?innsendingReferanse={ref}"
        assert serving.get(url, headers=auth).json == []
        if finish:
            other.post(f"/sandbox/runs/{run_id}/finish")
        other.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "P30D"})
        outcomes[finish] = serving.get(url, headers=auth).json
    # The vedtak step was due at P3W: it fired for the live run, not for the finished one.
    assert outcomes[False] and outcomes[False][-1]["vedtak"]["resultat"] == "innvilget"
    assert outcomes[True] == []


def test_a_broken_read_connection_is_replaced_without_failing_the_request(app: Flask) -> None:
    client = app.test_client()
    run_id, auth, ref = _happy_path(client)
    url = f"/api/v1/oppdatering?innsendingReferanse={ref}"
    assert client.get(url, headers=auth).status_code == 200
    engine = app.extensions["sandbox.engine"]
    [broken] = driver._readers[engine].idle
    broken.close()  # as a restarted database server would leave it
    assert client.get(url, headers=auth).status_code == 200
    assert driver._readers[engine].idle != [broken]
    engine.dispose()  # closes the idle read connections too
    assert engine not in driver._readers


def test_a_request_on_a_version_read_before_a_step_sees_none_of_the_step(app: Flask) -> None:
    # A request takes the run (and its virtual time) at one version; the runner's step
    # commits before the request reads the kvittering and oppdateringer. Serving the new
    # rows would journal a 200 kvittering at a virtual time before journalføring, and a
    # client that fetches it once would fail "fetches the kvittering after journalføring".
    client = app.test_client()
    run_id, auth, ref = _happy_path(client)
    cache = app.extensions["sandbox.snapshots"]
    kvittering = f"/api/v1/kvittering?innsendingReferanse={ref}"
    with app.test_request_context():
        stale = cache.load(get_session(), run_id)
        assert stale is not None
        # The step commits (through the control plane, as the runner does).
        client.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "PT2H"})
        with pytest.raises(NotFound):
            stale.kvittering(get_session, ref, json_body)
        # Journalført now; the vedtak (an oppdatering) commits while a request holds this.
        stale = cache.load(get_session(), run_id)
        assert stale is not None
        client.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "P30D"})
        assert stale.oppdateringer(get_session, ref) == []
        status = status_for(get_session(), stale.run, stale.sak(), ref, engine_config())
        assert status["antallOppdateringer"] == "0" and "sisteSekvensnummer" not in status
    # The request that comes next reads the new version: all of it.
    assert client.get(kvittering, headers=auth).status_code == 200
    seen = client.get(f"/api/v1/oppdatering?innsendingReferanse={ref}", headers=auth).json
    assert seen is not None and [o["vedtak"]["resultat"] for o in seen] == ["innvilget"]
