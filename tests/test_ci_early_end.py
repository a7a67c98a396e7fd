"""`byggesak-sandbox run` with clients and runs that end early: never a pass, and the
verdicts that depended on a step that never fired say INCOMPLETE and name it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import junitparser
import xmlschema

from app.vocabulary import DEFAULT_CHECKS
from tests.test_ci_run import CLIENT, _run

XSD = xmlschema.XMLSchema(str(Path(__file__).parent / "junit.xsd"))


def _by_status(run: dict[str, Any]) -> dict[str, set[str]]:
    """The scenario's own expectations by status (the default checks left out)."""
    found: dict[str, set[str]] = {}
    for verdict in run["verdicts"]:
        if verdict["id"] not in DEFAULT_CHECKS:
            found.setdefault(verdict["status"], set()).add(verdict["id"])
    return found


def test_a_client_that_exits_after_the_mangelbrev_is_incomplete_on_the_vedtak(
    tmp_path: Path,
) -> None:
    result = _run(
        "--scenario",
        "mangel-then-vedtak",
        "--client-cmd",
        f"{CLIENT} --defect exits-after-mangelbrev",
        "--json",
        str(tmp_path / "r.json"),
        "--junit",
        str(tmp_path / "r.xml"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    assert run["final"] is True and run["passed"] is False
    assert _by_status(run) == {
        "PASSED": {"henter-kvittering", "poller-fornuftig"},
        "FAILED": {"ekko-mangelid", "svarer-strukturert"},
        # The mangelbrev was downloaded, but the vedtak letter (and its oppdatering) never
        # existed.
        "INCOMPLETE": {"henter-dokumenter", "henter-oppdateringer"},
        "SKIPPED": {"bruker-gjeldende-saksnummer"},
    }
    [documents] = [v for v in run["verdicts"] if v["id"] == "henter-dokumenter"]
    assert documents["reason"].startswith(
        "the run finished and step 'vedtak' never fired (it waits for the client's "
        "supplering_mottatt); so far: all 1 documents downloaded in time"
    )
    assert "INCOMPLETE henter-dokumenter" in result.stdout
    XSD.validate(str(tmp_path / "r.xml"))
    [suite] = junitparser.JUnitXml.fromfile(str(tmp_path / "r.xml"))
    types = {c.name.split(":")[0]: [r.type for r in c.result] for c in suite}
    assert types["henter-dokumenter"] == ["INCOMPLETE"]
    assert types["bruker-gjeldende-saksnummer"] == ["SKIPPED"]


def test_a_client_that_sends_nothing_never_passes(tmp_path: Path) -> None:
    result = _run(
        "--scenario",
        "happy-path",
        "--client-cmd",
        "true",
        "--json",
        str(tmp_path / "r.json"),
        "--markdown",
        str(tmp_path / "r.md"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads((tmp_path / "r.json").read_text("utf-8"))
    [run] = document["runs"]
    assert document["passed"] is False and run["counts"]["PASSED"] == 0
    # Everything the kommune does in happy-path fires without the client: final, decided.
    assert run["final"] is True and run["counts"]["INCOMPLETE"] == run["counts"]["PENDING"] == 0
    assert set(_by_status(run)) == {"FAILED"}
    # The default checks had nothing to judge: not one of them passed for want of evidence.
    assert {v["status"] for v in run["verdicts"] if v["id"] in DEFAULT_CHECKS} == {"SKIPPED"}
    assert (tmp_path / "r.md").read_text("utf-8").startswith("## byggesak-sandbox: FAILED")


def test_a_run_cut_short_by_the_time_limit_is_not_a_pass(tmp_path: Path) -> None:
    result = _run(
        "--scenario",
        "mangel-then-vedtak",
        "--client-cmd",
        CLIENT,
        "--max-seconds",
        "0.2",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    # The runner stopped the client long before the vedtak: what waited for it is undecided.
    assert run["final"] is True and run["passed"] is False
    assert run["client"]["timedOut"] is True
    reasons = {v["id"]: v["reason"] for v in run["verdicts"] if v["status"] == "INCOMPLETE"}
    assert "henter-dokumenter" in reasons
    assert all(reason.startswith("the run finished") for reason in reasons.values()), reasons
    assert "'vedtak'" in reasons["henter-dokumenter"]
