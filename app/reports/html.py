"""A self-contained HTML report: verdicts with their evidence, and the run as a sequence diagram.

One file, no external resource of any kind (no CDN, fonts or scripts), so it opens offline
and can be archived as a CI artifact.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from app.scoring.tally import percent

MAX_ROWS = 300
LANES = {"klient": 170, "api": 430, "kommune": 690}
ROW = 24

_env = Environment(
    loader=PackageLoader("app.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["percent"] = percent


def _rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Kommune steps and client exchanges in virtual-time order, repeats folded together."""
    events: list[tuple[str, int, dict[str, Any]]] = []
    for step in run["timeline"]:
        if step.get("firedAt"):
            events.append(
                (
                    step["firedAt"],
                    -1,
                    {
                        "kind": "step",
                        "label": f"{step['type']} ({step['id']})",
                        "time": step["firedAt"],
                    },
                )
            )
    for exchange in run["exchanges"]:
        query = exchange["query"].get("innsendingReferanse")
        label = f"{exchange['method']} {exchange['path'].removeprefix('/api/v1')}" + (
            f" [{query}]" if query else ""
        )
        events.append(
            (
                exchange["virtualTime"],
                exchange["id"],
                {
                    "kind": "exchange",
                    "label": label,
                    "status": exchange["status"],
                    "fault": exchange.get("fault"),
                    "time": exchange["virtualTime"],
                    "count": 1,
                },
            )
        )
    events.sort(key=lambda e: (e[0], e[1]))
    rows: list[dict[str, Any]] = []
    for _time, _id, row in events:
        last = rows[-1] if rows else None
        if (
            last is not None
            and row["kind"] == "exchange"
            and last["kind"] == "exchange"
            and (last["label"], last["status"], last["fault"])
            == (row["label"], row["status"], row["fault"])
        ):
            last["count"] += 1
            continue
        rows.append(row)
    return rows


# The diagram's one style element; the UI's Content-Security-Policy allows it by its hash.
SVG_STYLE = (
    "text{font:12px sans-serif}.t{fill:#555}.h{font-weight:bold}"
    ".ok{stroke:#2e7d32}.bad{stroke:#c62828}.step{stroke:#1565c0}"
)


def sequence_svg(run: dict[str, Any]) -> Markup:
    """The run as an inline SVG sequence diagram (client, simulated API, kommune)."""
    rows = _rows(run)
    hidden = max(0, len(rows) - MAX_ROWS)
    rows = rows[:MAX_ROWS]
    height = 60 + ROW * (len(rows) + (1 if hidden else 0)) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="860" height="{height}" '
        f'viewBox="0 0 860 {height}" aria-label="Sequence diagram of the run">',
        f"<style>{SVG_STYLE}</style>",
    ]
    for name, x in (
        ("Klient", LANES["klient"]),
        ("Sandkasse-API", LANES["api"]),
        ("Kommune", LANES["kommune"]),
    ):
        parts.append(f'<text class="h" x="{x}" y="20" text-anchor="middle">{name}</text>')
        parts.append(
            f'<line x1="{x}" y1="30" x2="{x}" y2="{height - 10}" stroke="#bbb" stroke-dasharray="4 3"/>'
        )
    for index, row in enumerate(rows):
        y = 50 + index * ROW
        parts.append(
            f'<text class="t" x="4" y="{y + 4}">{escape(row["time"][:16].replace("T", " "))}</text>'
        )
        if row["kind"] == "step":
            x1, x2, css = LANES["kommune"], LANES["api"], "step"
            label = row["label"]
        else:
            x1, x2 = LANES["klient"], LANES["api"]
            css = "ok" if row["status"] < 400 else "bad"
            label = f"{row['label']} → {row['status']}"
            if row["count"] > 1:
                label += f" ×{row['count']}"
            if row["fault"]:
                label += f" (feil: {row['fault']})"
        parts.append(
            f'<line class="{css}" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke-width="2"/>'
        )
        tip = x2 - 6 if x2 > x1 else x2 + 6
        parts.append(
            f'<polygon points="{x2},{y} {tip},{y - 4} {tip},{y + 4}" class="{css}" fill="currentColor"/>'
        )
        text_x = min(x1, x2) + 6
        parts.append(f'<text x="{text_x}" y="{y - 4}">{escape(label[:70])}</text>')
    if hidden:
        y = 50 + len(rows) * ROW
        parts.append(
            f'<text class="t" x="{LANES["klient"]}" y="{y}">… {hidden} more rows (see the JSON result)</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def render(document: dict[str, Any]) -> str:
    """The whole result as one HTML page."""
    runs = [{**run, "svg": sequence_svg(run)} for run in document["runs"]]
    return _env.get_template("report.html").render(document=document, runs=runs)
