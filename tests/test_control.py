"""The control plane and the UI share their actions: the same checks, the same problems."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from app.control.actions import run_or_404
from app.store.db import get_session
from app.ui import run_form
from tests.conftest import INNSENDING, basic, csrf_form

SCENARIO = "mangel-then-vedtak"


def _messages(client: FlaskClient, body: dict[str, Any]) -> list[str]:
    response = client.post("/sandbox/runs", json=body)
    assert response.status_code == 400, response.text
    problems = response.json["errors"]  # type: ignore[index]
    return [p["message"] for p in problems]


@pytest.mark.parametrize(
    "form",
    [
        pytest.param({"seed": "abc"}, id="seed-not-a-number"),
        pytest.param({"seed": "-1"}, id="seed-negative"),
        pytest.param({"clock": "sundial"}, id="unknown-clock-mode"),
        pytest.param({"clock": "on_poll"}, id="on-poll-without-step"),
        pytest.param({"poll_interval": "0"}, id="poll-interval-too-small"),
        pytest.param({"poll_interval": "often"}, id="poll-interval-not-a-number"),
        pytest.param({"scenario": "no-such-scenario"}, id="unknown-scenario"),
        pytest.param({"scenario": ""}, id="no-scenario"),
        pytest.param({"seed": "x", "poll_interval": "-3"}, id="two-fields"),
    ],
)
def test_the_ui_form_fails_with_the_control_planes_problems(
    client: FlaskClient, form: dict[str, str]
) -> None:
    fields = {"scenario": SCENARIO, "clock": "manual", **form}
    expected = _messages(client, run_form(fields))
    page = client.post("/ui/runs", data=csrf_form(client, **fields))
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    for message in expected:
        assert str(escape(message)) in text
    assert client.get("/sandbox/runs").json == {"runs": [], "next": None, "total": 0}


def test_the_ui_form_starts_the_run_the_control_plane_would(
    app: Flask, client: FlaskClient
) -> None:
    form = csrf_form(client, scenario=SCENARIO, seed="7", clock="manual", poll_interval="0.5")
    page = client.post("/ui/runs", data=form)
    assert page.status_code == 303
    (run,) = client.get("/sandbox/runs").json["runs"]  # type: ignore[index]
    assert page.headers["Location"] == f"/ui/runs/{run['id']}"
    assert (run["scenario"], run["seed"], run["clock"]["mode"], run["pollInterval"]) == (
        SCENARIO,
        7,
        "manual",
        0.5,
    )
    assert run["label"] == "started in the web UI"
    with app.app_context():
        assert run_or_404(run["id"]).label == "started in the web UI"
        get_session().close()


def test_a_bad_duration_is_refused_alike(client: FlaskClient) -> None:
    run = client.post("/sandbox/runs", json={"scenario": SCENARIO, "clock": {"mode": "manual"}})
    run_id = run.json["id"]  # type: ignore[index]
    api = client.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "2 days"})
    assert api.status_code == 400
    message = api.json["errors"][0]["message"]  # type: ignore[index]
    page = client.post(f"/ui/runs/{run_id}/advance", data=csrf_form(client, duration="2 days"))
    assert page.status_code == 400 and str(escape(message)) in page.get_data(as_text=True)
    before = client.get(f"/sandbox/runs/{run_id}").json["clock"]["now"]  # type: ignore[index]
    moved = client.post(f"/ui/runs/{run_id}/advance", data=csrf_form(client, duration="P3D"))
    assert moved.status_code == 303
    after = client.get(f"/sandbox/runs/{run_id}").json["clock"]["now"]  # type: ignore[index]
    assert (before[:10], after[:10]) == ("2025-03-03", "2025-03-06")


def test_next_and_finish_do_the_same_from_both(client: FlaskClient) -> None:
    runs = [
        client.post("/sandbox/runs", json={"scenario": SCENARIO, "clock": {"mode": "manual"}}).json[
            "id"
        ]  # type: ignore[index]
        for _ in range(2)
    ]
    assert client.post(f"/sandbox/runs/{runs[0]}/next").status_code == 200
    assert client.post(f"/ui/runs/{runs[1]}/next", data=csrf_form(client)).status_code == 303
    timelines = [client.get(f"/sandbox/runs/{r}/timeline").json for r in runs]
    statuses = [[s["status"] for s in t["steps"]] for t in timelines]  # type: ignore[index]
    assert statuses[0] == statuses[1] and statuses[0][0] == "fired"
    assert client.post(f"/sandbox/runs/{runs[0]}/finish").status_code == 200
    assert client.post(f"/ui/runs/{runs[1]}/finish", data=csrf_form(client)).status_code == 303
    for run_id in runs:
        assert client.get(f"/sandbox/runs/{run_id}").json["status"] == "finished"  # type: ignore[index]
        fire = client.post(f"/sandbox/runs/{run_id}/steps/mangel/fire")
        assert fire.status_code == 409


@pytest.mark.parametrize("action", ["next", "finish", "advance"])
def test_an_unknown_run_is_404_on_both(client: FlaskClient, action: str) -> None:
    page = client.post(
        f"/ui/runs/run-000000000000/{action}", data=csrf_form(client, duration="P1D")
    )
    assert page.status_code == 404
    assert "Kjøringen run-000000000000 finnes ikke." in page.get_data(as_text=True)
    if action != "advance":
        api = client.post(f"/sandbox/runs/run-000000000000/{action}")
        assert api.status_code == 404
        assert api.json["errors"][0]["rule"] == "run.ukjent"  # type: ignore[index]


@pytest.mark.parametrize("query", ["limit=0", "limit=5001", "limit=lots", "etter=-1"])
def test_journal_paging_out_of_range_is_400(client: FlaskClient, query: str) -> None:
    run_id = client.post("/sandbox/runs", json={}).json["id"]  # type: ignore[index]
    response = client.get(f"/sandbox/runs/{run_id}/journal?{query}")
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == query.split("=")[0]  # type: ignore[index]


def test_journal_pages_by_one(client: FlaskClient) -> None:
    run = client.post("/sandbox/runs", json={"innsending": INNSENDING}).json
    assert run is not None
    ref = run["innsendingReferanser"][0]
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    for n in range(3):  # three questions, so no two fold into one entry
        client.get(f"/api/v1/status?innsendingReferanse={ref}&n={n}", headers=auth)
    first = client.get(f"/sandbox/runs/{run['id']}/journal?limit=1").json
    assert first is not None and len(first["entries"]) == 1
    assert first["next"] == first["entries"][0]["id"]
    rest = client.get(f"/sandbox/runs/{run['id']}/journal?etter={first['next']}&limit=5").json
    assert rest is not None and len(rest["entries"]) == 2 and rest["next"] is None
