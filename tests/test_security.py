"""Hostile clients and forged requests: CSRF, security headers, sessions, failed logins, escaping."""

from __future__ import annotations

import io
import json
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder

from app import create_app
from app.reports import markdown
from app.store.auth_failures import tally_of
from app.store.db import get_session
from tests.conftest import basic


def test_markdown_escapes_a_clients_values() -> None:
    hostile = "<script>alert(1)</script> | ![x](http://evil.invalid/x.png) `code` a\\|b\nnext"
    text = markdown.cell(hostile)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\n" not in text
    assert "](" not in text.replace("\\](", "") and "\\[x\\]" in text
    assert "\\`code\\`" in text
    # Every | is escaped, and a client's backslash cannot undo the escape.
    assert text.count("|") == text.count("\\|") == 2
    assert "a\\\\\\|b" in text
    assert markdown.cell(None) == "" and markdown.cell(0) == "0"


def test_the_sqlite_file_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sandbox.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}"})
    client = app.test_client()
    assert client.post("/sandbox/runs", json={}).status_code == 201
    engine = app.extensions["sandbox.engine"]
    with engine.connect() as connection:  # WAL and shared memory exist while it is open
        connection.exec_driver_sql("SELECT count(*) FROM runs")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {
            f.name: 0o600 for f in files
        }
    engine.dispose()


POISONING = """\
id: poisoning
version: 1
title: A run whose username someone else knows
description: A step waits for the client's third poll.
profile: utkast-2022
seed: 14
clock: {start: "2025-03-03T08:00:00Z"}
case:
  kommunenummer: "3201"
  innsendinger:
    - id: soknad
      soknadstype: TA
      tiltakstype: [pabygg]
      tittel: Påbygg
      dokumenter: [{dokumentNavn: Skjema.pdf, mimeType: application/pdf, dokumentStorrelse: "88000"}]
timeline:
  - id: journalfor
    trigger: {at: PT1H}
    event: {type: journalfor}
  - id: etter-tre-polls
    trigger: {on: poll, count: 3}
    event: {type: tildel_saksbehandler}
expect:
  - id: henter-kvittering
    request: {method: GET, path: /api/v1/kvittering}
    count: {min: 1}
"""


@pytest.fixture
def poisoning_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app whose library is the one scenario above."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "poisoning.yaml").write_text(POISONING, "utf-8")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SCENARIO_DIR": str(folder)})
    yield app
    app.extensions["sandbox.engine"].dispose()


def _run_state(client: FlaskClient, run_id: str) -> dict[str, Any]:
    result = client.get(f"/sandbox/runs/{run_id}/result").json
    assert result is not None
    return {
        "journal": client.get(f"/sandbox/runs/{run_id}/journal").json,
        "verdicts": result["verdicts"],
        "timeline": client.get(f"/sandbox/runs/{run_id}/timeline").json,
        "journalCount": client.get(f"/sandbox/runs/{run_id}").json["journalCount"],  # type: ignore[index]
    }


def _wsgi_call(
    app: Flask, method: str, path: str, headers: dict[str, str], body: Any = None
) -> Callable[[], int]:
    """A request made ready once and sent straight to the WSGI app: the test client's own
    work would be most of the time of a flood."""
    environ = EnvironBuilder(method=method, path=path, headers=headers, json=body).get_environ()
    raw = json.dumps(body).encode() if body is not None else b""

    def call() -> int:
        started: list[str] = []
        answer = app(
            {**environ, "wsgi.input": io.BytesIO(raw)}, lambda s, h, e=None: started.append(s)
        )
        b"".join(answer)
        getattr(answer, "close", lambda: None)()
        return int(started[0][:3])

    return call


def test_ten_thousand_wrong_passwords_change_nothing_in_the_run(poisoning_app: Flask) -> None:
    client = poisoning_app.test_client()
    created = client.post(
        "/sandbox/runs", json={"scenario": "poisoning", "clock": {"mode": "manual"}}
    )
    assert created.status_code == 201, created.json
    run: dict[str, Any] = created.json  # type: ignore[assignment]
    username, password = run["credentials"]["username"], run["credentials"]["password"]
    ref = run["innsendingReferanser"][0]
    assert (
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "PT2H"}).status_code == 200
    )
    good = basic(username, password)
    assert (
        client.get(f"/api/v1/kvittering?innsendingReferanse={ref}", headers=good).status_code == 200
    )
    before = _run_state(client, run["id"])

    bad = basic(username, "not-the-password")
    answer = client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=bad)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Basic ")
    assert answer.json == {
        "title": "Mangler gyldig autentisering",
        "status": 401,
        "detail": "Feil brukernavn eller passord.",
        "errors": [
            {
                "rule": "autentisering",
                "field": "Authorization",
                "message": "Feil brukernavn eller passord.",
                "messagetype": "ERROR",
            }
        ],
    }
    calls = [
        _wsgi_call(poisoning_app, "GET", f"/api/v1/kvittering?innsendingReferanse={ref}", bad),
        _wsgi_call(poisoning_app, "GET", f"/api/v1/oppdatering?innsendingReferanse={ref}", bad),
        _wsgi_call(poisoning_app, "GET", f"/api/v1/status?innsendingReferanse={ref}", bad),
        _wsgi_call(poisoning_app, "POST", "/api/v1/supplering", bad, {"innsendingReferanse": ref}),
        _wsgi_call(poisoning_app, "GET", "/api/v1/mangel", bad),  # no view: answered 404
    ]
    started = time.perf_counter()
    statuses = Counter(calls[n % len(calls)]() for n in range(9_999))
    elapsed = time.perf_counter() - started
    assert statuses == {401: 8_000, 404: 1_999}
    poisoning_app.extensions["sandbox.auth_failures"].flush()

    assert _run_state(client, run["id"]) == before
    with poisoning_app.app_context():
        tally = tally_of(get_session(), run["id"])
    assert tally is not None and tally["count"] == 10_000
    # Newest first: the flood ended with supplering (9,998) and the status poll (9,997).
    assert [a["path"] for a in tally["recent"]][:2] == ["/api/v1/supplering", "/api/v1/status"]
    # The flood was written in a few batches, not one write per request.
    assert poisoning_app.extensions["sandbox.auth_failures"].get().batches < elapsed / 0.1 + 5
    # The run's own client goes on as before: its second and third polls fire the step.
    for _ in range(2):
        assert (
            client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=good).status_code == 200
        )
    steps = {
        s["id"]: s["status"]
        for s in client.get(f"/sandbox/runs/{run['id']}/timeline").json["steps"]
    }  # type: ignore[index]
    assert steps["etter-tre-polls"] == "fired"
