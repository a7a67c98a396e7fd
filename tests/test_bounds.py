"""Bounds on what the sandbox accepts: body size (chunked too), nesting, lists, text,
durations, the clock's horizon and numbers, each refused with a problem naming the field."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import limits
from app.http import too_deep
from tests.conftest import INNSENDING, LiveServer, basic

DOCUMENT = {"dokumentNavn": "a.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "1"}


def _problem(response: TestResponse | requests.Response, status: int, rule: str, path: str) -> None:
    """The answer is ``status`` with a problem of ``rule`` at the JSON path ``path``."""
    text = response.text if isinstance(response, requests.Response) else response.get_data(True)
    assert response.status_code == status, text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = json.loads(text)
    assert body["status"] == status and body["title"] and body["detail"]
    found = [(e["rule"], e["field"]) for e in body["errors"]]
    assert (rule, path) in found, body
    assert all(e["message"] and e["messagetype"] == "ERROR" for e in body["errors"])


@pytest.fixture
def run(client: FlaskClient) -> dict[str, Any]:
    """A run with one innsending journalført and a mangel sent, on a manual clock."""
    body = {"innsending": INNSENDING, "clock": {"mode": "manual"}}
    created: dict[str, Any] = client.post("/sandbox/runs", json=body).json  # type: ignore[assignment]
    client.post(f"/sandbox/runs/{created['id']}/events", json={"type": "journalfor"})
    created["auth"] = basic(created["credentials"]["username"], created["credentials"]["password"])
    created["ref"] = created["innsendingReferanser"][0]
    return created


# ---- item 2: body size, with and without Content-Length ----------------------------------


def _chunks(size: int) -> Iterator[bytes]:
    """A JSON object of about ``size`` bytes, sent without Content-Length (chunked)."""
    yield b'{"label": "'
    for _ in range(size // 65536):
        yield b"x" * 65536
    yield b'"}'


def test_a_chunked_body_over_the_limit_is_413_not_cut_short(live_server: LiveServer) -> None:
    url = f"{live_server.url}/sandbox/runs"
    headers = {"Content-Type": "application/json"}
    big = requests.post(url, data=_chunks(3 * 1024 * 1024), headers=headers, timeout=30)
    _problem(big, 413, "body.for_stor", "$")
    assert "grensen er 1048576 byte" in big.json()["detail"]
    small = requests.post(url, data=_chunks(70_000), headers=headers, timeout=30)
    assert small.status_code == 400, small.text  # read whole: only the label's length is wrong
    assert small.json()["errors"][0]["rule"] == "run.label.lengde"
    fits = requests.post(url, data=iter([b'{"label": ', b'"ok"}']), headers=headers, timeout=30)
    assert fits.status_code == 201 and fits.json()["label"] == "ok"


def test_a_chunked_body_over_the_limit_is_413_under_granian(tmp_path: Path) -> None:
    from tests.test_serve import served

    with served(f"sqlite:///{tmp_path / 's.db'}", tmp_path, "--workers", "1") as base:
        big = requests.post(
            f"{base}/sandbox/runs",
            data=_chunks(3 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        _problem(big, 413, "body.for_stor", "$")


# ---- item 3: lists and text have bounds ----------------------------------------------------


def test_ten_thousand_dokumenter_are_refused_before_they_are_read(
    client: FlaskClient, run: dict[str, Any]
) -> None:
    body = {**INNSENDING, "dokumenter": [DOCUMENT] * 10_000}
    started = time.monotonic()
    response = client.post("/api/v1/innsending", json=body, headers=run["auth"])
    assert time.monotonic() - started < 0.5
    _problem(response, 400, "innsending.dokumenter.antall", "dokumenter")
    assert f"høyst {limits.DOCUMENTS} elementer" in response.json["detail"]  # type: ignore[index]
    right = {**INNSENDING, "dokumenter": [DOCUMENT] * limits.DOCUMENTS}
    assert client.post("/api/v1/innsending", json=right, headers=run["auth"]).status_code == 201


def test_ten_thousand_ettersendinger_are_refused(client: FlaskClient, run: dict[str, Any]) -> None:
    ettersending = {"tema": "annet", "tittel": "Mer"}
    body = {"innsendingReferanse": run["ref"], "ettersending": [ettersending] * 10_000}
    response = client.post("/api/v1/supplering", json=body, headers=run["auth"])
    _problem(response, 400, "supplering.ettersending.antall", "ettersending")


def test_a_mangel_with_ten_thousand_items_is_refused(
    client: FlaskClient, run: dict[str, Any]
) -> None:
    item = {"sjekkpunktId": "1.73", "utfall": "MSL", "tittel": "Situasjonsplan"}
    body = {"type": "mangel", "mangler": [item] * 10_000}
    response = client.post(f"/sandbox/runs/{run['id']}/events", json=body)
    _problem(response, 400, "hendelse.mangler.antall", "mangler")
    case = client.get(f"/sandbox/runs/{run['id']}/case").json
    assert case is not None and case["sak"]["innsendinger"][0]["mangler"] == []


def test_long_text_is_refused_with_its_path(client: FlaskClient, run: dict[str, Any]) -> None:
    ettersending = {"tema": "annet", "tittel": "Mer", "kommentar": "x" * (limits.TEXT + 1)}
    body = {"innsendingReferanse": run["ref"], "ettersending": [ettersending]}
    response = client.post("/api/v1/supplering", json=body, headers=run["auth"])
    _problem(response, 400, "supplering.ettersending.kommentar.lengde", "ettersending[0].kommentar")
    line = {"type": "komplett", "melding": ["x" * (limits.TEXT + 1)]}
    _problem(
        client.post(f"/sandbox/runs/{run['id']}/events", json=line),
        400,
        "hendelse.melding.lengde",
        "melding[0]",
    )


# ---- item 4: nesting is bounded before the body is parsed ---------------------------------


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("POST", "/api/v1/innsending", True),
        ("POST", "/api/v1/supplering", True),
        ("POST", "/sandbox/runs", False),
        ("POST", "/sandbox/runs/{run}/events", False),
        ("POST", "/sandbox/runs/{run}/clock", False),
    ],
)
@pytest.mark.parametrize("depth", [limits.JSON_DEPTH + 1, 3_000, 200_000])
def test_deep_json_is_400_on_every_body(
    client: FlaskClient, run: dict[str, Any], method: str, path: str, auth: bool, depth: int
) -> None:
    body = '{"a": ' + "[" * depth + "]" * depth + "}"
    response = client.open(
        path.replace("{run}", run["id"]),
        method=method,
        data=body,
        content_type="application/json",
        headers=run["auth"] if auth else {},
    )
    _problem(response, 400, "body.dybde", "$")
    assert f"dypere enn {limits.JSON_DEPTH} nivåer" in response.json["detail"]  # type: ignore[index]


def test_the_depth_count_reads_strings_and_escapes() -> None:
    depth = limits.JSON_DEPTH
    assert not too_deep("[" * depth + "]" * depth)
    assert too_deep("[" * (depth + 1) + "]" * (depth + 1))
    assert too_deep("[{}" * (depth + 1))  # deep without a long run of openers
    assert not too_deep(json.dumps({"tittel": "[" * 100, "b": '\\"[[[[', "c": [[1], [2]] * 50}))
    assert too_deep("[" * 100)  # never closed, but opened past the limit all the same
    assert not too_deep("[}" * 100)  # malformed: left for the parser to place


def test_a_body_within_the_depth_still_loads(client: FlaskClient, run: dict[str, Any]) -> None:
    metadata = [{"key": "k", "value": "v"}]
    body = {**INNSENDING, "dokumenter": [{**DOCUMENT, "ekstraMetadata": metadata}]}
    assert client.post("/api/v1/innsending", json=body, headers=run["auth"]).status_code == 201


# ---- item 5: durations, and the clock's horizon --------------------------------------------


@pytest.mark.parametrize("step", ["P", "PT", "P91WT", "P1000000000W", "P100000000W", "P521W"])
def test_an_on_poll_step_the_parser_refuses_is_400(client: FlaskClient, step: str) -> None:
    response = client.post("/sandbox/runs", json={"clock": {"mode": "on_poll", "step": step}})
    _problem(response, 400, "run.clock.step.format", "clock.step")


@pytest.mark.parametrize("advance", ["P", "PT", "P91WT", "P99999999999W", "P100000000W", "x"])
def test_a_clock_move_the_parser_refuses_is_400(
    client: FlaskClient, run: dict[str, Any], advance: str
) -> None:
    before = client.get(f"/sandbox/runs/{run['id']}").json["clock"]["now"]  # type: ignore[index]
    response = client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": advance})
    _problem(response, 400, "klokke.advance.format", "advance")
    after = client.get(f"/sandbox/runs/{run['id']}")
    assert after.status_code == 200 and after.json["clock"]["now"] == before  # type: ignore[index]


def test_the_longest_move_is_allowed(client: FlaskClient, run: dict[str, Any]) -> None:
    response = client.post(
        f"/sandbox/runs/{run['id']}/clock", json={"advance": limits.DURATION_MAX_TEXT}
    )
    assert response.status_code == 200, response.json


def test_a_move_past_the_horizon_is_409_and_the_clock_stays(client: FlaskClient) -> None:
    start = "2199-06-01T00:00:00Z"
    created = client.post("/sandbox/runs", json={"clock": {"mode": "manual", "start": start}})
    run_id = created.json["id"]  # type: ignore[index]
    response = client.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "P52W"})
    _problem(response, 409, "klokke.horisont", "advance")
    assert limits.HORIZON_TEXT in response.json["detail"]  # type: ignore[index]
    now = client.get(f"/sandbox/runs/{run_id}").json["clock"]["now"]  # type: ignore[index]
    assert now == "2199-06-01T00:00:00.000Z"


def test_a_fast_clock_stops_at_the_horizon(client: FlaskClient) -> None:
    clock = {"mode": "accelerated", "factor": 10_000_000, "start": "2199-12-31T00:00:00Z"}
    body = {"clock": clock, "innsending": INNSENDING}
    created: dict[str, Any] = client.post("/sandbox/runs", json=body).json  # type: ignore[assignment]
    time.sleep(0.05)
    auth = basic(created["credentials"]["username"], created["credentials"]["password"])
    ref = created["innsendingReferanser"][0]
    for _ in range(3):
        run = client.get(f"/sandbox/runs/{created['id']}")
        assert run.status_code == 200
        assert run.json["clock"]["now"] == "2200-01-01T00:00:00.000Z"  # type: ignore[index]
        status = client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=auth)
        assert status.status_code == 200, status.json


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:59-23:59", "2200-01-01T00:00:01Z", "0001-01-01T00:00:00+01:00"]
)
def test_a_clock_start_outside_the_sandbox_time_is_400(client: FlaskClient, start: str) -> None:
    response = client.post("/sandbox/runs", json={"clock": {"mode": "manual", "start": start}})
    _problem(response, 400, "run.clock.start.ugyldig", "clock.start")


# ---- item 6: values no schema type would catch ---------------------------------------------


@pytest.mark.parametrize("body", [{"type": []}, {"type": {"a": 1}}, {}, {"type": 7}])
def test_an_event_without_a_type_text_is_400(
    client: FlaskClient, run: dict[str, Any], body: dict[str, Any]
) -> None:
    response = client.post(f"/sandbox/runs/{run['id']}/events", json=body)
    _problem(response, 400, "hendelse.type.ugyldig", "type")


@pytest.mark.parametrize("seed", ["9223372036854775808", "-1", "1e400", str(10**400)])
def test_a_seed_outside_64_bits_is_400(client: FlaskClient, seed: str) -> None:
    response = client.post(
        "/sandbox/runs", data='{"seed": ' + seed + "}", content_type="application/json"
    )
    _problem(response, 400, "run.seed.ugyldig" if "e" not in seed else "run.seed.type", "seed")


def test_the_largest_seed_is_kept(client: FlaskClient) -> None:
    response = client.post("/sandbox/runs", json={"seed": limits.SEED_MAX})
    assert response.status_code == 201 and response.json["seed"] == limits.SEED_MAX  # type: ignore[index]


# ---- the bounds are in the documents -------------------------------------------------------


def test_the_openapi_document_shows_the_bounds(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    assert spec is not None
    schemas = spec["components"]["schemas"]
    innsending = schemas["Innsending"]["properties"]
    assert innsending["dokumenter"]["maxItems"] == limits.DOCUMENTS
    assert innsending["tiltakstype"]["maxItems"] == limits.CODES
    supplering = schemas["Supplering"]["properties"]
    assert supplering["mangelbesvarelse"]["maxItems"] == limits.ITEMS
    assert supplering["innsendingReferanse"]["maxLength"] == limits.IDENTIFIER
    advance = schemas["ClockMove"]["properties"]["advance"]
    assert advance["x-duration-max"] == limits.DURATION_MAX_TEXT and advance["maxLength"] == 40
    assert schemas["RunCreate"]["properties"]["seed"]["maximum"] == limits.SEED_MAX
    # Each event kind is its own schema under the discriminator, its type a constant.
    assert schemas["MangelEvent"]["properties"]["type"]["const"] == "mangel"
    assert schemas["MangelEvent"]["properties"]["mangler"]["maxItems"] == limits.ITEMS


# ---- item 7: what a finished run answers is in the document --------------------------------


def test_a_finished_run_refuses_changes_with_a_documented_409(
    client: FlaskClient, run: dict[str, Any]
) -> None:
    spec = client.get("/openapi.json").json
    assert spec is not None
    assert client.post(f"/sandbox/runs/{run['id']}/finish").status_code == 200
    attempts = [
        ("/sandbox/runs/{runId}/next", "post", None),
        ("/sandbox/runs/{runId}/finish", "post", None),
        ("/sandbox/runs/{runId}/clock", "post", {"advance": "P1D"}),
        ("/sandbox/runs/{runId}/events", "post", {"type": "komplett"}),
    ]
    for path, method, body in attempts:
        response = client.open(path.replace("{runId}", run["id"]), method=method, json=body)
        _problem(response, 409, "run.avsluttet", "runId")
        assert "409" in spec["paths"][path][method]["responses"], path
    innsending = client.post("/api/v1/innsending", json=INNSENDING, headers=run["auth"])
    _problem(innsending, 409, "run.avsluttet", "runId")
    assert "409" in spec["paths"]["/api/v1/innsending"]["post"]["responses"]


def test_the_wire_contract_states_the_bounds_in_force() -> None:
    text = (Path(__file__).parents[1] / "docs" / "wire-contract.md").read_text("utf-8")
    section = text[text.index("## Bounds") : text.index("## What the sandbox emits")]
    for figure in (
        f"{limits.JSON_DEPTH} levels, counted before",
        f"| {limits.DOCUMENTS} files |",
        f"| {limits.METADATA} pairs |",
        f"| {limits.ITEMS} items |",
        f"| {limits.CODES} codes |",
        f"| {limits.LINES} lines |",
        f"| {limits.IDENTIFIER} characters |",
        f"| {limits.NAME}; {limits.FILE_NAME} characters |",
        f"| {limits.TEXT:,} characters |",
        f"`PT0S` to `{limits.DURATION_MAX_TEXT}`; at most {limits.VIRKEDAGER_MAX:,} virkedager",
        f"{limits.EARLIEST:%Y-%m-%d} to {limits.HORIZON:%Y-%m-%d} (the horizon)",
        f"at most {limits.SCENARIO_BYTES // 1024} KiB, {limits.SCENARIO_DEPTH} levels",
        f"{limits.SCENARIO_NODES:,} nodes",
    ):
        assert figure in section, figure
