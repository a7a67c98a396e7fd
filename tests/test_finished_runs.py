"""A finished run is read-only: every change answers 409, its client may still read it."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import INNSENDING, basic


def _finished(client: FlaskClient, **clock: Any) -> tuple[str, dict[str, str], str]:
    run = client.post(
        "/sandbox/runs",
        json={"scenario": "mangel-then-vedtak", "clock": {"mode": "manual", **clock}},
    ).json
    assert run is not None
    run_id = run["id"]
    assert client.post(f"/sandbox/runs/{run_id}/next").status_code == 200
    assert client.post(f"/sandbox/runs/{run_id}/finish").status_code == 200
    headers = basic(run["credentials"]["username"], run["credentials"]["password"])
    return run_id, headers, run["innsendingReferanser"][0]


def _refused(answer: Any) -> None:
    assert answer.status_code == 409, answer.json
    assert answer.json["errors"][0]["rule"] == "run.avsluttet"
    assert "avsluttet" in answer.json["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("next", None),
        ("clock", {"advance": "P1D"}),
        ("events", {"type": "tildel_saksbehandler"}),
        ("steps/vedtak/fire", None),
        ("finish", None),
    ],
)
def test_every_control_change_to_a_finished_run_is_a_409(
    client: FlaskClient, path: str, body: dict[str, Any] | None
) -> None:
    run_id, _headers, _ref = _finished(client)
    before = client.get(f"/sandbox/runs/{run_id}").json
    assert before is not None and before["status"] == "finished"
    _refused(client.post(f"/sandbox/runs/{run_id}/{path}", json=body))
    after = client.get(f"/sandbox/runs/{run_id}").json
    assert after is not None
    assert after["clock"]["now"] == before["clock"]["now"]


def test_the_client_may_read_a_finished_run_but_not_change_it(client: FlaskClient) -> None:
    run_id, headers, ref = _finished(client)
    kvittering = client.get(
        "/api/v1/kvittering", query_string={"innsendingReferanse": ref}, headers=headers
    )
    assert kvittering.status_code == 200
    _refused(client.post("/api/v1/innsending", json=INNSENDING, headers=headers))
    supplering = {
        "innsendingReferanse": ref,
        "ettersending": [{"tema": "generelt", "tittel": "Svar", "kommentar": "Se vedlegg."}],
    }
    _refused(client.post("/api/v1/supplering", json=supplering, headers=headers))


def test_an_on_poll_clock_stands_still_once_the_run_is_finished(client: FlaskClient) -> None:
    run = client.post(
        "/sandbox/runs",
        json={"scenario": "happy-path", "clock": {"mode": "on_poll", "step": "PT6H"}},
    ).json
    assert run is not None
    headers = basic(run["credentials"]["username"], run["credentials"]["password"])
    ref = run["innsendingReferanser"][0]
    assert client.post(f"/sandbox/runs/{run['id']}/finish").status_code == 200
    now = client.get(f"/sandbox/runs/{run['id']}").json["clock"]["now"]  # type: ignore[index]
    for _ in range(3):
        client.get("/api/v1/status", query_string={"innsendingReferanse": ref}, headers=headers)
    assert client.get(f"/sandbox/runs/{run['id']}").json["clock"]["now"] == now  # type: ignore[index]
