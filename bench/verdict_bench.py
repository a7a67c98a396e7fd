"""Time to verdict: the reference client through every shipped scenario, manual clock.

Runs `byggesak-sandbox run --scenario all` with the reference client and prints the wall
time per scenario (from the result's client seconds) and for the whole library, measured
around the command (start-up, embedded sandbox and reports included): once one scenario
at a time, then with ``--jobs`` scenarios at once.

    .venv/bin/python bench/verdict_bench.py [--jobs 11]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]


def library(jobs: int, scenario: str = "all") -> tuple[float, dict[str, Any]]:
    """Wall seconds for the library (or ``scenario``) with ``jobs`` at once, and the result."""
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        started = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).with_name("byggesak-sandbox")),
                "run",
                "--scenario",
                scenario,
                "--client-cmd",
                f"{sys.executable} examples/reference_client/client.py",
                "--jobs",
                str(jobs),
                "--json",
                str(result_file),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        total = time.perf_counter() - started
        return total, json.loads(result_file.read_text("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=11, help="for the parallel pass")
    parser.add_argument("--scenario", default="all", help="a scenario id or tag instead")
    args = parser.parse_args()
    sequential, document = library(1, args.scenario)
    for run in document["runs"]:
        print(
            f"{run['scenario']['id']:28s} {run['client']['seconds']:6.2f} s  score {run['score']:.0%}"
        )
    count = len(document["runs"])
    print(
        f"{'whole library, --jobs 1':28s} {sequential:6.2f} s  ({count} scenarios, passed={document['passed']})"
    )
    parallel, document = library(args.jobs, args.scenario)
    print(
        f"{f'whole library, --jobs {args.jobs}':28s} {parallel:6.2f} s  "
        f"(slowest: {max(r['client']['seconds'] for r in document['runs']):.2f} s, passed={document['passed']})"
    )


if __name__ == "__main__":
    main()
