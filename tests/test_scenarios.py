"""Scenario files: lint, the JSON Schema, the calendar, hot reload, clock modes and faults."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.domain.calendar import add_virkedager, easter_sunday, is_virkedag
from app.scenarios.loader import load_text
from app.scenarios.registry import ScenarioRegistry
from app.scenarios.schema import schema_json
from tests.conftest import basic

ROOT = Path(__file__).parents[1]
BROKEN = Path(__file__).parent / "scenarios_broken"
CLI = Path(sys.executable).with_name("byggesak-sandbox")


def _lint(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "lint", *paths], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_library_lints_clean() -> None:
    result = _lint("scenarios/")
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""
    assert "12 file(s) clean" in result.stderr


def test_every_shipped_scenario_starts_with_the_schema_modeline() -> None:
    for path in (ROOT / "scenarios").glob("*.yaml"):
        assert path.read_text("utf-8").startswith(
            "# yaml-language-server: $schema=./scenario.schema.json\n"
        ), path


def test_broken_files_give_one_precise_line_each() -> None:
    result = _lint(str(BROKEN.relative_to(ROOT)))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    files = sorted(BROKEN.glob("*.yaml"))
    assert len(lines) == len(files) >= 15
    for path, line in zip(files, lines, strict=True):
        header = path.read_bytes().split(b"\n", 1)[0].decode()
        where, fragment = re.fullmatch(r"# expect: (\d+:\d+): (.*)", header).groups()  # type: ignore[union-attr]
        assert line.startswith(f"tests/scenarios_broken/{path.name}:{where}: "), line
        assert fragment in line, line


def test_lint_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = _lint("no/such/folder")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    empty = _lint(str(tmp_path))
    assert empty.returncode == 2 and "no scenario files" in empty.stderr


def test_lint_never_tracebacks_on_garbage(tmp_path: Path) -> None:
    garbage = [
        b"\x00\x01\x02",
        b"{{{{",
        b"id: [",
        b"- - - -",
        b"&a [*a]",
        b"!!python/object:os.system x",
        b"a: !!binary zz",
        b": : :",
    ]
    for index, content in enumerate(garbage):
        (tmp_path / f"g{index}.yaml").write_bytes(content)
    result = _lint(str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stdout.splitlines()) >= len(garbage)


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "scenarios" / "scenario.schema.json").read_text("utf-8")
    assert committed == schema_json(), (
        "run: byggesak-sandbox schema -o scenarios/scenario.schema.json"
    )


def test_schema_command_prints_the_schema() -> None:
    out = subprocess.run([str(CLI), "schema"], capture_output=True, text=True, check=True)
    assert out.stdout == schema_json()


def test_variables_are_substituted_keeping_types() -> None:
    loaded = load_text(
        """
id: v
version: 1
title: t
description: d
variables: {uker: 14, tittel: Situasjonsplan}
timeline:
  - id: a
    trigger: {at: P1D}
    event: {type: sett_frist, uker: "${uker}"}
  - id: b
    trigger: {after: a}
    event:
      type: mangel
      mangler: [{sjekkpunktId: "1.73", utfall: MG, tittel: "${tittel} mangler"}]
""",
        "v.yaml",
    )
    assert loaded.ok, loaded.problems
    assert loaded.scenario is not None
    assert loaded.scenario["timeline"][0]["event"]["uker"] == 14
    assert (
        loaded.scenario["timeline"][1]["event"]["mangler"][0]["tittel"] == "Situasjonsplan mangler"
    )


class TestCalendar:
    def test_easter(self) -> None:
        assert [easter_sunday(y) for y in (2024, 2025, 2026, 2027)] == [
            date(2024, 3, 31),
            date(2025, 4, 20),
            date(2026, 4, 5),
            date(2027, 3, 28),
        ]

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            (date(2025, 5, 17), False),  # grunnlovsdag
            (date(2025, 5, 29), False),  # Kristi himmelfartsdag
            (date(2025, 6, 9), False),  # 2. pinsedag
            (date(2025, 12, 24), True),  # julaften is a working day in law
            (date(2025, 12, 26), False),
            (date(2025, 3, 8), False),  # a Saturday
            (date(2025, 3, 10), True),
        ],
    )
    def test_virkedager(self, day: date, expected: bool) -> None:
        assert is_virkedag(day) is expected

    def test_add_over_easter_and_weekend(self) -> None:
        start = datetime(2025, 4, 16, 9, 30, tzinfo=UTC)
        assert add_virkedager(start, 1) == datetime(2025, 4, 22, 9, 30, tzinfo=UTC)
        assert add_virkedager(datetime(2025, 3, 7, 8, tzinfo=UTC), 1) == datetime(
            2025, 3, 10, 8, tzinfo=UTC
        )


def test_registry_hot_reload_keeps_the_last_good_version(tmp_path: Path) -> None:
    source = (ROOT / "scenarios" / "happy-path.yaml").read_text("utf-8")
    target = tmp_path / "happy-path.yaml"
    target.write_text(source, "utf-8")
    registry = ScenarioRegistry(tmp_path, reload=True)
    assert registry.get("happy-path") is not None
    assert registry.catalogue().problems == ()
    # A broken save: the old version stays live and the problem is reported.
    target.write_text(source.replace("resultat: innvilget", "resultat: ja"), "utf-8")
    os.utime(target, (time.time() + 5, time.time() + 5))
    registry.refresh()
    entry = registry.get("happy-path")
    assert entry is not None and entry.scenario["timeline"][1]["event"]["resultat"] == "innvilget"
    [problem] = registry.catalogue().problems
    assert "resultat" in str(problem) and str(problem).startswith(str(target))
    # A good save replaces it.
    target.write_text(source.replace("title: The happy path", "title: The happier path"), "utf-8")
    os.utime(target, (time.time() + 10, time.time() + 10))
    registry.refresh()
    entry = registry.get("happy-path")
    assert entry is not None and entry.scenario["title"].startswith("The happier path")
    assert registry.catalogue().problems == ()
    target.unlink()
    registry.refresh()
    assert registry.get("happy-path") is None


def _app(database_url: str, scenario_dir: Path, **config: Any) -> Flask:
    return create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SCENARIO_DIR": str(scenario_dir), **config}
    )


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, "utf-8")


FAULTY = """
id: faulty
version: 1
title: Faults
description: Faults on purpose.
clock: {start: "2025-03-03T08:00:00Z"}
case:
  kommunenummer: "0301"
  innsendinger:
    - id: s
      soknadstype: TA
      tiltakstype: [pabygg]
      dokumenter: [{dokumentNavn: a.pdf, mimeType: application/pdf, dokumentStorrelse: "1"}]
timeline:
  - {id: journalfor, trigger: {at: PT1H}, event: {type: journalfor}}
  - {id: brev, trigger: {at: PT2H}, event: {type: publiser_dokument, tittel: Brev}}
  - {id: saksbehandler, trigger: {at: PT3H}, event: {type: tildel_saksbehandler}}
  - {id: manuell, trigger: {manual: true}, event: {type: vedtak, resultat: avslag}}
faults:
  - {id: skjult, kind: out_of_order, step: brev, duration: P1D}
  - {id: kort-liv, kind: document_gone, duration: PT6H}
  - {id: status-500, kind: status, api: status, status: 500, times: 1}
"""


class TestRunsFromScenarios:
    @pytest.fixture
    def scenario_app(self, database_url: str, tmp_path: Path) -> Any:
        folder = tmp_path / "scenarios"
        folder.mkdir()
        _write(folder, "faulty.yaml", FAULTY)
        app = _app(database_url, folder)
        yield app
        app.extensions["sandbox.engine"].dispose()

    def _start(self, client: FlaskClient, **body: Any) -> tuple[dict[str, Any], dict[str, str]]:
        response = client.post("/sandbox/runs", json={"scenario": "faulty", **body})
        assert response.status_code == 201, response.json
        run: dict[str, Any] = response.json  # type: ignore[assignment]
        return run, basic(run["credentials"]["username"], run["credentials"]["password"])

    def test_faults_out_of_order_document_gone_and_status(self, scenario_app: Flask) -> None:
        client = scenario_app.test_client()
        run, auth = self._start(client, clock={"mode": "manual"})
        ref = run["innsendingReferanser"][0]
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "PT3H"})
        listed = client.get(f"/api/v1/oppdatering?innsendingReferanse={ref}", headers=auth).json
        # The letter's oppdatering (seq 1) is hidden for a day; the later one shows first.
        assert [o["sekvensnummer"] for o in listed] == ["2"]  # type: ignore[union-attr]
        first = client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=auth)
        assert first.status_code == 500 and first.json["errors"][0]["rule"] == "feil.status-500"  # type: ignore[index]
        assert (
            client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=auth).status_code == 200
        )
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "P1D"})
        listed = client.get(f"/api/v1/oppdatering?innsendingReferanse={ref}", headers=auth).json
        assert [o["sekvensnummer"] for o in listed] == ["1", "2"]  # type: ignore[union-attr]
        url = listed[0]["utgaaendeDokument"][0]["dokumentUrl"]  # type: ignore[index]
        # Published at 10:00; gone six hours later instead of 30 days.
        assert client.get(url.replace("http://localhost", ""), headers=auth).status_code == 410
        journal = client.get(f"/sandbox/runs/{run['id']}/journal").json["entries"]  # type: ignore[index]
        assert [
            e["response"]["status"] for e in journal if e["request"]["path"] == "/api/v1/status"
        ] == [500, 200]

    def test_manual_step_fires_by_hand_and_finish_stops_the_timeline(
        self, scenario_app: Flask
    ) -> None:
        client = scenario_app.test_client()
        run, _auth = self._start(client, clock={"mode": "manual"})
        result = client.post(f"/sandbox/runs/{run['id']}/next").json
        assert result["fired"] == ["journalfor"]  # type: ignore[index]
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "PT2H"})
        timeline = client.get(f"/sandbox/runs/{run['id']}/timeline").json["steps"]  # type: ignore[index]
        assert [s["status"] for s in timeline] == ["fired", "fired", "fired", "pending"]
        result = client.post(f"/sandbox/runs/{run['id']}/next").json
        assert result["fired"] == ["manuell"] and result["manual"] == []  # type: ignore[index]
        again = client.post(f"/sandbox/runs/{run['id']}/steps/manuell/fire")
        assert (
            again.status_code == 409 and again.json["errors"][0]["rule"] == "steg.allerede_avfyrt"
        )  # type: ignore[index]
        unknown = client.post(f"/sandbox/runs/{run['id']}/steps/nope/fire")
        assert unknown.status_code == 404
        finished = client.post(f"/sandbox/runs/{run['id']}/finish").json
        assert finished["status"] == "finished"  # type: ignore[index]

    def test_on_poll_clock_moves_with_each_request(self, scenario_app: Flask) -> None:
        client = scenario_app.test_client()
        run, auth = self._start(client, clock={"mode": "on_poll", "step": "PT30M"})
        ref = run["innsendingReferanser"][0]
        codes = [
            client.get(f"/api/v1/kvittering?innsendingReferanse={ref}", headers=auth).status_code
            for _ in range(3)
        ]
        # 08:30 and 09:00 come before journalføring at 09:00 fires ... on the second poll.
        assert codes == [404, 200, 200]
        assert (
            client.get(f"/sandbox/runs/{run['id']}").json["clock"]["now"]
            == "2025-03-03T09:30:00.000Z"
        )  # type: ignore[index]

    def test_accelerated_clock_runs_fast(self, scenario_app: Flask) -> None:
        client = scenario_app.test_client()
        run, _auth = self._start(client, clock={"mode": "accelerated", "factor": 7200})
        time.sleep(1.2)  # at two virtual hours a second, journalføring (PT1H) is due
        timeline = client.get(f"/sandbox/runs/{run['id']}/timeline").json  # type: ignore[assignment]
        now = datetime.fromisoformat(timeline["now"].replace("Z", "+00:00"))  # type: ignore[index]
        assert now >= datetime(2025, 3, 3, 10, 20, tzinfo=UTC)
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "PT0S"})
        steps = client.get(f"/sandbox/runs/{run['id']}/timeline").json["steps"]  # type: ignore[index]
        assert steps[0]["status"] == "fired" and steps[0]["firedAt"] == "2025-03-03T09:00:00.000Z"

    def test_unknown_scenario_and_bad_clock(self, scenario_app: Flask) -> None:
        client = scenario_app.test_client()
        unknown = client.post("/sandbox/runs", json={"scenario": "nope"})
        assert unknown.status_code == 400
        assert unknown.json["errors"][0]["rule"] == "run.scenario.ukjent"  # type: ignore[index]
        no_step = client.post("/sandbox/runs", json={"clock": {"mode": "on_poll"}})
        assert no_step.status_code == 400 and no_step.json["errors"][0]["field"] == "clock.step"  # type: ignore[index]

    def test_catalogue_lists_scenarios_and_problems(
        self, scenario_app: Flask, tmp_path: Path
    ) -> None:
        _write(tmp_path / "scenarios", "broken.yaml", "id: broken\nversion: x\n")
        client = scenario_app.test_client()
        time.sleep(1.1)  # the running server rescans at most once a second; no restart
        catalogue = client.get("/sandbox/scenarios").json
        assert [s["id"] for s in catalogue["scenarios"]] == ["faulty"]  # type: ignore[index]
        assert any("broken.yaml:2:10" in p for p in catalogue["problems"])  # type: ignore[index]
        yaml = client.get("/sandbox/scenarios/faulty?format=yaml")
        assert yaml.mimetype == "application/yaml" and b"id: faulty" in yaml.data
        assert client.get("/sandbox/scenarios/nope").status_code == 404


def test_client_innsending_binds_the_alias(client: FlaskClient) -> None:
    run = client.post(
        "/sandbox/runs", json={"scenario": "long-case", "clock": {"mode": "manual"}}
    ).json
    assert run is not None and len(run["innsendingReferanser"]) == 1
    auth = {
        "Authorization": "Basic "
        + base64.b64encode(
            f"{run['credentials']['username']}:{run['credentials']['password']}".encode()
        ).decode()
    }
    steps = client.get(f"/sandbox/runs/{run['id']}/timeline").json["steps"]  # type: ignore[index]
    assert "due" not in steps[2]  # journalfor-ig waits for the client
    body = {
        "soknadstype": "IG",
        "tiltakstype": ["nyttbyggboligformal"],
        "dokumenter": [
            {"dokumentNavn": "a.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "1"}
        ],
    }
    assert client.post("/api/v1/innsending", json=body, headers=auth).status_code == 201
    steps = client.get(f"/sandbox/runs/{run['id']}/timeline").json["steps"]  # type: ignore[index]
    assert steps[2]["due"] == "2025-03-03T12:00:00.000Z"  # submitted at the start, + PT4H


def _runs(server: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "runs", "--server", server, *args], capture_output=True, text=True, check=False
    )


def test_cli_starts_and_drives_a_run(live_server: Any) -> None:
    import json

    started = _runs(live_server.url, "start", "happy-path", "--clock", "manual")
    assert started.returncode == 0, started.stderr
    run = json.loads(started.stdout)
    assert run["scenario"] == "happy-path" and run["credentials"]["password"]
    step = json.loads(_runs(live_server.url, "next", run["id"]).stdout)
    assert step["fired"] == ["journalfor"] and step["now"] == "2025-03-03T09:00:00.000Z"
    moved = json.loads(_runs(live_server.url, "advance", run["id"], "P3W").stdout)
    assert moved["fired"] == ["vedtak"]
    timeline = json.loads(_runs(live_server.url, "timeline", run["id"]).stdout)
    assert [s["status"] for s in timeline["steps"]] == ["fired", "fired"]
    env = _runs(live_server.url, "start", "happy-path", "--env")
    assert env.returncode == 0 and "export BYGGESAK_USERNAME=klient-" in env.stdout
    assert _runs(live_server.url, "delete", run["id"]).returncode == 0
    assert _runs(live_server.url, "timeline", run["id"]).returncode == 2


def test_cli_reports_usage_and_unreachable_server(live_server: Any) -> None:
    unknown = _runs(live_server.url, "start", "no-such-scenario")
    assert unknown.returncode == 2 and "finnes ikke i biblioteket" in unknown.stderr
    unreachable = _runs("http://127.0.0.1:9", "start", "happy-path")
    assert unreachable.returncode == 2 and "cannot reach the sandbox" in unreachable.stderr
    assert "Traceback" not in unknown.stderr + unreachable.stderr


def test_a_fresh_registry_answers_every_thread_that_asks_at_once() -> None:
    # The first requests to a new worker arrive together; none may see a half-loaded library.
    registry = ScenarioRegistry(Path(__file__).parents[1] / "scenarios", reload=False)
    start = threading.Barrier(8)
    found: list[bool] = []

    def ask() -> None:
        start.wait()
        found.append(registry.get("happy-path") is not None)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert found == [True] * 8
