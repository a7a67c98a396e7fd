"""`byggesak-sandbox run` with clients that answer a mangelbrev in parts, over real HTTP.

A client answering in two suppleringer passes, and the vedtak comes only after the
second; a client that never answers one of the two mangler fails for that, and the
kommune never decides while the mangel is open.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from app.vocabulary import DEFAULT_CHECKS
from tests.conftest import LiveServer

ROOT = Path(__file__).parents[1]
CLI = Path(sys.executable).with_name("byggesak-sandbox")
CLIENT = f"{sys.executable} examples/reference_client/client.py"


def _play(server: LiveServer, defect: str, out: Path) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run(
        [
            str(CLI),
            "run",
            "--server",
            server.url,
            "--scenario",
            "mangel-then-vedtak",
            "--client-cmd",
            f"{CLIENT} --defect {defect}",
            "--poll-interval",
            "0.1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=600,
    )
    [run] = json.loads(out.read_text("utf-8"))["runs"]
    return result.returncode, run, result.stdout + result.stderr


def _get(server: LiveServer, run: dict[str, Any], what: str) -> Any:
    response = requests.get(f"{server.url}/sandbox/runs/{run['run']['id']}/{what}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_answering_in_two_suppleringer_passes_and_the_vedtak_follows_the_second(
    live_server: LiveServer, tmp_path: Path
) -> None:
    code, run, output = _play(live_server, "answers-in-two-suppleringer", tmp_path / "r.json")
    assert code == 0, output
    own = [v for v in run["verdicts"] if v["id"] not in DEFAULT_CHECKS]
    assert {v["status"] for v in own} == {"PASSED"}, run["verdicts"]
    assert "FAILED" not in {v["status"] for v in run["verdicts"]}
    entries = _get(live_server, run, "journal")["entries"]
    suppleringer = [
        e
        for e in entries
        if e["request"]["method"] == "POST" and e["request"]["path"] == "/api/v1/supplering"
    ]
    assert len(suppleringer) == 2
    first = json.loads(suppleringer[0]["request"]["body"])["mangelbesvarelse"]
    assert [m.get("erUtfallBesvaresSenere", False) for m in first] == [False, True]
    steps = {s["id"]: s for s in _get(live_server, run, "timeline")["steps"]}
    assert steps["vedtak"]["status"] == "fired"
    # Five working days after the second supplering, not the first.
    assert _when(steps["vedtak"]["firedAt"]) >= _when(suppleringer[1]["virtualTime"])
    assert _when(steps["vedtak"]["firedAt"]).date() > _when(suppleringer[1]["virtualTime"]).date()


def test_a_client_answering_one_of_two_mangler_fails_and_gets_no_vedtak(
    live_server: LiveServer, tmp_path: Path
) -> None:
    code, run, output = _play(live_server, "drops-mangel-id", tmp_path / "r.json")
    assert code == 1, output
    failed = {v["id"]: v for v in run["verdicts"] if v["status"] == "FAILED"}
    assert set(failed) == {"ekko-mangelid"}
    assert "was never answered" in failed["ekko-mangelid"]["reason"]
    steps = {s["id"]: s["status"] for s in _get(live_server, run, "timeline")["steps"]}
    assert steps["vedtak"] == "pending"
    [innsending] = _get(live_server, run, "case")["sak"]["innsendinger"]
    assert innsending["vedtak"] is None
    assert [m["besvart"] is None for m in innsending["mangler"]] == [True, False]
