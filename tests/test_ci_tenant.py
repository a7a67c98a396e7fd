"""CI runs that belong to a tenant (issue 17): ``run --server … --tenant NAME`` and
``POST /sandbox/runs {"tenant": …}``, so a vendor's CI shares its staging sandbox.

Such a run keeps its own credentials, as every CI run does, and belongs to the tenant:
it is listed among the tenant's runs, its references (fresh ones, unique across the
tenant) are found with the tenant's credentials too, and it is kept for the tenant's
retention. Without ``--server`` the flag is a one-line usage error.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from app.store.retention import sweep, sweep_tenants
from tests.conftest import LiveServer, basic
from tests.test_ci_run import CLI, CLIENT, ROOT
from tests.test_tenants import PASSWORD, make_tenant, tenant_body

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "run", *args], capture_output=True, text=True, cwd=ROOT, check=False, timeout=600
    )


def ci_run(client: FlaskClient, scenario: str, **extra: Any) -> Any:
    """POST /sandbox/runs as the runner does, for a tenant."""
    body = {"scenario": scenario, "clock": {"mode": "manual"}, **extra}
    return client.post("/sandbox/runs", json=body)


@SQLITE
def test_the_control_plane_starts_a_run_of_a_tenant(app: Flask, client: FlaskClient) -> None:
    make_tenant(client, retention="P2D")
    make_tenant(client, name="bravo", username="bravo-staging")
    unknown = ci_run(client, "happy-path", tenant="nobody")
    assert unknown.status_code == 400
    assert unknown.get_json()["errors"][0] == {
        "rule": "run.tenant.ukjent",
        "field": "tenant",
        "message": "Leietakeren nobody finnes ikke.",
        "messagetype": "ERROR",
    }
    made = [ci_run(client, s, tenant="acme").get_json() for s in ("happy-path", "happy-path")]
    made.append(ci_run(client, "samling", tenant="acme").get_json())
    assert all(run["tenant"] == "acme" for run in made)
    assert all(run["credentials"]["username"].startswith("klient-") for run in made)
    refs = [ref for run in made for ref in run["innsendingReferanser"]]
    assert len(refs) == 4 and len(set(refs)) == 4  # one scenario twice: fresh references
    plain = ci_run(client, "happy-path").get_json()
    assert plain["tenant"] is None
    assert plain["innsendingReferanser"][0] not in refs  # a plain run keeps its seeded one
    listed = client.get("/sandbox/tenants/acme/runs").get_json()["runs"]
    assert sorted(r["id"] for r in listed) == sorted(r["id"] for r in made)
    tenant, other = basic("acme-staging", PASSWORD), basic("bravo-staging", PASSWORD)
    for run in made:
        own = basic(run["credentials"]["username"], run["credentials"]["password"])
        for ref in run["innsendingReferanser"]:
            url = f"/api/v1/status?innsendingReferanse={ref}"
            assert client.get(url, headers=own).status_code == 200
            assert client.get(url, headers=tenant).status_code == 200, ref
            assert client.get(url, headers=other).status_code == 404
    created = datetime.fromisoformat(listed[0]["createdAt"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(listed[0]["expiresAt"].replace("Z", "+00:00")) - created == (
        timedelta(days=2)
    )
    engine = app.extensions["sandbox.engine"]
    later = datetime.now(UTC) + timedelta(days=1)
    assert sweep(engine, timedelta(hours=1), now=later) == 1  # the plain run only
    assert sweep_tenants(engine, now=later) == 0  # the tenant's: kept for its P2D
    assert sweep_tenants(engine, now=later + timedelta(days=2)) == 3
    assert client.get("/sandbox/tenants/acme/runs").get_json()["runs"] == []


def test_tenant_needs_a_server() -> None:
    result = _run("--scenario", "happy-path", "--client-cmd", CLIENT, "--tenant", "acme")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --tenant needs --server (the sandbox the tenant lives on)"
    ]


@SQLITE
def test_ci_runs_of_a_tenant_over_the_server(live_server: LiveServer, tmp_path: Path) -> None:
    common = ("--server", live_server.url, "--client-cmd", CLIENT, "--jobs", "2")
    unknown = _run(*common, "--scenario", "happy-path", "--tenant", "acme")
    assert unknown.returncode == 2
    assert "--tenant acme: the sandbox at" in unknown.stderr and "no such tenant" in unknown.stderr
    made = requests.post(f"{live_server.url}/sandbox/tenants", json=tenant_body(), timeout=10)
    assert made.status_code == 201, made.text
    out = tmp_path / "r.json"
    result = _run(
        *common, "--scenario", "happy-path", "--scenario", "samling", "--tenant", "acme",
        "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    ids = {r["run"]["id"] for r in json.loads(out.read_text("utf-8"))["runs"]}
    staging = requests.Session()
    staging.auth = ("acme-staging", PASSWORD)
    listed = staging.get(f"{live_server.url}/sandbox/tenants/acme/runs", timeout=10).json()["runs"]
    assert {r["id"] for r in listed} == ids
    assert sorted(r["scenario"] for r in listed) == ["happy-path", "samling"]
    for run in listed:
        for ref in run["innsendingReferanser"]:
            items = staging.get(
                f"{live_server.url}/api/v1/oppdatering",
                params={"innsendingReferanse": ref},
                timeout=10,
            )
            assert items.status_code == 200 and items.json(), ref
