"""A scenario's timeline on a run: when each step is due, and firing due steps lazily.

No background thread moves a case. :func:`catch_up` runs at the start of every client
request and after every clock move or control action; it fires every step whose time
has come, in order of due time (then timeline order), each at its own due time and in its
own transaction through the run engine, so each step fires exactly once even with many
workers. A step is due:

- ``at: P2D``: that long after the run's virtual start;
- ``after: step`` (+ ``delay``): after the other step fired;
- ``on: action`` (+ ``count``, ``delay``): after the client's Nth such action, read from
  the journal;
- ``manual``: never by itself; :func:`fire_step` or :func:`next_event` fires it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.case import Sak
from app.domain.durations import parse_delay
from app.engine.apply import refuse_if_finished
from app.engine.changes import Applied, RunContext, mutate, supplering_ref
from app.engine.clock import advance_clock, aware, clock_of
from app.engine.settings import EngineConfig
from app.errors import Conflict, NotFound, Problem, SandboxError
from app.scenarios.model import Step, scenario_of
from app.store import journal_reads
from app.store.models import Run
from app.wire.dates import iso
from app.wire.inputs import load_event

ALIAS = re.compile(r"^\$\{innsending\.([a-z][a-z0-9_-]*)\}$")
MAX_STEPS_PER_CATCH_UP = 10_000


@dataclass(frozen=True, order=True)
class Due:
    """A pending step and when it is due."""

    time: datetime
    index: int
    step_id: str


def steps_of(run: Run) -> tuple[Step, ...]:
    """The run's scenario steps, in timeline order."""
    return scenario_of(run).timeline


def step_state(run: Run, step_id: str) -> dict[str, Any]:
    """The stored progress of one step (``{}`` while pending)."""
    return dict((run.timeline or {}).get("steps", {}).get(step_id, {}))


def action_time(session: Session, run_id: str, action: str, count: int) -> datetime | None:
    """Virtual time of the client's ``count``-th ``action``, or None if it has not happened."""
    found = journal_reads.action_time(session, run_id, action, count)
    return aware(found) if found is not None else None


def _resolved(run: Run, event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The event body with ``${innsending.x}`` replaced; None while an alias is unbound."""
    aliases: dict[str, str] = dict((run.timeline or {}).get("aliases", {}))
    body = dict(event)

    def resolve(value: Any) -> Any:
        match = ALIAS.match(value) if isinstance(value, str) else None
        if match is None:
            return value
        return aliases.get(match[1])

    for key, value in event.items():
        if isinstance(value, str):
            body[key] = resolve(value)
            if body[key] is None:
                return None
    if "innsendingReferanser" in body:
        refs = [resolve(v) for v in body["innsendingReferanser"]]
        if any(r is None for r in refs):
            return None
        body["innsendingReferanser"] = refs
    return body


def due_time(session: Session, run: Run, step: Step) -> datetime | None:
    """When ``step`` is due, or None when that is not known yet (or it is manual)."""
    trigger = step.trigger
    delay = parse_delay(trigger.delay)
    if trigger.at is not None:
        return parse_delay(trigger.at).after(aware(run.clock_start))
    if trigger.after is not None:
        other = step_state(run, trigger.after)
        if other.get("status") not in ("fired", "failed"):
            return None
        return delay.after(datetime.fromisoformat(other["at"]))
    if trigger.on is not None:
        happened = action_time(session, run.id, trigger.on, trigger.count)
        return delay.after(happened) if happened is not None else None
    return None


def pending(session: Session, run: Run) -> tuple[list[Due], list[str], list[str]]:
    """Pending steps: those with a known due time, those waiting for the client, manual ones."""
    dues: list[Due] = []
    waiting: list[str] = []
    manual: list[str] = []
    has_innsending = bool(run.state.get("innsendinger"))
    for index, step in enumerate(steps_of(run)):
        if step_state(run, step.id):
            continue
        if step.trigger.manual:
            manual.append(step.id)
            continue
        when = due_time(session, run, step)
        ready = _resolved(run, step.event) is not None and has_innsending
        if when is None or not ready:
            waiting.append(step.id)
        else:
            dues.append(Due(when, index, step.id))
    return sorted(dues), waiting, manual


def quiet_until(session: Session, run: Run) -> datetime | None:
    """Until when no step can fire while the run stays at its version.

    That is the first known due time (``datetime.max`` with none), or None while a step
    waits for a client action, which any request may bring.
    """
    if not run.scenario or run.status != "active":
        return datetime.max.replace(tzinfo=UTC)
    dues, waiting, _manual = pending(session, run)
    triggers = {step.id: step.trigger for step in steps_of(run)}
    if any(triggers[step_id].on is not None for step_id in waiting):
        return None
    return dues[0].time if dues else datetime.max.replace(tzinfo=UTC)


def fire_step(
    session: Session, run_id: str, config: EngineConfig, step_id: str, at: datetime | None = None
) -> Applied | None:
    """Fire one pending step (at its due time, or now); None if it had already fired."""
    outcome: dict[str, Any] = {}

    def change(sak: Sak, timeline: dict[str, Any], ctx: RunContext) -> list[Any] | None:
        run = ctx.run
        step = scenario_of(run).step(step_id)
        if step is None:
            message = f"Scenarioet har ikke steget '{step_id}'."
            raise NotFound(message, [Problem("steg.ukjent", "steg", message)])
        states = timeline.setdefault("steps", {})
        if step_id in states:
            return None
        body = _resolved(run, step.event)
        if body is None:
            message = f"Steget '{step_id}' venter på en innsending fra klienten."
            raise Conflict(message, [Problem("steg.venter", "steg", message)])
        try:
            event = load_event(body, supplering_ref(sak, ctx))
            messages = event.apply(sak, ctx)
        except SandboxError as exc:
            # A step the case does not allow (e.g. a second vedtak) is recorded, not retried.
            states[step_id] = {"status": "failed", "at": ctx.now.isoformat(), "error": exc.detail}
            outcome["failed"] = exc.detail
            return []
        states[step_id] = {"status": "fired", "at": ctx.now.isoformat()}
        return messages

    def record(timeline: dict[str, Any], applied: Applied) -> None:
        state = timeline["steps"].get(step_id)
        if state is not None and state.get("status") == "fired":
            state["oppdateringer"] = [int(o["sekvensnummer"]) for o in applied.oppdateringer]

    return mutate(
        session,
        run_id,
        config,
        change,
        f"steg:{step_id}",
        "scenario",
        {"steg": step_id},
        at=at,
        after_render=record,
    )


def catch_up(session: Session, run_id: str, config: EngineConfig) -> list[str]:
    """Fire every step whose time has come, in order; return the ids fired."""
    fired: list[str] = []
    for _ in range(MAX_STEPS_PER_CATCH_UP):
        session.rollback()
        run = session.get(Run, run_id, populate_existing=True)
        if run is None or not run.scenario or run.status != "active":
            return fired
        now = clock_of(run).now()
        dues, _waiting, _manual = pending(session, run)
        if not dues or dues[0].time > now:
            return fired
        first = dues[0]
        fire_step(session, run_id, config, first.step_id, at=first.time)
        fired.append(first.step_id)
    return fired


def next_event(session: Session, run_id: str, config: EngineConfig) -> dict[str, Any]:
    """Move to the next thing the kommune does: advance the clock to it, or fire a manual step."""
    run = session.get(Run, run_id, populate_existing=True)
    if run is None:
        raise NotFound(f"Kjøringen {run_id} finnes ikke.")
    refuse_if_finished(run)
    fired = catch_up(session, run_id, config)
    session.rollback()
    run = session.get(Run, run_id, populate_existing=True)
    if run is None:
        raise NotFound(f"Kjøringen {run_id} finnes ikke.")
    dues, waiting, manual = pending(session, run)
    if not fired:
        now = clock_of(run).now()
        if dues:
            if dues[0].time > now:
                advance_clock(session, run_id, dues[0].time - now)
            fired = catch_up(session, run_id, config)
        elif manual:
            fire_step(session, run_id, config, manual[0])
            fired = [manual[0], *catch_up(session, run_id, config)]
    session.rollback()
    run = session.get(Run, run_id, populate_existing=True)
    assert run is not None
    _dues, waiting, manual = pending(session, run)
    return {
        "fired": fired,
        "now": iso(clock_of(run).now()),
        "waitingForClient": waiting,
        "manual": manual,
        "steps": timeline_view(session, run),
    }


def timeline_view(session: Session, run: Run) -> list[dict[str, Any]]:
    """Every step with its status, due time and fire time, for the control plane and UI."""
    out = []
    for step in steps_of(run):
        state = step_state(run, step.id)
        due = None if state else due_time(session, run, step)
        item: dict[str, Any] = {
            "id": step.id,
            "title": step.title,
            "type": step.event_type,
            "trigger": dict(step.trigger.source),
            "status": state.get("status", "pending"),
        }
        if state.get("at"):
            item["firedAt"] = iso(datetime.fromisoformat(state["at"]))
        if due is not None:
            item["due"] = iso(due)
        if state.get("error"):
            item["error"] = state["error"]
        out.append(item)
    return out
