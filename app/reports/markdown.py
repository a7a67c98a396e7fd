"""A Markdown summary for pull requests and ``$GITHUB_STEP_SUMMARY`` (kept well under 1 MiB)."""

from __future__ import annotations

from typing import Any

ICON = {"PASSED": "✅", "FAILED": "❌", "WARNING": "⚠️", "SKIPPED": "⏭️"}
MAX_ROWS = 60


def _cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def render(document: dict[str, Any]) -> str:
    """Summary table per scenario, then every failure and warning with its first divergence."""
    counts = document["counts"]
    verdict = "passed" if document["passed"] else "FAILED"
    lines = [
        f"## byggesak-sandbox: {verdict}",
        "",
        f"{counts['PASSED']} passed, {counts['FAILED']} failed, {counts['WARNING']} warnings, "
        f"{counts['SKIPPED']} skipped — target `{document['target']}`, sandbox {document['sandboxVersion']}",
        "",
        "| scenario | result | score | coverage | passed | failed | warnings | skipped |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in document["runs"]:
        c = run["counts"]
        lines.append(
            f"| `{run['scenario']['id']}` | {'✅' if run['passed'] else '❌'} | {run['score']:.0%} | "
            f"{run['coverage']:.0%} | {c['PASSED']} | {c['FAILED']} | {c['WARNING']} | {c['SKIPPED']} |"
        )
    problems = [
        (run, v)
        for run in document["runs"]
        for v in run["verdicts"]
        if v["status"] in ("FAILED", "WARNING")
    ]
    if problems:
        lines += [
            "",
            "### Failures and warnings",
            "",
            "| | scenario | expectation | first divergence |",
            "|---|---|---|---|",
        ]
        for run, v in problems[:MAX_ROWS]:
            lines.append(
                f"| {ICON[v['status']]} | `{run['scenario']['id']}` | {_cell(v['title'])} "
                f"({_cell(v['requirement'] or v['id'])}) | {_cell(v['firstDivergence'] or v['reason'])} |"
            )
        if len(problems) > MAX_ROWS:
            lines.append(f"\n…and {len(problems) - MAX_ROWS} more; see the HTML or JSON report.")
    return "\n".join(lines) + "\n"
