"""What ``byggesak-sandbox run`` writes: report paths checked before any run, the reports,
and the lines on the terminal."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from app.reports import RENDERERS
from app.reports.markdown import cell
from app.scoring.tally import blocks, percent

STDERR_LINES = 12


def output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """A report path the run can write to; a usage error before any run if it cannot."""
    if value is None:
        return None
    if not value.strip():
        hint = " (is $GITHUB_STEP_SUMMARY set? only GitHub Actions sets it)"
        raise click.BadParameter("the path is empty" + (hint if param.name == "markdown" else ""))
    path = Path(value)
    if path.is_dir():
        raise click.BadParameter(f"{value} is a folder; name a file in it")
    folder = path.parent
    if not folder.is_dir():
        raise click.BadParameter(f"cannot write {value}: there is no folder {folder}")
    try:
        # Trying is the only answer that holds for root, read-only mounts and ACLs alike.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".byggesak-sandbox-"):
            pass
        if path.exists():
            with path.open("a"):
                pass
    except OSError as exc:
        raise click.BadParameter(f"cannot write {value}: {exc.strerror or exc}") from None
    return path


def write(path: Path | None, kind: str, document: dict[str, Any]) -> None:
    """Render one report; the Markdown gains what the runner found besides the verdicts."""
    if path is None:
        return
    text = RENDERERS[kind](document)
    if kind == "markdown":
        text += markdown_findings(document)
    if kind == "markdown" and path.exists() and os.environ.get("GITHUB_STEP_SUMMARY") == str(path):
        with path.open("a", encoding="utf-8") as handle:  # the step summary is appended to
            handle.write(text)
        return
    path.write_text(text, "utf-8")


def now_passing(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Verdicts listed as expected failures that passed this time."""
    return [v for v in run["verdicts"] if v.get("expectedFailure") and v["status"] == "PASSED"]


def markdown_findings(document: dict[str, Any]) -> str:
    """Sections for runs the runner failed itself and for expected failures that now pass."""
    lines: list[str] = []
    stopped = [run for run in document["runs"] if run.get("error")]
    if stopped:
        lines += ["", "### Runs that failed besides their verdicts", ""]
        lines += ["| scenario | what happened | client exit code |", "|---|---|---|"]
        for run in stopped:
            lines.append(
                f"| `{run['scenario']['id']}` | {cell(run['error'])} | "
                f"{cell(run.get('client', {}).get('exitCode'))} |"
            )
    passing = [(run, v) for run in document["runs"] for v in now_passing(run)]
    if passing:
        lines += ["", "### Listed as expected failures, but passed", ""]
        lines += [
            f"- `{run['scenario']['id']}/{v['id']}`: remove it from the expected failures"
            for run, v in passing
        ]
    return "\n".join(lines) + "\n" if lines else ""


def terminal_lines(run: dict[str, Any]) -> list[str]:
    """A run's line, then its failures, warnings, findings and a failing client's stderr."""
    counts = run["counts"]
    lines = [
        f"{'PASS' if run['passed'] else 'FAIL'} {run['scenario']['id']}: "
        f"score {percent(run['score'])}, coverage {percent(run['coverage'])}, "
        f"{counts.get('FAILED', 0)} failed, {counts.get('WARNING', 0)} warnings, "
        f"{run.get('seconds', 0):.1f} s"
    ]
    for verdict in run["verdicts"]:
        if verdict["status"] == "WARNING" or blocks(verdict):
            lines.append(
                f"  {verdict['status']} {verdict['id']}: "
                f"{verdict['firstDivergence'] or verdict['reason']}"
            )
    lines += [
        f"  PASSED {v['id']}: listed as an expected failure, but passed: remove it from the list"
        for v in now_passing(run)
    ]
    client = run.get("client", {})
    if run.get("error"):
        lines.append(f"  ERROR {run['error']}")
    code = client.get("exitCode")
    if (run.get("error") or (code or 0) > 0) and client.get("stderrTail", "").strip():
        lines.append(f"  client exit code {code}; the end of its stderr:")
        tail = client["stderrTail"].rstrip().splitlines()[-STDERR_LINES:]
        lines += [f"    | {line}" for line in tail]
    return lines
