"""Time to verdict: the reference client through every shipped scenario, manual clock.

Runs `byggesak-sandbox run --scenario all` once with the reference client and prints the
wall time per scenario (from the result's client seconds) and for the whole library.

    .venv/bin/python bench/verdict_bench.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        started = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).with_name("byggesak-sandbox")),
                "run",
                "--scenario",
                "all",
                "--client-cmd",
                f"{sys.executable} examples/reference_client/client.py",
                "--json",
                str(result_file),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        total = time.perf_counter() - started
        document = json.loads(result_file.read_text("utf-8"))
    for run in document["runs"]:
        print(
            f"{run['scenario']['id']:28s} {run['client']['seconds']:6.2f} s  score {run['score']:.0%}"
        )
    print(
        f"{'whole library':28s} {total:6.2f} s  ({len(document['runs'])} scenarios, passed={document['passed']})"
    )


if __name__ == "__main__":
    main()
