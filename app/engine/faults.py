"""Faults a scenario injects on the simulated API, so a robust client can prove it survives them.

Each fault names the API it hits and when it is active (``after_step``, the first
``times`` requests, or a seeded ``probability``). How often a fault has struck is read
from the journal, where every response records the fault that shaped it; the random
draw is seeded by the run's seed, the fault and the request's position, so a run replays.
The kinds are :data:`app.vocabulary.FAULT_KINDS`; ``STRIKES`` holds what each one does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.domain.durations import parse_delay
from app.engine.timeline import step_state
from app.errors import Problem, RequestError
from app.scenarios.model import Fault, scenario_of
from app.store import journal_reads
from app.store.models import Run
from app.vocabulary import ANY_API, FAULT_KINDS


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


def _active(session: Session, run: Run, fault: Fault, journal_count: int) -> bool:
    after = fault.after_step
    if after and step_state(run, after).get("status") != "fired":
        return False
    if fault.times is not None:
        return journal_reads.fault_strikes(session, run.id, fault.id) < fault.times
    if fault.probability is not None:
        draw = random.Random(f"{run.seed}:{fault.id}:{journal_count}").random()
        return draw < fault.probability
    return True


@dataclass
class _Strike:
    """One active fault striking one request: what it may read, and the plan it adds to."""

    fault: Fault
    run: Run
    now: datetime
    result: FaultPlan

    def applied(self) -> None:
        """Record in the journal that this fault shaped the response."""
        self.result.applied.append(self.fault.id)

    def step_oppdateringer(self) -> tuple[dict[str, Any], set[int]]:
        """The progress of the fault's ``step`` and the oppdateringer it sent."""
        state = step_state(self.run, self.fault.step)
        return state, set(state.get("oppdateringer", []))


_MESSAGES = {
    429: "For mange forespørsler; prøv igjen etter Retry-After sekunder.",
    500: "Midlertidig intern feil (injisert av scenarioet).",
    503: "Tjenesten er midlertidig utilgjengelig; prøv igjen etter Retry-After.",
}


def _status(strike: _Strike) -> None:
    fault = strike.fault
    status = fault.status or 503  # the loader requires a status fault's status
    message = _MESSAGES[status]
    error = InjectedFault(
        message,
        [Problem(f"feil.{fault.id}", "$", message)],
        {"Retry-After": str(fault.retry_after)},
    )
    error.status = status
    strike.applied()
    strike.result.error = error


def _slow(strike: _Strike) -> None:
    time.sleep(strike.fault.delay_ms / 1000)
    strike.applied()


def _duplicate(strike: _Strike) -> None:
    _state, seqs = strike.step_oppdateringer()
    if seqs:
        strike.result.duplicate_seqs |= seqs
        strike.applied()


def _out_of_order(strike: _Strike) -> None:
    state, seqs = strike.step_oppdateringer()
    if not seqs:
        return
    sent = datetime.fromisoformat(state["at"])
    if strike.now < parse_delay(str(strike.fault.duration)).after(sent):
        strike.result.hidden_seqs |= seqs
        strike.applied()


def _document_gone(strike: _Strike) -> None:
    # Not recorded as applied: it shapes the documents, not this response.
    now = strike.now
    strike.result.document_lifetime = parse_delay(str(strike.fault.duration)).after(now) - now


def _unknown_field(strike: _Strike) -> None:
    strike.result.unknown_field = True
    strike.applied()


# What each fault kind of app.vocabulary.FAULT_KINDS does (a test keeps the two in step).
STRIKES: dict[str, Callable[[_Strike], None]] = {
    "status": _status,
    "slow": _slow,
    "duplicate": _duplicate,
    "out_of_order": _out_of_order,
    "document_gone": _document_gone,
    "unknown_field": _unknown_field,
}


def plan(session: Session, run: Run, api: str, now: datetime, journal_count: int) -> FaultPlan:
    """Work out what the active faults do to one request on ``api``.

    ``journal_count`` is the run's journal count as the request found it: probabilistic
    faults draw from it, so a replay with the same seed strikes the same requests.
    """
    result = FaultPlan()
    for fault in scenario_of(run).faults:
        if fault.api not in (ANY_API, api):
            continue
        kind = FAULT_KINDS.get(fault.kind)
        strike = STRIKES.get(fault.kind)
        if kind is None or strike is None or kind.only_api not in (None, api):
            continue
        if not _active(session, run, fault, journal_count):
            continue
        strike(_Strike(fault, run, now, result))
        if result.error is not None:
            return result
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
