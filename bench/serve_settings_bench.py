"""Server settings of ``byggesak-sandbox serve`` side by side: workers, threads, backlog, keep-alive.

Every setting gets its own sandbox (its own SQLite file, one live happy-path run) started
as ``serve`` starts it with that one option changed from the defaults. All are up at once
and measured in turn with the same wrk load, in rounds, on two polls of the run: its
kvittering and its status (a poll whose every request goes through Flask); figures are
medians over the rounds, and each setting's ratio to the defaults is the median of the
rounds' own ratios. Also each worker's share of the server's CPU: with one listening
socket shared by the workers, one of them could take every keep-alive connection.

    .venv/bin/python bench/serve_settings_bench.py [--seconds 5] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from http_bench import (
    Process,
    _descendants,
    cpu_seconds,
    make_runs,
    median,
    sandbox,
    wrk,
)

# (label, workers, threads, more serve options); the first is serve's defaults.
SETTINGS: list[tuple[str, int, int, list[str]]] = [
    ("defaults (2 workers, 8 threads)", 2, 8, []),
    ("workers 1", 1, 8, []),
    ("workers 3", 3, 8, []),
    ("threads 2", 2, 2, []),
    ("threads 4", 2, 4, []),
    ("threads 16", 2, 16, []),
    ("backlog 128", 2, 8, ["--backlog", "128"]),
    ("backlog 4096", 2, 8, ["--backlog", "4096"]),
    ("keep-alive 2 s", 2, 8, ["--keep-alive", "2"]),
]


def _is_writer(pid: int) -> bool:
    """The journal writer's process (``app.store.journal_process``), not a granian worker."""
    try:
        return b"app.store.journal_process" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def worker_shares(pid: int, before: dict[int, float]) -> list[float]:
    """Each worker's share of the CPU its server's workers used since ``before``."""
    used = {
        kid: cpu_seconds(kid) - before.get(kid, 0.0)
        for kid in _descendants(pid)
        if not _is_writer(kid)
    }
    total = sum(used.values()) or 1.0
    return sorted((round(u / total, 2) for u in used.values()), reverse=True)


def main() -> None:
    """Start every setting, measure them in rounds, print a line each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=2, help="seconds, 0 for none")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default="", help="labels to keep, comma-separated prefixes")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    chosen = [s for s in SETTINGS if not args.only or s[0].startswith(tuple(args.only.split(",")))]
    print(
        f"serve settings; wrk -t2 -c{args.connections} -d{args.seconds}s on one run's "
        f"kvittering and status; {args.rounds} rounds; medians over the rounds"
    )
    servers: list[Process] = []
    polls = ("kvittering", "status")
    results: dict[tuple[str, str], list[dict[str, float]]] = {
        (label, poll): [] for label, *_ in chosen for poll in polls
    }
    shares: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            targets = []
            for n, (label, workers, threads, extra) in enumerate(chosen):
                folder = Path(tmp) / f"s{n}"
                folder.mkdir()
                server, base = sandbox(folder, workers, threads, extra)
                servers.append(server)
                [run] = make_runs(base, 1)
                for poll in polls:
                    url = f"{base}/api/v1/{poll}?innsendingReferanse={run['ref']}"
                    targets.append((label, poll, server, url, {"Authorization": run["auth"]}))
            for round_ in range(args.rounds):
                for label, poll, server, url, headers in targets:
                    if round_ == 0 and args.warm_up:
                        wrk(url, args.warm_up, headers, connections=args.connections)
                    before = {kid: cpu_seconds(kid) for kid in _descendants(server.proc.pid)}
                    result = wrk(url, args.seconds, headers, connections=args.connections)
                    assert result["non2xx"] == 0, (label, poll, result)
                    results[label, poll].append(result)
                    shares[label] = worker_shares(server.proc.pid, before)
        finally:
            for server in servers:
                server.stop()
    for (label, poll), runs in results.items():
        base_runs = results[chosen[0][0], poll]
        each = [r["rps"] / b["rps"] for r, b in zip(runs, base_runs, strict=True)]
        print(
            f"{label:32s} {poll:10s} {median([r['rps'] for r in runs]):7.0f} req/s   "
            f"p99 {median([r['p99'] for r in runs]):7.1f} ms   "
            f"vs defaults {median(each):.2f} ({min(each):.2f}-{max(each):.2f})   "
            f"socket errors {sum(int(r['socket_errors']) for r in runs)}   "
            f"worker CPU shares {shares[label]}"
        )


if __name__ == "__main__":
    main()
