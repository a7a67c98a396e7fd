#!/usr/bin/env bash
# The quick set (about 3 minutes on the project's 2-core machine). See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
echo "== 12-week case, manual clock";  $PY bench/timeline_bench.py --repeat 10
echo "== journal writer, µs an entry"; $PY bench/journal_bench.py --repeat 3
echo "== score + reports, 10,000 journal entries"; $PY bench/report_bench.py --repeat 3
echo "== time to verdict, reference client"; $PY bench/verdict_bench.py
echo "== HTTP: sandbox vs WireMock, Prism, bare Flask (wrk -c32)"; $PY bench/http_bench.py --seconds 5 --rounds 2
