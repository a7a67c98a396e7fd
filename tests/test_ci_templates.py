"""examples/ci/: the GitHub Actions workflow and the GitLab CI job parse, publish JUnit and
the Markdown summary, and the command they run scores the reference client here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import junitparser
import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).parents[1]
CI = ROOT / "examples" / "ci"
BIN = Path(sys.executable).parent
CLIENT = f"{sys.executable} {ROOT / 'examples' / 'reference_client' / 'client.py'}"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((CI / name).read_text("utf-8"))
    return loaded


def _github() -> tuple[dict[str, Any], str]:
    job = _load("github-actions.yml")["jobs"]["conformance"]
    (script,) = [s["run"] for s in job["steps"] if "byggesak-sandbox run" in s.get("run", "")]
    return job, script


def _gitlab() -> tuple[dict[str, Any], str]:
    job = _load("gitlab-ci.yml")["dibk-conformance"]
    return job, "\n".join(job["script"])


def test_github_workflow_publishes_junit_and_the_summary() -> None:
    workflow = _load("github-actions.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}  # YAML 1.2: `on` is a string
    job, script = _github()
    assert '--markdown "$GITHUB_STEP_SUMMARY"' in script
    steps = {s.get("uses", "").split("@")[0]: s for s in job["steps"]}
    assert steps["mikepenz/action-junit-report"]["with"]["report_paths"] in script
    assert steps["mikepenz/action-junit-report"]["if"] == "always()"
    assert steps["actions/upload-artifact"]["if"] == "always()"
    assert set(job["env"]) == {"SANDBOX_PACKAGE", "SCENARIO", "CLIENT_CMD"}


def test_gitlab_job_publishes_junit_and_the_summary() -> None:
    job, script = _gitlab()
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] in script
    assert "reports/" in job["artifacts"]["paths"]
    assert "reports/dibk-conformance.md" in script
    assert set(job["variables"]) == {"SANDBOX_PACKAGE", "SCENARIO", "CLIENT_CMD"}
    assert job["before_script"] == ['python -m pip install "$SANDBOX_PACKAGE"']


@pytest.mark.parametrize("template", [_github, _gitlab], ids=["github", "gitlab"])
def test_the_command_they_run_scores_the_reference_client(template: Any, tmp_path: Path) -> None:
    _job, script = template()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "SCENARIO": "happy-path",
        "CLIENT_CMD": CLIENT,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
    }
    (tmp_path / "step-summary.md").touch()  # GitHub creates the file; the sandbox appends
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("PASS happy-path")
    suites = list(junitparser.JUnitXml.fromfile(str(tmp_path / "reports/dibk-conformance.xml")))
    assert [suite.name for suite in suites] == ["happy-path"]
    assert (tmp_path / "reports/dibk-conformance.json").exists()
    assert (tmp_path / "reports/dibk-conformance.html").exists()
    summary = tmp_path / (
        "step-summary.md" if "GITHUB" in script else "reports/dibk-conformance.md"
    )
    assert "happy-path" in summary.read_text("utf-8")
