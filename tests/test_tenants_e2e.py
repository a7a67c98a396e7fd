"""Issue 17's must-show, over real HTTP against the project's own ``serve`` on loopback.

Two tenants. Tenant A's staging system submits four søknader: three with different
markers (one of them a DiBK XML form with the marker in ``prosjektnavn``) and one with
none (the tenant's default). Each plays its own scenario on an accelerated clock while
the test only polls with A's fixed credentials, as a staging system would: no
control-plane call until every case has its vedtak. One of the four is followed by a
deliberately careless client (it never downloads a letter); its verdict fails for that
reason and no other, the other three pass. Tenant B's credentials get 404 for every one
of A's references; after a restart on the same database A's credentials and runs still
work; B's run, idle past B's retention, is gone with its journal and documents.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import Engine, create_engine, func, select

from app.store.models import Base
from tests.conftest import INNSENDING
from tests.crash_harness import Database, Server, database
from tests.dibk_forms import FIXTURES
from tests.vendor import mangel_answer

__all__ = ["database"]  # the fixture, shared with the crash harness

ADMIN_TOKEN = "e2e-admin-token-for-tenants"
PASSWORD = "acme-staging-secret-1"
FACTOR = 50_000  # about 14 virtual hours a second: three weeks in 36 s
CYCLE = 0.6  # seconds between the same poll (a tenant's run agrees on 1 s; half of it is 0.5)
B_RETENTION_SECONDS = 20
PLAY_SECONDS = 150.0
RUN_TABLES = sorted(name for name, t in Base.metadata.tables.items() if "run_id" in t.columns)


class TenantServer(Server):
    """``serve`` with an admin token, its base URL taken from each request (ports change)."""

    def _environment(self) -> dict[str, str]:
        env = super()._environment()
        env.pop("SANDBOX_BASE_URL")
        env["SANDBOX_ADMIN_TOKEN"] = ADMIN_TOKEN
        return env


@pytest.fixture
def server(database: Database, tmp_path: Path) -> Iterator[TenantServer]:
    """The sandbox, started; killed at the end whatever happened."""
    served = TenantServer(database, tmp_path)
    served.start()
    yield served
    served.stop()


class StagingSystem:
    """A søknadssystem configured once (base URL, username, password) that follows every
    reference it submitted: kvittering, oppdatering (by cursor), status, letters, mangler."""

    def __init__(self, server: Server, username: str, password: str) -> None:
        self.server = server
        self.http = requests.Session()
        self.http.auth = (username, password)
        self.oppdateringer: dict[str, list[dict[str, Any]]] = {}
        self.letters: dict[str, list[str]] = {}  # reference -> dokumentUrl paths
        self.answered: set[str] = set()
        self.last_poll: dict[tuple[str, str], float] = {}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request to the server as it runs now (its port changes on a restart)."""
        return self.http.request(method, f"{self.server.url}{path}", timeout=15, **kwargs)

    def submit(self, **fields: Any) -> str:
        """Send a JSON søknad; its innsendingReferanse."""
        return self._sent(self.call("POST", "/api/v1/innsending", json={**INNSENDING, **fields}))

    def submit_xml(self, prosjektnavn: str) -> str:
        """Send DiBK's rammesøknad (XML) with this prosjektnavn; its innsendingReferanse."""
        text = (FIXTURES / "rs-v4.xml").read_text("utf-8")
        text = text.replace("Boligblokk Prøvevegen", prosjektnavn)
        headers = {"Content-Type": "application/xml"}
        return self._sent(
            self.call("POST", "/api/v1/innsending", data=text.encode(), headers=headers)
        )

    def _sent(self, response: requests.Response) -> str:
        assert response.status_code == 201, response.text
        ref = str(response.json()["innsendingReferanse"])
        self.oppdateringer[ref] = []
        return ref

    def get(self, api: str, ref: str, **extra: Any) -> requests.Response:
        """GET an API for ``ref``, CYCLE after the answer to the last such poll at the earliest."""
        last = self.last_poll.get((api, ref))
        if last is not None:
            time.sleep(max(0.0, last + CYCLE - time.monotonic()))
        answer = self.call("GET", f"/api/v1/{api}", params={"innsendingReferanse": ref, **extra})
        self.last_poll[api, ref] = time.monotonic()
        return answer

    def poll(self, ref: str, *, letters: bool = True) -> bool:
        """One round for ``ref``; whether its vedtak has come."""
        kvittering = self.get("kvittering", ref)
        assert kvittering.status_code in (200, 404), kvittering.text
        seen = self.oppdateringer[ref]
        etter = max((int(o["sekvensnummer"]) for o in seen), default=0)
        items = self.get("oppdatering", ref, etter=etter)
        assert items.status_code == 200, items.text
        for item in items.json():
            if all(o["sekvensnummer"] != item["sekvensnummer"] for o in seen):
                seen.append(item)
            for dokument in item.get("utgaaendeDokument") or []:
                path = urlsplit(dokument["dokumentUrl"]).path
                if path not in self.letters.setdefault(ref, []):
                    self.letters[ref].append(path)
                    if letters:
                        got = self.call("GET", path)
                        assert got.status_code == 200 and got.content.startswith(b"%PDF")
        status = self.get("status", ref)
        assert status.status_code == 200, status.text
        self._answer(ref, status.json())
        return any(o["hendelse"] == "vedtak" for o in seen)

    def _answer(self, ref: str, status: dict[str, Any]) -> None:
        """Answer every open mangel, echoing its mangelID, on the current saksnummer."""
        body, open_ids = mangel_answer(ref, status, self.answered, self.oppdateringer[ref])
        if not open_ids:
            return
        answer = self.call("POST", "/api/v1/supplering", json=body)
        assert answer.status_code == 201, answer.text
        self.answered.update(open_ids)


def play(staging: StagingSystem, refs: list[str], careless: str) -> None:
    """Poll every reference until each has its vedtak (letters but ``careless``'s)."""
    done: set[str] = set()
    deadline = time.monotonic() + PLAY_SECONDS
    while done != set(refs):
        assert time.monotonic() < deadline, f"no vedtak in {PLAY_SECONDS} s for {set(refs) - done}"
        for ref in refs:
            if ref not in done and staging.poll(ref, letters=ref != careless):
                done.add(ref)


def rows_of(engine: Engine, run_id: str) -> dict[str, int]:
    """How many rows of each run-keyed table (journal, documents, case rows …) the run has."""
    counts = {}
    with engine.connect() as connection:
        for name in RUN_TABLES:
            rows = Base.metadata.tables[name]
            query = select(func.count()).select_from(rows).where(rows.c.run_id == run_id)
            counts[name] = int(connection.execute(query).scalar_one())
    return counts


def test_two_tenants_four_soknader_restart_and_retention(
    server: TenantServer, database: Database
) -> None:
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    tenants = {
        "acme": {"scenario": "happy-path", "clock": {"mode": "accelerated", "factor": FACTOR}},
        "bravo": {
            "scenario": "happy-path",
            "clock": {"mode": "accelerated", "factor": 2_000_000},
            "retention": f"PT{B_RETENTION_SECONDS}S",
        },
    }
    for name, fields in tenants.items():
        body = {"name": name, "username": f"{name}-staging", "password": PASSWORD, **fields}
        made = admin.post(f"{server.url}/sandbox/tenants", json=body, timeout=15)
        assert made.status_code == 201, made.text

    # B plays one case to its vedtak letter, then stays idle past its retention.
    bravo = StagingSystem(server, "bravo-staging", PASSWORD)
    b_ref = bravo.submit(tittel="Bod")
    play(bravo, [b_ref], careless="")
    b_idle_since = time.monotonic()

    acme = StagingSystem(server, "acme-staging", PASSWORD)
    mangel = acme.submit(tittel="Rekkehus [sandbox:mangel-then-vedtak]")
    fordeling = acme.submit_xml("Boligblokk [Sandbox:Fordelingssak-Renumbering] Prøvevegen")
    careless = acme.submit(tittel="Tilbygg [SANDBOX:soknadstype-change]")
    plain = acme.submit(tittel="Enebolig uten markør")
    refs = [mangel, fordeling, careless, plain]
    assert len(set(refs)) == 4
    play(acme, refs, careless)  # polls only, with A's credentials

    listed = admin.get(f"{server.url}/sandbox/tenants/acme/runs", timeout=15).json()["runs"]
    by_ref = {r["innsendingReferanser"][0]: r for r in listed}
    assert {ref: by_ref[ref]["scenario"] for ref in refs} == {
        mangel: "mangel-then-vedtak",
        fordeling: "fordelingssak-renumbering",
        careless: "soknadstype-change",
        plain: "happy-path",
    }
    results = {}
    for ref in refs:
        run_id = by_ref[ref]["id"]
        finished = admin.post(f"{server.url}/sandbox/runs/{run_id}/finish", timeout=15)
        assert finished.status_code == 200, finished.text
        results[ref] = admin.get(f"{server.url}/sandbox/runs/{run_id}/result", timeout=30).json()
    for ref in (mangel, fordeling, plain):
        verdicts = {
            v["id"]: (v["status"], v["reason"])
            for v in results[ref]["verdicts"]
            if v["status"] != "PASSED"
        }
        assert results[ref]["passed"] is True, (by_ref[ref]["scenario"], verdicts)
    careless_verdicts = {v["id"]: v for v in results[careless]["verdicts"]}
    failed = {k: v for k, v in careless_verdicts.items() if v["status"] == "FAILED"}
    assert results[careless]["passed"] is False
    assert list(failed) == ["henter-brev"], careless_verdicts  # downloads_documents, alone
    others = {k: v["status"] for k, v in careless_verdicts.items() if k not in failed}
    assert set(others.values()) <= {"PASSED", "SKIPPED"}, {  # SKIPPED: did not apply
        k: (v["status"], v["reason"]) for k, v in careless_verdicts.items()
    }
    assert acme.letters[careless], "the letters were there to download"

    # B's credentials find none of A's references, documents or runs.
    for ref in refs:
        for path in ("kvittering", "oppdatering", "status"):
            answer = bravo.call("GET", f"/api/v1/{path}", params={"innsendingReferanse": ref})
            assert answer.status_code == 404, (path, answer.text)
        supplering = bravo.call(
            "POST", "/api/v1/supplering", json={"innsendingReferanse": ref, "mangelbesvarelse": []}
        )
        assert supplering.status_code == 404, supplering.text
        for letter in acme.letters[ref]:
            assert bravo.call("GET", letter).status_code == 404
    assert bravo.call("GET", "/sandbox/tenants/acme/runs").status_code == 404

    engine = database.engine or create_engine(database.server_url)
    b_run = admin.get(f"{server.url}/sandbox/tenants/bravo/runs", timeout=15).json()["runs"][0]
    assert rows_of(engine, b_run["id"])["journal"] > 0
    assert rows_of(engine, b_run["id"])["dokumenter"] > 0

    time.sleep(max(0.0, B_RETENTION_SECONDS + 1 - (time.monotonic() - b_idle_since)))
    server.kill()
    server.start()  # the same database; the first request of each worker sweeps

    for ref in refs:
        for path in ("kvittering", "oppdatering", "status"):
            answer = acme.call("GET", f"/api/v1/{path}", params={"innsendingReferanse": ref})
            assert answer.status_code == 200, (path, answer.text)
        for letter in acme.letters[ref]:
            assert acme.call("GET", letter).status_code == 200
    mine = acme.call("GET", "/sandbox/tenants/acme/runs")
    assert mine.status_code == 200 and len(mine.json()["runs"]) == 4
    assert acme.submit(tittel="Etter omstart") not in refs  # and takes new søknader
    assert acme.call("GET", "/sandbox/tenants/bravo/runs").status_code == 404

    assert bravo.get("status", b_ref).status_code == 404
    assert admin.get(f"{server.url}/sandbox/runs/{b_run['id']}", timeout=15).status_code == 404
    assert admin.get(f"{server.url}/sandbox/tenants/bravo/runs", timeout=15).json()["runs"] == []
    assert set(rows_of(engine, b_run["id"]).values()) == {0}
    assert all(rows_of(engine, by_ref[ref]["id"])["journal"] > 0 for ref in refs)
    with engine.connect() as connection:
        kept = connection.execute(
            select(func.count()).select_from(Base.metadata.tables["tenant_references"])
        ).scalar_one()
    assert kept == 5  # A's; B's reference went with its run
