"""`byggesak-sandbox run` end to end over real HTTP: the reference client passes everything,
each faulty client fails exactly the checks its defect should trip, and the reports are
well-formed for CI (JUnit against an XSD, one offline HTML file, Markdown, JSON)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import junitparser
import pytest
import requests
import xmlschema

from app.reports import junit
from app.vocabulary import DEFAULT_CHECKS
from tests.conftest import LiveServer

ROOT = Path(__file__).parents[1]
CLI = Path(sys.executable).with_name("byggesak-sandbox")
CLIENT = f"{sys.executable} examples/reference_client/client.py"
XSD = xmlschema.XMLSchema(str(Path(__file__).parent / "junit.xsd"))


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "run", *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=600
    )


def _reports(tmp_path: Path) -> list[str]:
    return [
        "--junit",
        str(tmp_path / "out.xml"),
        "--json",
        str(tmp_path / "out.json"),
        "--html",
        str(tmp_path / "out.html"),
        "--markdown",
        str(tmp_path / "summary.md"),
    ]


def _named_checks(run: dict[str, Any]) -> set[str]:
    """The checks the run's scenario names in its own expectations."""
    text = (ROOT / "scenarios" / f"{run['scenario']['id']}.yaml").read_text("utf-8")
    return set(re.findall(r"check: ([a-z_]+)", text))


def test_reference_client_scores_100_on_every_scenario(tmp_path: Path) -> None:
    # The default --jobs: several scenarios at once on any machine.
    result = _run("--scenario", "all", "--client-cmd", CLIENT, *_reports(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert document["schemaVersion"] == "byggesak-sandbox/result/v1" and document["passed"] is True
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    # Library order, whichever run finished first.
    assert [r["scenario"]["id"] for r in document["runs"]] == shipped
    # Runs overlapped in time (each run's exchanges span an interval).
    spans = sorted(
        (r["exchanges"][0]["realTime"], r["exchanges"][-1]["realTime"]) for r in document["runs"]
    )
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))
    for run in document["runs"]:
        assert run["score"] == 1.0, run["scenario"]["id"]
        assert run["counts"]["FAILED"] == run["counts"]["WARNING"] == 0
        assert run["client"]["exitCode"] == 0 and "error" not in run
        assert run["seconds"] >= run["client"]["seconds"] > 0
        # Only a default protocol check the scenario gives no chance to apply is skipped,
        # and it says so; every other verdict passed, with evidence.
        skipped = [v for v in run["verdicts"] if v["status"] == "SKIPPED"]
        assert all(v["id"] in DEFAULT_CHECKS for v in skipped), run["scenario"]["id"]
        assert all("did not apply" in v["reason"] for v in skipped), run["scenario"]["id"]
        exercised = [v for v in run["verdicts"] if v["status"] != "SKIPPED"]
        assert all(v["evidence"] for v in exercised), run["scenario"]["id"]
        assert run["coverage"] == round(len(exercised) / len(run["verdicts"]), 4)
        assert set(DEFAULT_CHECKS) <= {v["id"] for v in run["verdicts"]} | _named_checks(run)
    assert len(result.stdout.splitlines()) == len(shipped)
    for line, run in zip(result.stdout.splitlines(), document["runs"], strict=True):
        assert line.startswith(f"PASS {run['scenario']['id']}: ")
        assert line.endswith(f", {run['seconds']:.1f} s")

    # JUnit: valid against the XSD, readable by junitparser, one suite per scenario.
    XSD.validate(str(tmp_path / "out.xml"))
    suites = list(junitparser.JUnitXml.fromfile(str(tmp_path / "out.xml")))
    assert sorted(s.name for s in suites) == shipped
    for suite in suites:
        names = [case.name for case in suite]
        assert len(names) == len(set(names)) > 0
        assert all(case.is_passed or case.is_skipped for case in suite)

    # HTML: one file, nothing fetched from anywhere.
    html = (tmp_path / "out.html").read_text("utf-8")
    assert html.count("<svg") == len(shipped)
    for forbidden in ("<script", "<link", "src=", "@import", "url("):
        assert forbidden not in html
    assert "Sekvensdiagram" in html and "bestått" in html

    markdown = (tmp_path / "summary.md").read_text("utf-8")
    assert markdown.startswith("## byggesak-sandbox: passed")
    assert markdown.count("| ✅ |") == len(shipped)


# Default checks none of these scenarios can apply: no unknown field, no samling.
NOT_APPLICABLE = {"tolerates_unknown_fields", "tolerates_list_metadata"}

FAULTY = [
    pytest.param(
        "ignores-saksnummer-change",
        "fordelingssak-renumbering",
        {"bruker-gjeldende-saksnummer"},
        NOT_APPLICABLE,
        r"expected supplering with saksnummer 2025/\d+, got 2025/\d+ \(the kvittering's, the fordelingssak\)",
        id="ignores-saksnummer-change",
    ),
    pytest.param(
        "never-downloads-vedtak-letter",
        "mangel-then-vedtak",
        {"henter-dokumenter"},
        NOT_APPLICABLE,
        r"\('Vedtak - Søknad om rammetillatelse'\) before .*; the client never fetched it",
        id="never-downloads-vedtak-letter",
    ),
    pytest.param(
        "drops-mangel-id",
        "mangel-then-vedtak",
        {"ekko-mangelid"},
        NOT_APPLICABLE,
        r"expected a supplering echoing mangelID [0-9a-f-]{36} before 2025-03-27T10:00:00.000Z; none came",
        id="drops-mangel-id",
    ),
    pytest.param(
        "tight-loop",
        "mangel-then-vedtak",
        # It hammers after every 404 too (the kvittering before journalføring).
        {"poller-fornuftig", "backs_off"},
        NOT_APPLICABLE,
        r"expected at least 125 ms between polls of the same API and reference",
        id="tight-loop",
    ),
    pytest.param(
        "tight-loop",
        "rough-day",
        {"respekterer-retry-after", "polls_sanely"},
        NOT_APPLICABLE,
        r"expected the next GET /api/v1/(kvittering|oppdatering) at least [12] s after exchange \d+ \((429|503)\)",
        id="tight-loop-rough-day",
    ),
    pytest.param(
        "stops-after-kvittering",
        "mangel-then-vedtak",
        {"ekko-mangelid", "svarer-strukturert", "henter-dokumenter", "henter-oppdateringer"},
        {"bruker-gjeldende-saksnummer", "uses_cursor", *NOT_APPLICABLE},
        r"expected POST /api/v1/supplering after mangel \(2025-03-06T10:00:00.000Z\), but the client sent none",
        id="stops-after-kvittering",
    ),
    pytest.param(
        "crashes-on-unknown-field",
        "late-caseworker",
        # It never comes back, so it never answers the mangel or fetches the letter either.
        {"henter-oppdateringer", "tolererer-ukjente-felt", "ekko-mangelid", "downloads_documents"},
        {"uses_cursor", "tolerates_list_metadata"},
        r"it carried nyttFeltFraDiBK\); it sent nothing more",
        id="crashes-on-unknown-field",
    ),
    pytest.param(
        "answers-after-svarfrist",
        "mangel-then-vedtak",
        {"ekko-mangelid"},
        NOT_APPLICABLE,
        r"expected the answer before 2025-03-27T10:00:00.000Z; got it 2025-03-28T10:00:00.000Z",
        id="answers-after-svarfrist",
    ),
]


# A defect that keeps the kommune from its last step leaves what depended on that step
# undecided: INCOMPLETE, which fails the run as well.
INCOMPLETE = {"drops-mangel-id": {"henter-dokumenter", "henter-oppdateringer"}}


@pytest.mark.parametrize(("defect", "scenario", "failing", "skipped", "divergence"), FAULTY)
def test_faulty_client_fails_exactly_its_checks(
    tmp_path: Path,
    defect: str,
    scenario: str,
    failing: set[str],
    skipped: set[str],
    divergence: str,
) -> None:
    result = _run(
        "--scenario",
        scenario,
        "--client-cmd",
        f"{CLIENT} --defect {defect}",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    by_status: dict[str, set[str]] = {}
    for verdict in run["verdicts"]:
        by_status.setdefault(verdict["status"], set()).add(verdict["id"])
    assert by_status.get("FAILED", set()) == failing
    assert by_status.get("SKIPPED", set()) == skipped
    assert by_status.get("WARNING", set()) == set()
    incomplete = INCOMPLETE.get(defect, set())
    assert by_status.get("INCOMPLETE", set()) == incomplete
    assert (
        by_status["PASSED"] == {v["id"] for v in run["verdicts"]} - failing - skipped - incomplete
    )
    divergences = [v["firstDivergence"] for v in run["verdicts"] if v["status"] == "FAILED"]
    assert any(re.search(divergence, d or "") for d in divergences), divergences
    assert run["score"] < 1.0


def test_expected_failures_become_warnings(tmp_path: Path) -> None:
    listed = tmp_path / "expected.txt"
    listed.write_text(
        "# known since release 4.2, JIRA-123\nmangel-then-vedtak/ekko-mangelid\n", "utf-8"
    )
    result = _run(
        "--scenario",
        "mangel-then-vedtak",
        "--client-cmd",
        f"{CLIENT} --defect answers-after-svarfrist",
        "--expected-failures",
        str(listed),
        "--json",
        str(tmp_path / "r.json"),
        "--junit",
        str(tmp_path / "r.xml"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    [warned] = [v for v in run["verdicts"] if v["status"] == "WARNING"]
    assert warned["id"] == "ekko-mangelid" and warned["expectedFailure"] is True
    assert warned["reason"].startswith("expected failure: ")
    XSD.validate(str(tmp_path / "r.xml"))
    assert "WARNING ekko-mangelid" in result.stdout


def test_usage_and_target_errors_exit_2(tmp_path: Path) -> None:
    unknown = _run("--scenario", "no-such-scenario", "--client-cmd", CLIENT)
    assert unknown.returncode == 2 and "no scenario or tag 'no-such-scenario'" in unknown.stderr
    unreachable = _run(
        "--scenario", "happy-path", "--client-cmd", CLIENT, "--server", "http://127.0.0.1:9"
    )
    assert unreachable.returncode == 2 and "cannot reach the sandbox" in unreachable.stderr
    missing = _run("--scenario", "happy-path")
    assert missing.returncode == 2 and "--client-cmd" in missing.stderr
    for result in (unknown, unreachable, missing):
        assert "Traceback" not in result.stderr


def test_server_mode_and_reports_from_the_control_plane(
    live_server: LiveServer, tmp_path: Path
) -> None:
    result = _run(
        "--server",
        live_server.url,
        "--scenario",
        "happy-path",
        "--client-cmd",
        f"{CLIENT} --defect stops-after-kvittering",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    run_id = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"][0]["run"]["id"]
    base = f"{live_server.url}/sandbox/runs/{run_id}"
    scored = requests.get(f"{base}/result", timeout=30).json()
    statuses = {v["id"]: v["status"] for v in scored["verdicts"]}
    assert {k: v for k, v in statuses.items() if k not in DEFAULT_CHECKS} == {
        "henter-kvittering": "PASSED",
        "henter-vedtak": "FAILED",
        "henter-vedtaksbrev": "FAILED",
    }
    assert statuses["polls_sanely"] == statuses["backs_off"] == "PASSED"
    formats: dict[str, Any] = {
        "json": "application/json",
        "junit": "application/xml",
        "html": "text/html",
        "markdown": "text/markdown",
    }
    for fmt, media in formats.items():
        response = requests.get(
            f"{base}/report", params={"format": fmt, "download": "1"}, timeout=30
        )
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(media)
        assert response.headers["Content-Disposition"].startswith("attachment;")
    XSD.validate(requests.get(f"{base}/report", params={"format": "junit"}, timeout=30).text)
    bad = requests.get(f"{base}/report", params={"format": "pdf"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["errors"][0]["rule"] == "rapport.format"


def test_junit_survives_control_characters() -> None:
    verdict = {
        "id": "x",
        "title": "Kontroll\x07tegn",
        "requirement": None,
        "severity": "must",
        "weight": 1.0,
        "status": "FAILED",
        "reason": "body had \x00\x1b[31m",
        "firstDivergence": "got \x08",
        "evidence": [],
        "expectedFailure": False,
    }
    document = {
        "schemaVersion": "byggesak-sandbox/result/v1",
        "sandboxVersion": "0",
        "generatedAt": "2025-03-03T08:00:00.000Z",
        "target": "t",
        "passed": False,
        "counts": {"PASSED": 0, "FAILED": 1, "WARNING": 0, "SKIPPED": 0},
        "runs": [
            {
                "scenario": {"id": "s", "version": 1},
                "run": {"id": "r", "seed": 1},
                "score": 0,
                "coverage": 1,
                "counts": {"PASSED": 0, "FAILED": 1, "WARNING": 0, "SKIPPED": 0},
                "verdicts": [verdict],
                "evidence": {},
                "client": {"seconds": 0.5, "exitCode": 1, "outputTail": "crash \x00"},
            }
        ],
    }
    text = junit.render(document)
    XSD.validate(text)
    [suite] = list(junitparser.JUnitXml.fromstring(text))
    [case] = list(suite)
    assert case.result[0].message == "got "


def test_a_broken_scenario_file_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "happy-path.yaml").write_text(
        (ROOT / "scenarios" / "happy-path.yaml")
        .read_text("utf-8")
        .replace("resultat: innvilget", "resultat: kanskje"),
        "utf-8",
    )
    result = _run("--scenario-dir", str(folder), "--scenario", "happy-path", "--client-cmd", CLIENT)
    assert result.returncode == 2
    assert "happy-path.yaml:" in result.stderr and "kanskje" in result.stderr
