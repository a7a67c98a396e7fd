"""A Markdown summary for pull requests and ``$GITHUB_STEP_SUMMARY`` (kept well under 1 MiB)."""

from __future__ import annotations

import html
from typing import Any

from app.scoring.tally import blocks, percent

ICON = {
    "PASSED": "✅",
    "FAILED": "❌",
    "WARNING": "⚠️",
    "PENDING": "⏳",
    "INCOMPLETE": "🚧",
    "SKIPPED": "⏭️",
}
MAX_ROWS = 60


# Backslash first, so an escape of ours can never be undone by one of the client's.
_MARKDOWN_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`[]|"})


def cell(text: Any) -> str:
    """``text`` safe in a Markdown table cell: HTML-escaped, on one line, no links or code."""
    escaped = html.escape(str("" if text is None else text), quote=False)
    return " ".join(escaped.translate(_MARKDOWN_ESCAPES).splitlines())


def headline(document: dict[str, Any]) -> str:
    """``passed``, ``FAILED``, or ``not final`` while a run is still live."""
    if document["passed"]:
        return "passed"
    return "FAILED" if document.get("final", True) else "not final"


def render(document: dict[str, Any]) -> str:
    """Summary table per scenario, then every verdict that failed, warned or blocks the run."""
    counts = document["counts"]
    lines = [
        f"## byggesak-sandbox: {headline(document)}",
        "",
        f"{counts['PASSED']} passed, {counts['FAILED']} failed, {counts['WARNING']} warnings, "
        f"{counts['PENDING']} pending, {counts['INCOMPLETE']} incomplete, "
        f"{counts['SKIPPED']} skipped — target `{document['target']}`, "
        f"sandbox {document['sandboxVersion']}",
        "",
        "| scenario | result | score | coverage | passed | failed | warnings | pending "
        "| incomplete | skipped |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in document["runs"]:
        c = run["counts"]
        mark = "✅" if run["passed"] else ("❌" if run.get("final", True) else "⏳")
        lines.append(
            f"| `{run['scenario']['id']}` | {mark} | {percent(run['score'])} | "
            f"{percent(run['coverage'])} | {c['PASSED']} | {c['FAILED']} | {c['WARNING']} | "
            f"{c['PENDING']} | {c['INCOMPLETE']} | {c['SKIPPED']} |"
        )
    problems = [
        (run, v)
        for run in document["runs"]
        for v in run["verdicts"]
        if v["status"] == "WARNING" or blocks(v)
    ]
    if problems:
        lines += [
            "",
            "### Not passed",
            "",
            "| | scenario | expectation | first divergence or reason |",
            "|---|---|---|---|",
        ]
        for run, v in problems[:MAX_ROWS]:
            lines.append(
                f"| {ICON[v['status']]} {v['status']} | `{run['scenario']['id']}` | "
                f"{cell(v['title'])} ({cell(v['requirement'] or v['id'])}) | "
                f"{cell(v['firstDivergence'] or v['reason'])} |"
            )
        if len(problems) > MAX_ROWS:
            lines.append(f"\n…and {len(problems) - MAX_ROWS} more; see the HTML or JSON report.")
    return "\n".join(lines) + "\n"
