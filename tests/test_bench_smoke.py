"""One tiny iteration of each benchmark, for behaviour only (benchmarks never fail on time)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "bench"


def test_twelve_week_case_plays_out(database_url: str) -> None:
    spec = importlib.util.spec_from_file_location("timeline_bench", BENCH / "timeline_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # play() asserts that all 15 steps fired in the one twelve-week clock move.
    [seconds] = module.play(database_url, 1)
    assert seconds > 0


def test_report_bench_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "report_bench.py"), "--entries", "200", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        cwd=BENCH.parent,
    ).stdout
    assert "score + all reports, 200 journal entries" in out


def _bench(*args: str) -> str:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, cwd=BENCH.parent
    ).stdout


def test_verdict_bench_runs() -> None:
    out = _bench(str(BENCH / "verdict_bench.py"), "--scenario", "happy-path", "--jobs", "1,2")
    assert re.search(r"^happy-path +\d+\.\d+ s  score 100%$", out, re.M), out
    assert re.search(r"whole library, --jobs 1 +\d+\.\d+ s .*passed=True", out), out
    assert re.search(r"whole library, --jobs 2 +\d+\.\d+ s .*passed=True", out), out


def test_http_bench_measures_the_sandbox_with_wrk() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("the HTTP benchmark needs wrk: apt-get install wrk (.ci/run installs it)")
    out = _bench(
        str(BENCH / "http_bench.py"),
        *("--seconds", "1", "--rounds", "1", "--warm-up", "0", "--runs", "1,3", "--no-peers"),
    )
    names = ("kvittering (1 run)", "oppdatering (1 run)", "spread (1 run)", "spread (3 runs)")
    for name in names:
        line = next(ln for ln in out.splitlines() if name in ln)
        assert float(re.search(r"(\d+) req/s", line)[1]) > 0, line  # type: ignore[index]
        # Memory is summed over granian's three processes (one alone is about 80 MB).
        assert float(re.search(r"RSS +(\d+) MB", line)[1]) > 150, line  # type: ignore[index]
    # Every answer was a 200 (the runs were live and journalført), and the journal held.
    assert re.search(
        r"journal: busiest run holds \d+ rows of \d+ exchanges \(cap 10000\); non-2xx answers: 0\.0%",
        out,
    ), out
    assert re.search(r"ratio 3 runs/1 run: \d+\.\d\d", out), out


def test_journal_bench_writes_what_it_measures() -> None:
    # A cap of 20 makes the one-run line trim; the bench checks counts and cap itself.
    out = _bench(
        str(BENCH / "journal_bench.py"),
        *("--runs", "1,3", "--batch", "5", "--entries", "50", "--repeat", "1", "--cap", "20"),
    )
    for count in ("    1 run ", "    3 runs"):
        line = next(ln for ln in out.splitlines() if ln.startswith(count))
        assert float(re.search(r"median +([\d.]+) µs", line)[1]) > 0, line  # type: ignore[index]


def test_serve_settings_bench_compares_settings_side_by_side() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("the settings benchmark needs wrk: apt-get install wrk")
    out = _bench(
        str(BENCH / "serve_settings_bench.py"),
        *("--seconds", "1", "--rounds", "1", "--warm-up", "0", "--only", "defaults,workers 1"),
    )
    for label, poll in (
        ("defaults", "kvittering"),
        ("defaults", "status"),
        ("workers 1", "status"),
    ):
        line = next(ln for ln in out.splitlines() if ln.startswith(label) and poll in ln)
        assert float(re.search(r"(\d+) req/s", line)[1]) > 0, line  # type: ignore[index]
    # The defaults' own ratio is 1 by construction; the one-worker server has one share.
    assert re.search(r"^defaults .* kvittering .* vs defaults 1\.00 ", out, re.M), out
    assert re.search(r"^workers 1 .* worker CPU shares \[1\.0\]$", out, re.M), out


def test_instruction_count_counts_only_the_requests() -> None:
    if shutil.which("valgrind") is None:
        pytest.skip("the instruction count needs valgrind: apt-get install valgrind")
    out = _bench(str(BENCH / "instructions.py"), "healthz", "--requests", "20")
    count = float(
        re.search(r"^healthz: ([\d,]+) instructions a request", out, re.M)[1].replace(",", "")
    )  # type: ignore[index]
    # Start-up (imports, the app, the run) costs hundreds of millions: only requests counted.
    assert 10_000 < count < 20_000_000, out
