"""One tiny iteration of each benchmark, for behaviour only (benchmarks never fail on time)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, str(BENCH / "report_bench.py"), "--entries", "200", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        cwd=BENCH.parent,
    ).stdout
    assert "score + all reports, 200 journal entries" in out
