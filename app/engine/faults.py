"""Faults a scenario injects on the simulated API, so a robust client can prove it survives them.

Each fault names the API it hits and when it is active (``after_step``, the first
``times`` requests, or a seeded ``probability``). How often a fault has struck is read
from the journal, where every response records the fault that shaped it; the random
draw is seeded by the run's seed, the fault and the request's position, so a run replays.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.engine.durations import parse_delay
from app.engine.timeline import step_state
from app.errors import Problem, RequestError
from app.store import journal_reads
from app.store.models import Run


class InjectedFault(RequestError):
    """An error response the scenario asked for (429, 500 or 503)."""

    title = "Feil injisert av scenarioet"


@dataclass
class FaultPlan:
    """What the active faults do to one request."""

    applied: list[str] = field(default_factory=list)
    error: InjectedFault | None = None
    duplicate_seqs: set[int] = field(default_factory=set)
    hidden_seqs: set[int] = field(default_factory=set)
    document_lifetime: timedelta | None = None
    unknown_field: bool = False


def _faults(run: Run) -> list[dict[str, Any]]:
    return list((run.scenario or {}).get("faults") or [])


def _active(session: Session, run: Run, fault: dict[str, Any], journal_count: int) -> bool:
    after = fault.get("after_step")
    if after and step_state(run, after).get("status") != "fired":
        return False
    if "times" in fault:
        return journal_reads.fault_strikes(session, run.id, fault["id"]) < int(fault["times"])
    if "probability" in fault:
        draw = random.Random(f"{run.seed}:{fault['id']}:{journal_count}").random()
        return draw < float(fault["probability"])
    return True


def plan(session: Session, run: Run, api: str, now: datetime, journal_count: int) -> FaultPlan:
    """Work out what the active faults do to one request on ``api``.

    ``journal_count`` is the run's journal count as the request found it: probabilistic
    faults draw from it, so a replay with the same seed strikes the same requests.
    """
    result = FaultPlan()
    for fault in _faults(run):
        if fault.get("api", "*") not in ("*", api):
            continue
        kind = fault["kind"]
        if kind in ("duplicate", "out_of_order", "unknown_field") and api != "oppdatering":
            continue
        if kind == "document_gone":
            if _active(session, run, fault, journal_count):
                result.document_lifetime = parse_delay(str(fault["duration"])).after(now) - now
            continue
        if not _active(session, run, fault, journal_count):
            continue
        if kind == "status":
            retry_after = str(int(fault.get("retry_after", 1)))
            status = int(fault["status"])
            message = {
                429: "For mange forespørsler; prøv igjen etter Retry-After sekunder.",
                500: "Midlertidig intern feil (injisert av scenarioet).",
                503: "Tjenesten er midlertidig utilgjengelig; prøv igjen etter Retry-After.",
            }[status]
            error = InjectedFault(
                message,
                [Problem(f"feil.{fault['id']}", "$", message)],
                {"Retry-After": retry_after},
            )
            error.status = status
            result.applied.append(fault["id"])
            result.error = error
            return result
        if kind == "slow":
            time.sleep(int(fault["delay_ms"]) / 1000)
            result.applied.append(fault["id"])
        if kind == "unknown_field":
            result.unknown_field = True
            result.applied.append(fault["id"])
        state = step_state(run, fault.get("step", ""))
        seqs = set(state.get("oppdateringer", []))
        if kind == "duplicate" and seqs:
            result.duplicate_seqs |= seqs
            result.applied.append(fault["id"])
        if kind == "out_of_order" and seqs:
            shown_from = parse_delay(str(fault["duration"])).after(
                datetime.fromisoformat(state["at"])
            )
            if now < shown_from:
                result.hidden_seqs |= seqs
                result.applied.append(fault["id"])
    return result


UNKNOWN_FIELD = {
    "nyttFeltFraDiBK": {
        "beskrivelse": "Et felt en senere versjon av API-et kan innføre; klienter skal tåle det.",
        "verdi": ["a", 1, None],
    }
}


def shape_oppdateringer(items: list[dict[str, Any]], fault_plan: FaultPlan) -> list[dict[str, Any]]:
    """Apply duplicate, out-of-order and unknown-field faults to an oppdatering list."""
    out: list[dict[str, Any]] = []
    for item in items:
        seq = int(item["sekvensnummer"])
        if seq in fault_plan.hidden_seqs:
            continue
        if fault_plan.unknown_field:
            item = {**item, **UNKNOWN_FIELD}
        out.append(item)
        if seq in fault_plan.duplicate_seqs:
            out.append(item)
    return out
