"""Score a run and build the versioned JSON result every report is rendered from."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy.orm import Session

from app.engine.timeline import timeline_view
from app.scoring.evidence import gather
from app.scoring.progress import live
from app.scoring.tally import recount
from app.scoring.verdicts import Verdict, judge
from app.store import journal_reads
from app.store.journal_reads import entry_json as journal_json
from app.store.models import Run
from app.vocabulary import VERDICT_STATES
from app.wire.dates import iso

SCHEMA_VERSION = "byggesak-sandbox/result/v1"


def sandbox_version() -> str:
    """The installed distribution's version."""
    try:
        return version("byggesak-sandbox")
    except PackageNotFoundError:
        return "0+unknown"


def score_run(
    session: Session,
    run: Run,
    client: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Judge every expectation of the run's scenario and return the run's result.

    Expected failures are applied by the caller (``app.runner.apply_expected_failures``).
    """
    facts = gather(session, run)
    scenario = facts.scenario
    verdicts: list[Verdict] = []
    for expectation in scenario.expect:
        verdicts.append(judge(facts, expectation))
    evidence_ids = sorted({i for v in verdicts for i in v.evidence})
    entries = journal_reads.entries_by_id(session, run.id, evidence_ids)
    result: dict[str, Any] = {
        "scenario": {
            "id": scenario.id,
            "version": scenario.version,
            "title": scenario.title,
            "description": scenario.description,
        },
        "run": {
            "id": run.id,
            "seed": run.seed,
            "profile": run.profile,
            "clock": {"mode": run.clock_mode, "start": iso(facts.start), "end": iso(facts.now)},
        },
        "client": client or {},
        "final": not live(facts),
        "verdicts": [v.to_dict() for v in verdicts],
        "timeline": timeline_view(session, run),
        "exchanges": [
            {
                "id": e.id,
                "realTime": iso(e.real_time),
                "virtualTime": iso(e.virtual_time),
                "method": e.method,
                "path": e.path,
                "query": e.query,
                "status": e.status,
                "fault": (e.fault or "").strip(",") or None,
                "repeats": e.repeats,
            }
            for e in facts.exchanges
        ],
        "evidence": {str(entry.id): journal_json(entry) for entry in entries},
    }
    recount(result)
    return result


def combine(results: list[dict[str, Any]], target: str) -> dict[str, Any]:
    """The top-level result document over one or more scenario runs."""
    counts = {k: sum(r["counts"].get(k, 0) for r in results) for k in VERDICT_STATES}
    return {
        "schemaVersion": SCHEMA_VERSION,
        "sandboxVersion": sandbox_version(),
        "generatedAt": iso(datetime.now(UTC)),
        "target": target,
        "passed": bool(results) and all(r["passed"] for r in results),
        "final": all(r.get("final", False) for r in results),
        "counts": counts,
        "runs": results,
    }
