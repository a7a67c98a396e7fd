"""Verdict states that tell the truth: PENDING on a live run, INCOMPLETE when a run ends
before a step fired, an undecided ``must`` never a pass, and ``optional: true``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import junitparser
import pytest
import xmlschema
from flask import Flask
from flask.testing import FlaskClient

from app import create_app, vocabulary
from app.reports import junit, markdown
from app.scoring.tally import blocks, percent, recount
from tests.conftest import basic

XSD = xmlschema.XMLSchema(str(Path(__file__).parent / "junit.xsd"))
RESULTS_MD = (Path(__file__).parents[1] / "docs" / "results.md").read_text("utf-8")


def _start(client: FlaskClient, scenario: str = "mangel-then-vedtak") -> dict[str, Any]:
    run = client.post(
        "/sandbox/runs", json={"scenario": scenario, "clock": {"mode": "manual"}}
    ).json
    assert run is not None
    return run


def _kvittering(client: FlaskClient, run: dict[str, Any]) -> None:
    answer = client.get(
        "/api/v1/kvittering",
        query_string={"innsendingReferanse": run["innsendingReferanser"][0]},
        headers=basic(run["credentials"]["username"], run["credentials"]["password"]),
    )
    assert answer.status_code == 200, answer.json


def _result(client: FlaskClient, run_id: str) -> dict[str, Any]:
    result = client.get(f"/sandbox/runs/{run_id}/result").json
    assert result is not None
    return result


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {v["id"]: v["status"] for v in result["verdicts"]}


def _verdict(result: dict[str, Any], verdict_id: str) -> dict[str, Any]:
    return next(v for v in result["verdicts"] if v["id"] == verdict_id)


def test_a_run_finished_before_its_last_step_is_incomplete_not_passed(
    client: FlaskClient,
) -> None:
    run = _start(client)
    assert client.post(f"/sandbox/runs/{run['id']}/next").json["fired"] == ["journalfor"]
    _kvittering(client, run)
    assert client.post(f"/sandbox/runs/{run['id']}/finish").status_code == 200

    result = _result(client, run["id"])
    assert result["final"] is True and result["passed"] is False
    statuses = _statuses(result)
    assert statuses["henter-kvittering"] == "PASSED"
    assert statuses["henter-dokumenter"] == "INCOMPLETE"
    assert "steps 'mangel', 'vedtak' never fired" in _verdict(result, "henter-dokumenter")["reason"]
    assert statuses["svarer-strukturert"] == "INCOMPLETE"
    assert "before step 'mangel' fired" in _verdict(result, "svarer-strukturert")["reason"]
    assert statuses["ekko-mangelid"] == "INCOMPLETE"
    # What the client did so far is judged: one fetch, one poll, both fine.
    assert {k for k, v in statuses.items() if v == "PASSED"} == {
        "henter-kvittering",
        "poller-fornuftig",
    }
    assert result["counts"]["INCOMPLETE"] >= 3
    assert result["score"] == 1.0 and result["coverage"] is not None
    assert result["coverage"] < 0.5

    # The finished run takes no more steps, and its JUnit report fails the undecided musts.
    refused = client.post(f"/sandbox/runs/{run['id']}/next")
    assert refused.status_code == 409 and refused.json["errors"][0]["rule"] == "run.avsluttet"
    xml = client.get(f"/sandbox/runs/{run['id']}/report?format=junit").get_data(as_text=True)
    XSD.validate(xml)
    [suite] = junitparser.JUnitXml.fromstring(xml)
    cases = {case.name.split(":")[0]: case for case in suite}
    assert cases["henter-kvittering"].is_passed
    [problem] = cases["henter-dokumenter"].result
    assert isinstance(problem, junitparser.Failure) and problem.type == "INCOMPLETE"
    assert "never fired" in (problem.text or "")
    assert int(suite.failures) == sum(1 for c in suite if not c.is_passed and not c.is_skipped)


def test_a_client_that_sends_nothing_does_not_pass(client: FlaskClient) -> None:
    run = _start(client)
    assert client.post(f"/sandbox/runs/{run['id']}/finish").status_code == 200
    result = _result(client, run["id"])
    assert result["passed"] is False
    assert "PASSED" not in _statuses(result).values()
    assert result["score"] is None and result["coverage"] == 0.0


def test_a_silent_client_fails_when_the_kommune_plays_all_it_can(client: FlaskClient) -> None:
    run = _start(client)
    while client.post(f"/sandbox/runs/{run['id']}/next").json["fired"]:
        pass
    assert client.post(f"/sandbox/runs/{run['id']}/finish").status_code == 200
    result = _result(client, run["id"])
    statuses = _statuses(result)
    assert result["passed"] is False and "PASSED" not in statuses.values()
    assert statuses["henter-kvittering"] == statuses["svarer-strukturert"] == "FAILED"
    assert statuses["henter-dokumenter"] == "FAILED"  # the mangelbrev was never fetched
    assert statuses["poller-fornuftig"] == statuses["bruker-gjeldende-saksnummer"] == "SKIPPED"
    assert [s["id"] for s in result["timeline"] if s["status"] == "pending"] == ["vedtak"]
    # The vedtak waits for a supplering, but no verdict here depends on it without failing.
    assert result["final"] is True and result["counts"]["INCOMPLETE"] == 0


def test_a_live_run_is_pending_and_a_new_run_has_no_score(client: FlaskClient) -> None:
    run = _start(client)
    fresh = _result(client, run["id"])
    assert fresh["final"] is False and fresh["passed"] is False
    assert set(_statuses(fresh).values()) == {"PENDING"}
    assert fresh["score"] is None and fresh["coverage"] == 0.0
    assert "waits for step 'journalfor'" in _verdict(fresh, "henter-kvittering")["reason"]

    client.post(f"/sandbox/runs/{run['id']}/next")
    live = _result(client, run["id"])
    kvittering = _verdict(live, "henter-kvittering")
    assert kvittering["status"] == "PENDING"
    assert "the window is open until 2025-03-04T10:00:00.000Z" in kvittering["reason"]
    _kvittering(client, run)
    live = _result(client, run["id"])
    statuses = _statuses(live)
    # At least one fetch was asked for, so one is enough whatever comes later.
    assert statuses["henter-kvittering"] == "PASSED"
    assert statuses["poller-fornuftig"] == statuses["henter-dokumenter"] == "PENDING"
    assert _verdict(live, "poller-fornuftig")["reason"].startswith("decided when the run finishes")
    assert live["passed"] is False and live["final"] is False
    assert live["counts"]["PENDING"] == len(statuses) - 1


def test_an_empty_live_result_is_neither_passed_nor_scored() -> None:
    result: dict[str, Any] = {"final": False, "verdicts": []}
    recount(result)
    assert result["passed"] is False and result["score"] is None and result["coverage"] is None


OPTIONAL_SCENARIO = """\
id: optional-check
version: 1
title: A must that may be left undecided
description: Journalført; the sandbox never refuses, so backs_off is never exercised.
profile: utkast-2022
seed: 7
clock:
  start: "2025-03-03T08:00:00Z"
case:
  kommunenummer: "5001"
  innsendinger:
    - id: soknad
      soknadstype: RS
      tiltakstype: [nyttbyggboligformal]
      dokumenter:
        - {dokumentNavn: Skjema.pdf, mimeType: application/pdf, dokumentStorrelse: "1"}
timeline:
  - id: journalfor
    trigger: {at: PT2H}
    event: {type: journalfor}
expect:
  - id: henter-kvittering
    request: {method: GET, path: /api/v1/kvittering}
    after: journalfor
  - id: respekterer-retry-after
    check: backs_off
OPTIONAL_LINE
"""


@pytest.fixture(params=[True, False], ids=["optional", "not-optional"])
def optional_app(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[tuple[Flask, bool]]:
    optional = bool(request.param)
    line = "    optional: true" if optional else ""
    (tmp_path / "optional.yaml").write_text(
        OPTIONAL_SCENARIO.replace("OPTIONAL_LINE", line), "utf-8"
    )
    application = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SCENARIO_DIR": str(tmp_path)}
    )
    yield application, optional
    application.extensions["sandbox.engine"].dispose()


def test_optional_lets_a_must_stay_undecided(optional_app: tuple[Flask, bool]) -> None:
    application, optional = optional_app
    client = application.test_client()
    run = _start(client, "optional-check")
    client.post(f"/sandbox/runs/{run['id']}/next")
    _kvittering(client, run)
    client.post(f"/sandbox/runs/{run['id']}/finish")
    result = _result(client, run["id"])
    backs_off = _verdict(result, "respekterer-retry-after")
    assert backs_off["status"] == "SKIPPED" and backs_off["optional"] is optional
    assert _verdict(result, "henter-kvittering")["status"] == "PASSED"
    assert result["passed"] is optional
    # Score over the decided verdicts; coverage: decided of all, the default checks included.
    decided = [v for v in result["verdicts"] if v["status"] in ("PASSED", "FAILED", "WARNING")]
    assert [v["id"] for v in decided] == ["henter-kvittering", "polls_sanely"]
    assert (result["score"], result["coverage"]) == (
        1.0,
        round(len(decided) / len(result["verdicts"]), 4),
    )


NEVER_EXPECTATION = """\
  - id: ikke-status-forste-dag
    request: {method: GET, path: /api/v1/status}
    never: true
    after: journalfor
    within: P1D
"""


@pytest.fixture
def never_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    text = OPTIONAL_SCENARIO.replace("id: optional-check", "id: never-check")
    (tmp_path / "never.yaml").write_text(text.replace("OPTIONAL_LINE\n", NEVER_EXPECTATION))
    application = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SCENARIO_DIR": str(tmp_path)}
    )
    yield application
    application.extensions["sandbox.engine"].dispose()


def test_never_is_pending_until_its_window_closes_and_fails_at_once(never_app: Flask) -> None:
    client = never_app.test_client()
    quiet, noisy = _start(client, "never-check"), _start(client, "never-check")
    for run in (quiet, noisy):
        client.post(f"/sandbox/runs/{run['id']}/next")
    never = _verdict(_result(client, quiet["id"]), "ikke-status-forste-dag")
    assert never["status"] == "PENDING", never
    assert "the window is open until 2025-03-04T10:00:00.000Z" in never["reason"]

    answer = client.get(
        "/api/v1/status",
        query_string={"innsendingReferanse": noisy["innsendingReferanser"][0]},
        headers=basic(noisy["credentials"]["username"], noisy["credentials"]["password"]),
    )
    assert answer.status_code == 200
    # Once it happened, nothing later can undo it: failed while the run is still live.
    assert _statuses(_result(client, noisy["id"]))["ikke-status-forste-dag"] == "FAILED"

    client.post(f"/sandbox/runs/{quiet['id']}/clock", json={"advance": "P2D"})
    closed = _result(client, quiet["id"])
    assert closed["final"] is False
    assert _statuses(closed)["ikke-status-forste-dag"] == "PASSED"


def test_optional_does_not_excuse_a_failure() -> None:
    verdict = {"status": "FAILED", "severity": "must", "optional": True, "weight": 1}
    assert blocks(verdict)
    assert not blocks({**verdict, "status": "SKIPPED"})
    assert blocks({**verdict, "status": "INCOMPLETE", "optional": False})
    assert not blocks({**verdict, "status": "PENDING", "severity": "should", "optional": False})


def _document(statuses: list[tuple[str, str]], final: bool = True) -> dict[str, Any]:
    verdicts = [
        {
            "id": f"v{n}",
            "title": f"verdict {n}",
            "requirement": None,
            "severity": severity,
            "weight": 1.0,
            "status": status,
            "reason": f"because {status}",
            "firstDivergence": None,
            "evidence": [],
            "expectedFailure": False,
            "optional": False,
        }
        for n, (status, severity) in enumerate(statuses)
    ]
    run: dict[str, Any] = {
        "scenario": {"id": "s", "version": 1, "title": "S", "description": ""},
        "run": {"id": "run-x", "seed": 1, "profile": "utkast-2022", "clock": {}},
        "client": {},
        "final": final,
        "verdicts": verdicts,
        "timeline": [],
        "exchanges": [],
        "evidence": {},
    }
    recount(run)
    counts = dict(run["counts"])
    return {
        "schemaVersion": "byggesak-sandbox/result/v1",
        "sandboxVersion": "0",
        "generatedAt": "2026-01-01T00:00:00.000Z",
        "target": "t",
        "passed": run["passed"],
        "final": final,
        "counts": counts,
        "runs": [run],
    }


def test_reports_do_not_show_an_undecided_must_as_a_pass() -> None:
    document = _document(
        [("PASSED", "must"), ("PENDING", "must"), ("INCOMPLETE", "must"), ("SKIPPED", "should")],
        final=False,
    )
    xml = junit.render(document)
    XSD.validate(xml)
    [suite] = junitparser.JUnitXml.fromstring(xml)
    by_name = {case.name.split(":")[0]: case for case in suite}
    assert by_name["v0"].is_passed
    assert [r.type for r in by_name["v1"].result] == ["PENDING"]
    assert [r.type for r in by_name["v2"].result] == ["INCOMPLETE"]
    assert by_name["v3"].is_skipped
    assert (int(suite.failures), int(suite.skipped)) == (2, 1)
    summary = markdown.render(document)
    assert summary.startswith("## byggesak-sandbox: not final")
    assert "1 pending" in summary and "1 incomplete" in summary
    assert "because PENDING" in summary and "because INCOMPLETE" in summary


def test_every_verdict_state_is_documented_and_rendered() -> None:
    for name, state in vocabulary.VERDICT_STATES.items():
        assert f"`{name}`" in RESULTS_MD, name
        assert name in markdown.ICON, name
        assert isinstance(state.decided, bool)
    document = _document([(name, "must") for name in vocabulary.VERDICT_STATES])
    assert set(document["counts"]) == set(vocabulary.VERDICT_STATES)
    assert percent(None) == "n/a" and percent(0.5) == "50 %"


def test_a_run_that_ended_in_error_counts_its_run_case_in_junit() -> None:
    # The run case carries the error; CI's totals (tests - failures - errors - skipped =
    # passed) must hold with it.
    document = _document([("PASSED", "must"), ("SKIPPED", "should")], final=True)
    document["runs"][0]["error"] = "the client exited with code 3 after 1.00 s, after the last step"
    xml = junit.render(document)
    XSD.validate(xml)
    suites = junitparser.JUnitXml.fromstring(xml)
    [suite] = list(suites)
    cases = list(suite)
    assert [c.name for c in cases][-1] == "run" and len(cases) == 3
    for totals in (suite, suites):
        tests, failures, errors = int(totals.tests), int(totals.failures), int(totals.errors)
        assert (tests, failures, errors, int(totals.skipped)) == (3, 0, 1, 1)
    assert sum(c.is_passed for c in cases) == tests - failures - errors - int(suite.skipped)
