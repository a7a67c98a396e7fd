"""Throughput and latency of the simulated API next to WireMock, Prism and a bare Flask route.

All servers run on loopback at the same time and are measured in turn with the same wrk
load (32 connections), in rounds: every target once a round, figures the medians over the
rounds and each ratio the median of the rounds' own ratios. On a shared machine whose
speed drifts by the minute, a ratio of neighbours in time is what means something:

- the sandbox as the README deploys it (``byggesak-sandbox serve``: granian, 2 workers ×
  8 threads), journal on, on a SQLite file: GET /api/v1/kvittering and GET
  /api/v1/oppdatering of a live run of the happy-path scenario (journalført, the vedtak
  still to come), repeated as a polling client repeats them, then kvittering with 1, 100
  and 1000 such runs in the store (one sandbox and database per scale point, requests
  spread over all of its runs); the server's memory (all its processes) and CPU per
  request, and the journal rows of the busiest run against the cap;
- WireMock 3.13.2 (journal on) and Stoplight Prism 5.16.0 serving the same kvittering as a
  static stub, and a bare Flask route under granian with the same workers and threads;
  the peers' memory next to the sandbox's.

Every target gets a warm-up of the same load before its first measurement (JIT, caches).

Peers are optional: the script measures what is installed and says what it skipped.

    apt-get install wrk
    (cd bench && npm install --no-audit --no-fund wiremock@3.13.2 @stoplight/prism-cli@5.16.0)
    .venv/bin/python bench/http_bench.py [--seconds 10] [--rounds 3] [--runs 1,100,1000]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).parent
SCENARIO = "happy-path"
WARM_UP = 3  # default seconds of the same load before each measurement, not counted
JOURNAL_CAP = 10_000  # the sandbox's default SANDBOX_JOURNAL_MAX_ENTRIES
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wrk(
    url: str,
    seconds: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    connections: int = 32,
) -> dict[str, float]:
    """Run wrk (-c32): req/s, p50 and p99 in ms, the share of non-2xx answers, socket errors."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rate,
        "p50": latency("50"),
        "p99": latency("99"),
        "non2xx": (int(non2xx[1]) / total) if non2xx else 0.0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (a server's workers), in MB."""
    total = 0
    for candidate in [pid, *_descendants(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _descendants(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (a worker may be forked by any), and theirs."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = [int(p) for p in children.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_descendants(kid)]
    return found


class Process:
    def __init__(
        self, command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)


def serve(port: int, workers: int, threads: int, extra: list[str] | None = None) -> list[str]:
    """The README's deployment: ``byggesak-sandbox serve`` (granian, its chosen settings)."""
    return [
        str(VENV_BIN / "byggesak-sandbox"),
        *("serve", "--port", str(port), "--workers", str(workers), "--threads", str(threads)),
        *(extra or []),
    ]


def granian(target: str, port: int, workers: int, threads: int) -> list[str]:
    """The bare-Flask peer under granian as ``serve`` runs the sandbox (WSGI, HTTP/1)."""
    return [
        str(VENV_BIN / "granian"),
        *("--interface", "wsgi", "--http", "1", "--no-ws", "--port", str(port)),
        *("--workers", str(workers), "--blocking-threads", str(threads), target),
    ]


def sandbox(
    folder: Path, workers: int = 2, threads: int = 8, extra: list[str] | None = None
) -> tuple[Process, str]:
    port = free_port()
    server = Process(
        serve(port, workers, threads, extra),
        env={
            "SANDBOX_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "SANDBOX_SCENARIO_RELOAD": "false",
        },
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/healthz")
    return server, base


def make_runs(base: str, count: int) -> list[dict[str, str]]:
    """``count`` live runs of happy-path, journalført with the vedtak pending; their credentials."""

    def one(_n: int) -> dict[str, str]:
        with requests.Session() as http:
            run = http.post(
                f"{base}/sandbox/runs",
                json={"scenario": SCENARIO, "clock": {"mode": "manual"}},
                timeout=60,
            ).json()
            http.post(
                f"{base}/sandbox/runs/{run['id']}/clock", json={"advance": "PT2H"}, timeout=60
            )
        token = base64.b64encode(
            f"{run['credentials']['username']}:{run['credentials']['password']}".encode()
        ).decode()
        return {"auth": f"Basic {token}", "ref": run["innsendingReferanser"][0], "id": run["id"]}

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far."""
    total = 0
    for candidate in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{candidate}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def journal_rows(database: Path) -> tuple[int, int]:
    """Rows of the run with the most journal rows, and that run's journal count."""
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT j.run_id, count(*), r.journal_count FROM journal j JOIN runs r "
            "ON r.id = j.run_id GROUP BY j.run_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    return (int(row[1]), int(row[2])) if row else (0, 0)


def spread_script(folder: Path, runs: list[dict[str, str]], path: str) -> Path:
    """A wrk Lua script sending each request for the next run, round robin."""
    entries = ",\n".join(
        f'{{"{r["auth"]}", "{path}?innsendingReferanse={r["ref"]}"}}' for r in runs
    )
    script = folder / f"spread-{len(runs)}.lua"
    script.write_text(
        f"local runs = {{\n{entries}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #runs + 1\n"
        '  return wrk.format("GET", runs[i][2], {["Authorization"] = runs[i][1]})\nend\n'
    )
    return script


@dataclass
class Target:
    """One thing wrk measures: a URL (with headers or a Lua script) on one server."""

    name: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    server: Process | None = None  # whose CPU and memory to report (the sandbox's)
    results: list[dict[str, float]] = field(default_factory=list)


def start_peers(folder: Path, payload: dict[str, Any], workers: int, threads: int) -> list[Target]:
    """WireMock, Prism and a bare Flask route serving ``payload``: whichever are installed."""
    targets: list[Target] = []
    body = json.dumps(payload, ensure_ascii=False)
    modules = HERE / "node_modules"
    jar = modules / "wiremock" / "build" / "wiremock-standalone-3.13.2.jar"
    if jar.exists() and shutil.which("java"):
        port = free_port()
        root = folder / "wiremock"  # its mappings and __files, not in the caller's folder
        root.mkdir()
        server = Process(
            ["java", "-jar", str(jar), "--port", str(port), "--disable-banner"],
            cwd=root,
        )
        wait_for(f"http://127.0.0.1:{port}/__admin/mappings")
        stub = {
            "request": {"method": "GET", "urlPath": "/api/v1/kvittering"},
            "response": {
                "status": 200,
                "body": body,
                "headers": {"Content-Type": "application/json"},
            },
        }
        requests.post(f"http://127.0.0.1:{port}/__admin/mappings", json=stub, timeout=10)
        url = f"http://127.0.0.1:{port}/api/v1/kvittering?innsendingReferanse=AR1"
        targets.append(Target("wiremock", url, server=server))
    else:
        print("wiremock: skipped (npm install wiremock@3.13.2 in bench/, and Java)")
    prism = modules / ".bin" / "prism"
    if prism.exists():
        spec = folder / "kvittering.openapi.json"
        spec.write_text(
            json.dumps(
                {
                    "openapi": "3.0.3",
                    "info": {"title": "kvittering stub", "version": "1"},
                    "paths": {
                        "/api/v1/kvittering": {
                            "get": {
                                "parameters": [
                                    {
                                        "name": "innsendingReferanse",
                                        "in": "query",
                                        "required": True,
                                        "schema": {"type": "string"},
                                    }
                                ],
                                "responses": {
                                    "200": {
                                        "description": "ok",
                                        "content": {"application/json": {"example": payload}},
                                    }
                                },
                            }
                        }
                    },
                }
            )
        )
        port = free_port()
        server = Process([str(prism), "mock", "-p", str(port), "-h", "127.0.0.1", str(spec)])
        url = f"http://127.0.0.1:{port}/api/v1/kvittering?innsendingReferanse=AR1"
        wait_for(url)
        targets.append(Target("prism", url, server=server))
    else:
        print("prism: skipped (npm install @stoplight/prism-cli@5.16.0 in bench/)")
    bare = folder / "bare_app.py"
    bare.write_text(
        "from flask import Flask, Response\n"
        f"BODY = {body.encode('utf-8')!r}\n"
        "app = Flask(__name__)\n"
        "@app.get('/api/v1/kvittering')\n"
        "def kvittering():\n    return Response(BODY, mimetype='application/json')\n"
    )
    port = free_port()
    server = Process(granian("bare_app:app", port, workers, threads), cwd=folder)
    url = f"http://127.0.0.1:{port}/api/v1/kvittering"
    wait_for(url)
    targets.append(Target("bare-flask", url, server=server))
    return targets


def spread_name(count: int) -> str:
    return f"sandbox kvittering, spread ({count} run{'s' if count > 1 else ''})"


def line(name: str, r: dict[str, float], extra: str = "") -> str:
    return (
        f"{name:40s} {r['rps']:8.0f} req/s   p50 {r['p50']:7.1f} ms   p99 {r['p99']:8.1f} ms{extra}"
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure(target: Target, seconds: int, warm_up: int) -> None:
    """One wrk run on ``target`` (after a warm-up the first time); keep its figures."""
    if warm_up and not target.results:
        wrk(target.url, warm_up, **target.kwargs)
    before = cpu_seconds(target.server.proc.pid) if target.server else 0.0
    result = wrk(target.url, seconds, **target.kwargs)
    if target.server is not None:
        used = cpu_seconds(target.server.proc.pid) - before
        result["cpu_us"] = used / (result["rps"] * seconds) * 1e6
        result["rss"] = rss_mb(target.server.proc.pid)
    target.results.append(result)


def summary(target: Target) -> str:
    """Medians over the rounds; memory (after the last round) and CPU for servers we watch."""
    figures = {key: median([r[key] for r in target.results]) for key in ("rps", "p50", "p99")}
    extra = ""
    if target.server is not None:
        cpu = median([r["cpu_us"] for r in target.results])
        extra = f"   RSS {target.results[-1]['rss']:5.0f} MB   CPU {cpu:5.0f} µs/req"
    return line(target.name, figures, extra)


def ratio(mine: Target, other: Target) -> str:
    """The median of the rounds' ratios, and their range."""
    each = [a["rps"] / b["rps"] for a, b in zip(mine.results, other.results, strict=True)]
    return f"{median(each):.2f} (rounds: {min(each):.2f}-{max(each):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="every target once a round")
    parser.add_argument("--runs", default="1,100,1000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-peers", action="store_true", help="measure the sandbox alone")
    parser.add_argument("--warm-up", type=int, default=WARM_UP, help="seconds, 0 for none")
    parser.add_argument(
        "--serve-args",
        default="",
        help="more options for the sandbox's serve, e.g. '--backlog 128'",
    )
    args = parser.parse_args()
    extra = args.serve_args.split()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    counts = sorted({1, *(int(c) for c in args.runs.split(","))})
    print(
        f"byggesak-sandbox serve (granian) --workers {args.workers} --threads {args.threads}"
        f"{' ' + ' '.join(extra) if extra else ''}; wrk -t2 -c32 -d{args.seconds}s; "
        f"{args.rounds} rounds, every target once a round; medians over the rounds"
    )
    servers: list[Process] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            # One sandbox per scale point, each with its own database holding that many runs.
            stores: dict[int, tuple[Path, str, list[dict[str, str]]]] = {}
            for count in counts:
                store = folder / f"runs-{count}"
                store.mkdir()
                server, base = sandbox(store, args.workers, args.threads, extra)
                servers.append(server)
                stores[count] = (store, base, make_runs(base, count))
            _store, base, runs = stores[1]
            first = runs[0]
            headers = {"Authorization": first["auth"]}
            payload = requests.get(
                f"{base}/api/v1/kvittering",
                params={"innsendingReferanse": first["ref"]},
                headers=headers,
                timeout=10,
            ).json()
            single = servers[0]
            kvittering = Target(
                "sandbox kvittering (1 run)",
                f"{base}/api/v1/kvittering?innsendingReferanse={first['ref']}",
                {"headers": headers},
                single,
            )
            oppdatering = Target(
                "sandbox oppdatering (1 run)",
                f"{base}/api/v1/oppdatering?innsendingReferanse={first['ref']}",
                {"headers": headers},
                single,
            )
            # Scale: every point through the same wrk script (its Lua costs wrk CPU on these
            # same two cores), so the points differ only in how many runs they spread over.
            spread = [
                Target(
                    spread_name(count),
                    f"{stores[count][1]}/",
                    {"script": spread_script(folder, stores[count][2], "/api/v1/kvittering")},
                    server,
                )
                for count, server in zip(counts, servers, strict=True)
            ]
            others = (
                [] if args.no_peers else start_peers(folder, payload, args.workers, args.threads)
            )
            servers += [t.server for t in others if t.server is not None]
            # The peers right after the sandbox's kvittering: a ratio compares neighbours.
            order = [kvittering, *others, oppdatering, *spread]
            for _round in range(args.rounds):
                for target in order:
                    measure(target, args.seconds, args.warm_up)
            mine = [kvittering, oppdatering, *spread]
            for target in mine:
                print(summary(target))
            busiest = max(journal_rows(store / "bench.db") for store, _b, _r in stores.values())
            non2xx = max(r["non2xx"] for t in mine for r in t.results)
            print(
                f"journal: busiest run holds {busiest[0]} rows of {busiest[1]} exchanges "
                f"(cap {JOURNAL_CAP}); non-2xx answers: {non2xx:.1%}"
            )
            for target in others:
                print(summary(target))
            for target in others:
                print(f"ratio sandbox/{target.name}: {ratio(kvittering, target)}")
            # Memory of the whole server, every process of it, after the last round.
            for target in others:
                if target.server is not None:
                    mb = target.results[-1]["rss"]
                    print(f"RSS sandbox/{target.name}: {kvittering.results[-1]['rss'] / mb:.2f}")
            # What the peers' own ratio says of the targets: a bare route is the ceiling.
            by_name = {target.name: target for target in others}
            if "bare-flask" in by_name:
                for name in ("wiremock", "prism"):
                    if name in by_name:
                        peer = ratio(by_name["bare-flask"], by_name[name])
                        print(f"ratio bare-flask/{name}: {peer}")
            for count, target in zip(counts[1:], spread[1:], strict=True):
                print(f"ratio {count} runs/1 run: {ratio(target, spread[0])}")
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
