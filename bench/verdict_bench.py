"""Time to verdict: the reference client through every shipped scenario, manual clock.

Runs `byggesak-sandbox run --scenario all` with the reference client once per ``--jobs``
value (``default``: the command's own default) and prints the wall time of each pass,
measured around the command (start-up, embedded sandbox, scoring and reports included),
and, for the first pass, each scenario's wall time from the result (``seconds``).

    .venv/bin/python bench/verdict_bench.py [--jobs default,1] [--scenario all]
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


def library(jobs: str, scenario: str = "all") -> tuple[float, dict[str, Any]]:
    """Wall seconds for the library (or ``scenario``) with ``jobs`` at once, and the result."""
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        command = [
            str(Path(sys.executable).with_name("byggesak-sandbox")),
            "run",
            "--scenario",
            scenario,
            "--client-cmd",
            f"{sys.executable} examples/reference_client/client.py",
            "--json",
            str(result_file),
        ]
        if jobs != "default":
            command += ["--jobs", jobs]
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        total = time.perf_counter() - started
        return total, json.loads(result_file.read_text("utf-8"))


def main() -> None:
    """Time each pass and print it."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--jobs", default="default,1", help="comma-separated --jobs values, one pass each"
    )
    parser.add_argument("--scenario", default="all", help="a scenario id or tag instead")
    args = parser.parse_args()
    for number, jobs in enumerate(args.jobs.split(",")):
        total, document = library(jobs.strip(), args.scenario)
        runs = document["runs"]
        if number == 0:
            for run in runs:
                seconds = run.get("seconds", run["client"]["seconds"])
                print(f"{run['scenario']['id']:28s} {seconds:6.2f} s  score {run['score']:.0%}")
        slowest = max(r.get("seconds", r["client"]["seconds"]) for r in runs)
        print(
            f"{f'whole library, --jobs {jobs}':28s} {total:6.2f} s  "
            f"({len(runs)} scenarios, slowest {slowest:.2f} s, passed={document['passed']})"
        )


if __name__ == "__main__":
    main()
