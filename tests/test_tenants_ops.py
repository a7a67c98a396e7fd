"""Operating tenants: the CLI, the tenants file read at start, retention, a restart."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select, update

from app import create_app
from app.cli import main
from app.errors import ConfigError
from app.store import retention
from app.store.models import DokumentRow, JournalEntry, Run, TenantReference
from tests.conftest import INNSENDING, LiveServer, basic

PASSWORD = "acme-staging-secret-1"


def _cli(server: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["tenants", "--server", server, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_create_list_rotate_delete(live_server: LiveServer) -> None:
    made = _cli(
        live_server.url,
        "create",
        "acme",
        "--username",
        "acme-staging",
        "--scenario",
        "happy-path",
        "--rule",
        '{"soknadstype": "ET", "scenario": "splitting"}',
        "--clock",
        "accelerated",
        "--factor",
        "8640",
    )
    assert made["credentials"]["username"] == "acme-staging"
    assert made["rules"] == [{"soknadstype": "ET", "tiltakstype": None, "scenario": "splitting"}]
    assert made["clock"]["factor"] == 8640
    listed = _cli(live_server.url, "list")
    assert [t["name"] for t in listed["tenants"]] == ["acme"]
    rotated = _cli(live_server.url, "rotate", "acme", "--password", PASSWORD)
    assert rotated["credentials"]["password"] == PASSWORD
    assert _cli(live_server.url, "next", "acme", "samling")["next"] == "samling"
    assert _cli(live_server.url, "next", "acme")["next"] is None
    unknown = CliRunner().invoke(
        main, ["tenants", "--server", live_server.url, "next", "acme", "no-such-scenario"]
    )
    assert unknown.exit_code == 2 and "no-such-scenario" in unknown.stderr
    _cli(live_server.url, "delete", "acme")
    gone = CliRunner().invoke(main, ["tenants", "--server", live_server.url, "delete", "acme"])
    assert gone.exit_code == 2


def _tenants_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tenants.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


FILE = """\
tenants:
  - name: acme
    username: acme-staging
    password_env: ACME_PASSWORD
    scenario: happy-path
    clock: {mode: accelerated, factor: 8640}
    retention: P7D
"""


def test_tenants_file_at_start_and_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_PASSWORD", PASSWORD)
    config = {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TENANTS_FILE": _tenants_file(tmp_path, FILE),
    }
    first = create_app(config)
    client = first.test_client()
    made = client.post(
        "/api/v1/innsending", json=INNSENDING, headers=basic("acme-staging", PASSWORD)
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    ref = made.get_json()["innsendingReferanse"]
    assert client.get("/sandbox/tenants/acme").get_json()["retention"] == "P7D"
    first.extensions["sandbox.engine"].dispose()
    # The same file again, on the same database: the tenant and its run are still there.
    again = create_app(config)
    status = again.test_client().get(
        f"/api/v1/status?innsendingReferanse={ref}", headers=basic("acme-staging", PASSWORD)
    )
    assert status.status_code == 200, status.get_data(as_text=True)
    again.extensions["sandbox.engine"].dispose()
    # A changed file brings the tenant in line: a new password, a new retention.
    monkeypatch.setenv("ACME_PASSWORD", PASSWORD + "-rotated")
    config["TENANTS_FILE"] = _tenants_file(tmp_path, FILE.replace("P7D", "P1D"))
    third = create_app(config)
    c3 = third.test_client()
    url = f"/api/v1/status?innsendingReferanse={ref}"
    assert c3.get(url, headers=basic("acme-staging", PASSWORD)).status_code == 401
    assert c3.get(url, headers=basic("acme-staging", PASSWORD + "-rotated")).status_code == 200
    assert c3.get("/sandbox/tenants/acme").get_json()["retention"] == "P1D"
    third.extensions["sandbox.engine"].dispose()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tenants: 3\n", "expected a list of tenants"),
        ("- name: acme\n", "tenant acme: give password_env"),
        ("- name: acme\n  password_env: NOT_SET_ANYWHERE\n", "NOT_SET_ANYWHERE is not set"),
        ("- {name: acme, password: short}\n", "tenant acme: password"),
        (
            "- {name: acme, password: long-enough-pass, scenario: nope}\n",
            "Scenarioet 'nope' finnes ikke",
        ),
    ],
)
def test_a_bad_tenants_file_stops_the_start(tmp_path: Path, text: str, message: str) -> None:
    config = {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TENANTS_FILE": _tenants_file(tmp_path, text),
    }
    with pytest.raises(ConfigError, match=message):
        create_app(config)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tenant_runs_go_after_the_tenants_retention(app: Flask) -> None:
    client = app.test_client()
    for name, kept in (("acme", "P2D"), ("bravo", "P30D")):
        body = {"name": name, "password": PASSWORD, "scenario": "happy-path", "retention": kept}
        body["clock"] = {"mode": "accelerated", "factor": 2_000_000}
        assert client.post("/sandbox/tenants", json=body).status_code == 201
    refs = {}
    for name in ("acme", "bravo"):
        answer = client.post("/api/v1/innsending", json=INNSENDING, headers=basic(name, PASSWORD))
        refs[name] = answer.get_json()["innsendingReferanse"]
    plain = client.post("/sandbox/runs", json={"innsending": INNSENDING}).get_json()
    engine = app.extensions["sandbox.engine"]
    deadline = time.monotonic() + 15
    url = f"/api/v1/oppdatering?innsendingReferanse={refs['acme']}"
    while time.monotonic() < deadline:  # happy-path's vedtak letter: a document to remove
        items = client.get(url, headers=basic("acme", PASSWORD)).get_json()
        if any(item["hendelse"] == "vedtak" for item in items or []):
            break
        time.sleep(0.2)
    with engine.begin() as connection:
        connection.execute(
            update(Run).values(
                created_at=datetime.now(UTC) - timedelta(days=3),
                last_exchange_at=datetime.now(UTC) - timedelta(days=3),
            )
        )
    with engine.connect() as connection:
        acme_run = connection.scalar(
            select(TenantReference.run_id).where(TenantReference.tenant == "acme")
        )
        for table in (JournalEntry, DokumentRow):
            there = connection.scalar(
                select(func.count()).select_from(table).where(table.run_id == acme_run)
            )
            assert there, table
    assert retention.sweep_tenants(engine) == 1
    with engine.connect() as connection:
        left = connection.execute(select(Run.id, Run.tenant)).all()
        assert {tenant for _id, tenant in left} == {"bravo", None}
        for table in (JournalEntry, DokumentRow, TenantReference):
            gone = connection.scalar(
                select(func.count()).select_from(table).where(table.run_id == acme_run)
            )
            assert gone == 0
    # The plain run is kept by SANDBOX_RUN_RETENTION (P7D), not by any tenant's.
    assert plain["id"] in {run_id for run_id, _tenant in left}
    gone = client.get(
        f"/api/v1/status?innsendingReferanse={refs['acme']}", headers=basic("acme", PASSWORD)
    )
    assert gone.status_code == 404


def test_a_tenant_lists_its_own_runs_and_no_one_elses(tmp_path: Path) -> None:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/l.db", "ADMIN_TOKEN": "tok"}
    )
    client = app.test_client()
    admin = {"Authorization": "Bearer tok"}
    for name in ("acme", "bravo"):
        body = {"name": name, "password": PASSWORD, "scenario": "happy-path", "retention": "P2D"}
        assert client.post("/sandbox/tenants", json=body, headers=admin).status_code == 201
    ref = client.post(
        "/api/v1/innsending", json=INNSENDING, headers=basic("acme", PASSWORD)
    ).get_json()["innsendingReferanse"]
    own = client.get("/sandbox/tenants/acme/runs", headers=basic("acme", PASSWORD))
    assert own.status_code == 200, own.get_data(as_text=True)
    [row] = own.get_json()["runs"]
    assert row["innsendingReferanser"] == [ref] and row["scenario"] == "happy-path"
    created = datetime.fromisoformat(row["createdAt"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(row["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=2) <= expires - created < timedelta(days=2, minutes=1)
    assert client.get("/sandbox/tenants/acme/runs", headers=admin).status_code == 200
    assert (
        client.get("/sandbox/tenants/acme/runs", headers=basic("bravo", PASSWORD)).status_code
        == 404
    )
    assert (
        client.get("/sandbox/tenants/acme/runs", headers=basic("acme", "wrong-one")).status_code
        == 401
    )
    assert client.get("/sandbox/tenants/acme/runs").status_code == 401
    # The tenant's credentials open nothing else of the control plane.
    assert client.get("/sandbox/tenants", headers=basic("acme", PASSWORD)).status_code == 401
    assert client.get("/sandbox/runs", headers=basic("acme", PASSWORD)).status_code == 401
    app.extensions["sandbox.engine"].dispose()
