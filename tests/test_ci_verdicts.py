"""Verdicts a vendor can trust, over the whole library: every spelling the API accepts
scores as the reference client does; a client that drops what it cannot parse, or polls
too fast, fails on every scenario where that shows, for the right reason."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).parents[1]
CLI = Path(sys.executable).with_name("byggesak-sandbox")
CLIENT = f"{sys.executable} examples/reference_client/client.py"
SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))


def _results(tmp_path: Path, client: str, *scenarios: str) -> dict[str, dict[str, Any]]:
    selection = [arg for s in scenarios for arg in ("--scenario", s)]
    out = tmp_path / f"{abs(hash(client))}.json"
    done = subprocess.run(
        [str(CLI), "run", *selection, "--client-cmd", client, "--jobs", "2", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    runs = json.loads(out.read_text("utf-8"))["runs"]
    return {r["scenario"]["id"]: r for r in runs}


def _statuses(run: dict[str, Any]) -> dict[str, str]:
    return {v["id"]: v["status"] for v in run["verdicts"]}


def _verdict_of_check(run: dict[str, Any], check: str) -> dict[str, Any]:
    """The verdict that judged ``check``: the scenario's own expectation, or the default run."""
    scenario = YAML(typ="safe").load(ROOT / "scenarios" / f"{run['scenario']['id']}.yaml")
    named = [e["id"] for e in scenario.get("expect") or [] if e.get("check") == check]
    [verdict] = [v for v in run["verdicts"] if v["id"] in (named or [check])]
    return verdict


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The reference client's results on the whole library."""
    return _results(tmp_path_factory.mktemp("reference"), CLIENT, "all")


@pytest.mark.parametrize("variant", ["pascal-case-keys", "mangel-id-spelling"])
def test_documented_spellings_score_exactly_as_the_reference_client(
    tmp_path: Path, variant: str, reference: dict[str, dict[str, Any]]
) -> None:
    spelled = _results(tmp_path, f"{CLIENT} --defect {variant}", "all")
    assert sorted(spelled) == SHIPPED
    for scenario, run in spelled.items():
        assert run["passed"] is True, (scenario, run["verdicts"])
        assert run["score"] == reference[scenario]["score"] == 1.0, scenario
        assert _statuses(run) == _statuses(reference[scenario]), scenario
    # It really did send the other spelling: the journal kept the raw body beside the canonical.
    bodies = [
        e["request"]
        for run in spelled.values()
        for e in run["evidence"].values()
        if e["request"]["path"] == "/api/v1/supplering"
    ]
    assert bodies and all(b["canonicalBody"] and '"utfallId"' in b["canonicalBody"] for b in bodies)
    spelling = '"Mangelbesvarelse"' if variant == "pascal-case-keys" else '"mangelId"'
    # Its XML suppleringer (mangel-answered-later) carry DiBK's element names; the JSON ones
    # the other spelling.
    json_bodies = [b for b in bodies if not b["body"].lstrip().startswith("<")]
    assert json_bodies and all(spelling in b["body"] for b in json_bodies)


@pytest.mark.parametrize("scenario", ["late-caseworker", "samling"])
def test_a_client_that_drops_what_it_cannot_parse_fails_for_not_acting(
    tmp_path: Path, scenario: str
) -> None:
    [run] = _results(tmp_path, f"{CLIENT} --defect drops-unparseable", scenario).values()
    assert run["passed"] is False
    # It fetched every oppdatering and kept polling: the old checks saw nothing wrong …
    # (INCOMPLETE where its silence kept the kommune from the vedtak, but never FAILED)
    assert _verdict_of_check(run, "picks_up_all_oppdateringer")["status"] in {
        "PASSED",
        "INCOMPLETE",
    }
    assert _verdict_of_check(run, "polls_sanely")["status"] == "PASSED"
    # … but it never acted on what those oppdateringer carried.
    tolerance = _verdict_of_check(run, "tolerates_unknown_fields")
    assert tolerance["status"] == "FAILED"
    assert re.search(
        r"expected the client to answer mangel [0-9a-f-]{36} \(oppdatering \d+ for AR\d+, "
        r"received in exchange \d+, carried nyttFeltFraDiBK\); it never did",
        tolerance["firstDivergence"],
    ), tolerance
    assert tolerance["evidence"]
    assert _verdict_of_check(run, "echoes_mangel_ids")["status"] == "FAILED"
    assert _verdict_of_check(run, "downloads_documents")["status"] == "FAILED"


def test_a_client_polling_too_fast_fails_polls_sanely_on_every_scenario(tmp_path: Path) -> None:
    runs = _results(tmp_path, f"{CLIENT} --defect tight-loop", "all")
    assert sorted(runs) == SHIPPED
    for scenario, run in runs.items():
        verdict = _verdict_of_check(run, "polls_sanely")
        assert verdict["status"] == "FAILED", scenario
        assert re.search(
            r"expected at least 125 ms between polls of the same API and reference",
            verdict["firstDivergence"],
        ), scenario
        assert len(verdict["evidence"]) == 2
        assert run["passed"] is False
