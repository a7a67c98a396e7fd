"""`byggesak-sandbox run` as CI reads it: a silent, failing or unstartable client, bad report
paths and expected-failure files give the right exit code and one line saying why, and a
reaction is waited for until the client is done, not for a fixed time."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import LiveServer
from tests.test_ci_run import CLIENT, _run


def _runs_on(server: LiveServer) -> int:
    return len(requests.get(f"{server.url}/sandbox/runs", timeout=30).json()["runs"])


def _one_line_usage_error(result: Any) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    return str(line)


def test_a_silent_client_fails_fast_naming_it(tmp_path: Path) -> None:
    started = time.monotonic()
    result = _run(
        "--scenario",
        "happy-path",
        "--client-cmd",
        "sleep 60",
        "--max-seconds",
        "5",
        "--json",
        str(tmp_path / "r.json"),
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert elapsed < 10, elapsed
    assert "the client made no request in 5 s" in result.stdout
    assert result.stdout.startswith("FAIL happy-path:")
    document = json.loads((tmp_path / "r.json").read_text("utf-8"))
    [run] = document["runs"]
    assert document["passed"] is False and run["passed"] is False
    assert run["client"]["timedOut"] is True and run["client"]["exitCode"] < 0
    assert "--max-seconds 5" in run["error"]


def test_a_client_silent_from_the_start_fails_after_the_idle_timeout() -> None:
    result = _run("--scenario", "happy-path", "--client-cmd", "sleep 60", "--idle-timeout", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ERROR the client made no request in 1 s after it started" in result.stdout


def test_max_seconds_stops_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    result = _run(
        "--scenario",
        "happy-path",
        "--client-cmd",
        f"sh -c 'sleep 300 & echo $! > {pid_file}; wait'",
        "--max-seconds",
        "2",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "timed out at --max-seconds 2" in result.stdout
    child = int(pid_file.read_text().strip())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child), "the client's child outlived the run"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; only a running process counts.
    status = Path(f"/proc/{pid}/stat")
    return not status.exists() or status.read_text().split(") ")[-1][:1] != "Z"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("./no-such.sh", "'./no-such.sh': no such file: ./no-such.sh"),
        ("{not_executable}", "is not executable"),
        ("", "'': the command is empty"),
        ("no-such-program-here --flag", "no program 'no-such-program-here' on PATH"),
        ("sh -c 'unclosed", "cannot split it into words"),
    ],
)
def test_a_client_that_cannot_start_is_one_line_and_exit_2_before_any_run(
    live_server: LiveServer, tmp_path: Path, command: str, message: str
) -> None:
    script = tmp_path / "our-client.sh"
    script.write_text("#!/bin/sh\necho hi\n", "utf-8")
    command = command.format(not_executable=script)
    before = _runs_on(live_server)
    result = _run("--server", live_server.url, "--scenario", "happy-path", "--client-cmd", command)
    line = _one_line_usage_error(result)
    assert line.startswith("Error: Invalid value for '--client-cmd'") and message in line
    assert _runs_on(live_server) == before


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--markdown", "", "the path is empty (is $GITHUB_STEP_SUMMARY set?"),
        ("--junit", "", "the path is empty"),
        ("--json", "{tmp}/no-such-folder/r.json", "there is no folder"),
        ("--html", "{tmp}", "is a folder; name a file in it"),
        ("--json", "{tmp}/a-file/r.json", "there is no folder"),
        ("--markdown", "/proc/summary.md", "cannot write /proc/summary.md"),
    ],
)
def test_a_report_path_that_cannot_be_written_is_a_usage_error_before_the_run(
    live_server: LiveServer, tmp_path: Path, option: str, value: str, message: str
) -> None:
    (tmp_path / "a-file").write_text("", "utf-8")
    before = _runs_on(live_server)
    result = _run(
        "--server",
        live_server.url,
        "--scenario",
        "happy-path",
        "--client-cmd",
        CLIENT,
        option,
        value.format(tmp=tmp_path),
    )
    line = _one_line_usage_error(result)
    assert line.startswith(f"Error: Invalid value for '{option}'") and message in line, line
    assert _runs_on(live_server) == before


def test_two_suppleringer_263_ms_apart_land_on_the_same_virtual_day(tmp_path: Path) -> None:
    result = _run(
        "--scenario",
        "mangel-then-vedtak",
        "--client-cmd",
        f"{CLIENT} --defect answers-mangler-one-by-one",
        "--json",
        str(tmp_path / "r.json"),
    )
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    answers = [
        e for e in run["exchanges"] if e["method"] == "POST" and e["path"] == "/api/v1/supplering"
    ]
    assert len(answers) == 2, result.stdout + result.stderr
    assert all(e["status"] < 300 for e in answers)
    # A poll came between them, and they were sent more than a quarter second apart...
    first, second = answers
    between = [e for e in run["exchanges"] if first["id"] < e["id"] < second["id"]]
    assert [e["path"] for e in between] == ["/api/v1/oppdatering"]
    assert _seconds(second["realTime"]) - _seconds(first["realTime"]) >= 0.25
    # ...but the kommune's clock did not move between them.
    assert first["virtualTime"] == second["virtualTime"]
    verdicts = {v["id"]: v["status"] for v in run["verdicts"]}
    # Both answers count: the mangler were answered, over two suppleringer, as DiBK allows.
    assert verdicts["ekko-mangelid"] == verdicts["svarer-strukturert"] == "PASSED"


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_a_client_that_exits_at_start_is_named_with_its_code_and_stderr(tmp_path: Path) -> None:
    result = _run(
        "--scenario",
        "happy-path",
        "--client-cmd",
        "sh -c 'echo starting up; echo BYGGESAK_TOKEN is not set >&2; exit 3'",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ERROR the client exited with code 3 after" in result.stdout
    assert "before the run was done" in result.stdout
    assert "  client exit code 3; the end of its stderr:" in result.stdout
    assert "    | BYGGESAK_TOKEN is not set" in result.stdout
    assert "starting up" not in result.stdout  # stdout is in the JSON, not the terminal
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    assert run["client"]["exitCode"] == 3 and run["passed"] is False
    assert run["client"]["stderrTail"] == "BYGGESAK_TOKEN is not set\n"
    assert "starting up" in run["client"]["outputTail"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00", "known:1: not a text file (a NUL byte)"),
        (b"happy-path/henter-vedtak\n\xff\xfe\n", "known:2: not UTF-8 text (byte 0xff)"),
        (b"# JIRA-1\n\nhappy-path henter-vedtak\n", "known:3: expected 'scenario/expectation'"),
        (b"- happy-path/henter-vedtak\n- [unclosed\n", "known:2: not valid YAML"),
        (b"- happy-path/henter-vedtak\n- 42\n", "known:2: expected 'scenario/expectation' or"),
    ],
)
def test_an_unreadable_expected_failures_file_is_exit_2_with_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    listed = tmp_path / "known"
    listed.write_bytes(content)
    result = _run(
        "--scenario", "happy-path", "--client-cmd", CLIENT, "--expected-failures", str(listed)
    )
    line = _one_line_usage_error(result)
    assert line.startswith("Error: Invalid value for '--expected-failures'")
    assert f"{tmp_path}/{message}" in line, line


def test_expected_failures_naming_unknown_scenarios_or_expectations_are_exit_2(
    live_server: LiveServer, tmp_path: Path
) -> None:
    listed = tmp_path / "known.yaml"
    listed.write_text(
        "- mangel-then-vedtak/ekko-mangelid\n"
        "- {scenario: no-such-scenario, expectation: ekko-mangelid}\n"
        "# a typo:\n"
        "- happy-path/henter-vedtk\n"
        "# a protocol check every run gets is a verdict of its own:\n"
        "- happy-path/polls_sanely\n",
        "utf-8",
    )
    before = _runs_on(live_server)
    result = _run(
        "--server",
        live_server.url,
        "--scenario",
        "happy-path",
        "--client-cmd",
        CLIENT,
        "--expected-failures",
        str(listed),
    )
    line = _one_line_usage_error(result)
    assert line == (
        f"error: {listed}:2: no scenario 'no-such-scenario' in the library; "
        f"{listed}:4: scenario 'happy-path' has no expectation 'henter-vedtk'"
    )
    assert _runs_on(live_server) == before


def test_a_failing_default_check_can_be_listed_as_expected(tmp_path: Path) -> None:
    # backs_off is no expectation of the scenario file: every run gets it.
    listed = tmp_path / "known.txt"
    listed.write_text(
        "mangel-then-vedtak/backs_off\nmangel-then-vedtak/poller-fornuftig\n", "utf-8"
    )
    result = _run(
        "--scenario",
        "mangel-then-vedtak",
        "--client-cmd",
        f"{CLIENT} --defect tight-loop",
        "--expected-failures",
        str(listed),
        "--json",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    warned = {v["id"] for v in run["verdicts"] if v["status"] == "WARNING"}
    assert warned == {"backs_off", "poller-fornuftig"}


def test_a_listed_failure_that_passes_says_so_in_the_terminal_and_markdown(
    tmp_path: Path,
) -> None:
    listed = tmp_path / "known.txt"
    listed.write_text("happy-path/henter-vedtak  # fixed in 4.3?\n", "utf-8")
    result = _run(
        "--scenario",
        "happy-path",
        "--client-cmd",
        CLIENT,
        "--expected-failures",
        str(listed),
        "--markdown",
        str(tmp_path / "summary.md"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "  PASSED henter-vedtak: listed as an expected failure, but passed: remove it from the list"
        in result.stdout.splitlines()
    )
    markdown = (tmp_path / "summary.md").read_text("utf-8")
    assert "### Listed as expected failures, but passed" in markdown
    assert "- `happy-path/henter-vedtak`: remove it from the expected failures" in markdown


def test_min_coverage_fails_a_run_that_leaves_musts_unexercised(tmp_path: Path) -> None:
    # Every failure of this client listed as expected: only the skipped must is left.
    listed = tmp_path / "known.txt"
    listed.write_text(
        "mangel-then-vedtak/ekko-mangelid\n"
        "mangel-then-vedtak/svarer-strukturert\n"
        "mangel-then-vedtak/henter-dokumenter\n"
        "mangel-then-vedtak/henter-oppdateringer\n",
        "utf-8",
    )
    args = [
        "--scenario",
        "mangel-then-vedtak",
        "--client-cmd",
        f"{CLIENT} --defect stops-after-kvittering",
        "--expected-failures",
        str(listed),
        "--json",
        str(tmp_path / "r.json"),
    ]
    strict = _run(*args)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    [run] = json.loads((tmp_path / "r.json").read_text("utf-8"))["runs"]
    assert run["counts"]["FAILED"] == 0 and run["passed"] is False
    musts = [v for v in run["verdicts"] if v["severity"] == "must" and not v["optional"]]
    share = 1 - 1 / len(musts)
    assert run["mustCoverage"] == round(share, 4)
    assert (
        f"ERROR {share:.0%} of the musts were exercised, below --min-coverage 100% "
        "(not exercised: bruker-gjeldende-saksnummer)"
    ) in strict.stdout
    lenient = _run(*args, "--min-coverage", "0.5")
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
