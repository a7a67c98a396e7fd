"""A run's page, its live part, its exchanges and its reports, built one way for every reader.

The admin's run pages and a tenant's show the same case, timeline, verdicts, exchanges
and reports; they differ only in the URLs they link to (:class:`RunLinks`) and in what
the page lets its reader do, which the view passes in. A view hands these functions a
run it has already found (and, for a tenant, judged to be its own).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from flask import Response, render_template, request

from app import vocabulary
from app.config import engine_config
from app.control.runs import summary
from app.control.tenant_runs import run_row
from app.domain.plain import to_plain
from app.engine import tenants
from app.engine.clock import clock_of
from app.engine.reads import load_sak
from app.reports import MEDIA_TYPES, RENDERERS
from app.reports.html import sequence_svg
from app.scoring.result import combine, score_run
from app.store import journal_reads
from app.store.db import get_session
from app.store.journal_reads import entry_json as journal_json
from app.store.models import Run, Tenant
from app.vocabulary import CLIENT_ACTIONS

SUFFIX = {"json": "json", "junit": "xml", "html": "html", "markdown": "md"}
# What a browser shows rather than downloads; Markdown as text/markdown would download.
SHOWN_AS = {"markdown": "text/plain"}
RECENT_EXCHANGES = 40


@dataclass(frozen=True)
class RunLinks:
    """The endpoints a run page links to: its own page, live part, exchanges, reports, finish."""

    page: str
    live: str
    exchanges: str
    report: str
    finish: str
    # The admin may move the kommune by hand; a tenant's clock runs by itself.
    controls: bool


ADMIN = RunLinks("ui.run", "ui.live", "ui.exchanges", "ui.report", "ui.run_finish", True)
TENANT = RunLinks(
    "ui.tenant_run",
    "ui.tenant_live",
    "ui.tenant_exchanges",
    "ui.tenant_report",
    "ui.tenant_finish",
    False,
)


def run_page(run: Run, links: RunLinks, **extra: Any) -> str:
    """The page of ``run`` (caught up), linking to ``links``; ``extra`` goes to the template."""
    owner = get_session().get(Tenant, run.tenant) if run.tenant else None
    return render_template(
        "ui/run.html",
        run=summary(run, engine_config()),
        links=links,
        live=live_context(run),
        owner=owner,
        expires=run_row(run, tenants.retention_of(owner))["expiresAt"] if owner else None,
        **extra,
    )


def exchanges_page(run: Run, links: RunLinks) -> str:
    """Every exchange of ``run``, oldest first."""
    ids = [e["id"] for e in score_run(get_session(), run)["exchanges"]]
    return render_template(
        "ui/exchanges.html", run={"id": run.id}, links=links, exchanges=exchange_views(run.id, ids)
    )


def live_fragment(run: Run, links: RunLinks) -> Response:
    """The live part of a run page, for the page's script to swap in; 304 when unchanged.

    The fragment scores the whole journal, which takes long for a run with thousands of
    exchanges: it is rendered only when the run changed (its version, journal count,
    status or, on a running clock, its second of virtual time), and ``X-Refresh-After``
    asks the page to wait five times as long as the rendering took before it asks again.
    """
    tag = _live_tag(run)
    if request.if_none_match.contains_weak(tag):
        unchanged = Response(status=304)
        unchanged.set_etag(tag, weak=True)
        return unchanged  # the page keeps the pace it was last given
    started = time.perf_counter()
    html = render_template("ui/_live.html", live=live_context(run), run={"id": run.id}, links=links)
    answer = Response(html, mimetype="text/html")
    answer.set_etag(tag, weak=True)
    answer.headers["Cache-Control"] = "no-store"
    elapsed = time.perf_counter() - started
    answer.headers["X-Refresh-After"] = str(max(1, math.ceil(elapsed * 5)))
    return answer


def report(run: Run, fmt: str) -> Response | tuple[str, int]:
    """A report of ``run``, shown in the browser (``?download=1``: as a file)."""
    if fmt not in RENDERERS:
        return render_template("ui/error.html", message=f"No report format '{fmt}'."), 404
    document = combine([score_run(get_session(), run)], request.host_url.rstrip("/"))
    download = request.args.get("download") == "1"
    shown = MEDIA_TYPES[fmt] if download else SHOWN_AS.get(fmt, MEDIA_TYPES[fmt])
    response = Response(RENDERERS[fmt](document), mimetype=shown)
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{run.id}.{SUFFIX[fmt]}"'
    return response


def _live_tag(run: Run) -> str:
    """What the live fragment shows changes only with this."""
    clock = clock_of(run)
    moving = vocabulary.CLOCK_MODES[clock.mode].factor > 0 and run.status == "active"
    second = int(clock.now().timestamp()) if moving else 0
    return f"{run.version}-{run.journal_count}-{run.status}-{second}"


def live_context(run: Run) -> dict[str, Any]:
    """What the live part of a run page shows: the case, verdicts, timeline, recent exchanges."""
    session = get_session()
    result = score_run(session, run)
    sak = load_sak(run)
    recent_ids = [e["id"] for e in result["exchanges"][-RECENT_EXCHANGES:]]
    return {
        "result": result,
        "sak": to_plain(sak),
        "innsendinger": sak.innsendinger,
        "svg": sequence_svg(result),
        "exchanges": exchange_views(run.id, recent_ids),
        "waiting": _waiting(result["timeline"]),
        "total_exchanges": sum(e["repeats"] for e in result["exchanges"]),
        "status": run.status,
        "now": result["run"]["clock"]["end"],
    }


def exchange_views(run_id: str, ids: list[int]) -> list[dict[str, Any]]:
    """Journal entries with their JSON bodies indented for reading."""
    views = [journal_json(e) for e in journal_reads.entries_by_id(get_session(), run_id, ids)]
    for view in views:
        for side in ("request", "response"):
            view[side]["body"] = _readable(view[side].get("body"))
    return views


def _readable(body: Any) -> Any:
    if not isinstance(body, str) or body[:1] not in ("{", "["):
        return body
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    except ValueError:  # a body cut at the journal's cap, or not JSON after all
        return body


def _waiting(timeline: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The pending steps that wait for something the client does, and what that is."""
    out = []
    for step in timeline:
        action = step["trigger"].get("on")
        if step["status"] == "pending" and action and "due" not in step:
            known = CLIENT_ACTIONS.get(action)
            out.append(
                {
                    "step": step.get("title") or step["id"],
                    "action": action,
                    "summary": known.summary if known else action,
                }
            )
    return out
