"""What the control plane and the UI do to a run, in one place: both only translate.

The control plane answers JSON and the UI renders pages, but creating a run, moving its
clock, jumping to the next step, firing a step and finishing go through these functions,
so the two validate alike and fail with the same problems.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError

from app import limits
from app.config import engine_config
from app.domain.durations import parse_duration
from app.engine import tenants
from app.engine.changes import apply_event
from app.engine.clock import advance_clock, clock_of
from app.engine.runs import finish_run, start_run
from app.engine.timeline import catch_up, fire_step, next_event
from app.errors import Conflict, NotFound, Problem, ValidationFailed
from app.http import validation_failed
from app.scenarios.registry import get_registry
from app.store.db import get_session
from app.store.models import Run, Tenant
from app.wire.dates import iso
from app.wire.inputs import ClockMoveSchema, load_event

NO_CLOCK: dict[str, Any] = {
    "mode": "realtime",
    "start": None,
    "factor": None,
    "step": None,
    "startsOnFirstRequest": False,
}


def unknown_run(run_id: str) -> NotFound:
    """The 404 problem of a run that does not exist (or is not the asker's to see)."""
    message = f"Kjøringen {run_id} finnes ikke."
    return NotFound(message, [Problem("run.ukjent", "runId", message)])


def run_or_404(run_id: str) -> Run:
    """The run, or a 404 problem."""
    run = get_session().get(Run, run_id)
    if run is None:
        raise unknown_run(run_id)
    return run


def caught_up(run_id: str) -> Run:
    """The run after firing whatever is due (reads move a lazily applied case forward too)."""
    run_or_404(run_id)
    session = get_session()
    catch_up(session, run_id, engine_config())
    session.rollback()
    return run_or_404(run_id)


def load(schema: Schema, data: Any, prefix: str) -> Any:
    """Load ``data`` with ``schema``; field errors become one 400 with a problem per field."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise validation_failed(exc, prefix) from exc


def scenario_for_run(scenario_id: str) -> dict[str, Any]:
    """The library's scenario ``scenario_id``; an unknown one is a field error of the run."""
    entry = get_registry().get(scenario_id)
    if entry is None:
        message = f"Scenarioet '{scenario_id}' finnes ikke i biblioteket."
        raise ValidationFailed(message, [Problem("run.scenario.ukjent", "scenario", message)])
    return entry.scenario


def create(data: dict[str, Any]) -> tuple[Run, str]:
    """Start a run from what ``RunCreateSchema`` loaded; return it with its password."""
    scenario = scenario_for_run(data["scenario"]) if data["scenario"] else None
    tenant = data.get("tenant")
    if tenant is not None and get_session().get(Tenant, tenant) is None:
        message = f"Leietakeren {tenant} finnes ikke."
        raise ValidationFailed(message, [Problem("run.tenant.ukjent", "tenant", message)])
    clock: dict[str, Any] = data["clock"] or NO_CLOCK
    run, password = start_run(
        get_session(),
        engine_config(),
        scenario=scenario,
        innsending=data["innsending"],
        seed=data["seed"],
        clock_start=clock["start"],
        kommunenummer=data["kommunenummer"],
        fraEbyggesaksystem=data["fraEbyggesaksystem"],
        label=data["label"],
        profile=data["profile"],
        clock_mode=clock["mode"],
        clock_factor=clock["factor"],
        clock_poll_step=parse_duration(clock["step"]) if clock["step"] else None,
        clock_on_first_request=clock["startsOnFirstRequest"],
        poll_interval=data["pollInterval"],
        tenant=tenant,
    )
    return run, password


def move_clock(run_id: str, body: Any) -> tuple[datetime, list[str]]:
    """Move the clock by ``body["advance"]`` (ISO-8601) and fire what came due.

    A move that would carry the clock past the horizon is refused: the clock stays.
    """
    run = run_or_404(run_id)
    data = load(ClockMoveSchema(), body, "klokke")
    delta = parse_duration(data["advance"])  # the schema has checked it
    if delta > limits.HORIZON - clock_of(run).now():
        message = (
            f"Klokken kan ikke flyttes forbi sandkassens horisont {limits.HORIZON_TEXT}; "
            f"den står på {iso(clock_of(run).now())}."
        )
        raise Conflict(message, [Problem("klokke.horisont", "advance", message)])
    session = get_session()
    now = advance_clock(session, run_id, delta)
    return now, catch_up(session, run_id, engine_config())


def next_step(run_id: str) -> dict[str, Any]:
    """Jump to the kommune's next step: move the clock to it, or fire the next manual one."""
    run_or_404(run_id)
    return next_event(get_session(), run_id, engine_config())


def fire(run_id: str, step_id: str) -> dict[str, Any]:
    """Fire one step now, whatever its trigger; what the client will see, and what fired."""
    run = run_or_404(run_id)
    if run.status != "active":
        message = f"Kjøringen {run_id} er avsluttet."
        raise Conflict(message, [Problem("run.avsluttet", "runId", message)])
    session = get_session()
    config = engine_config()
    applied = fire_step(session, run_id, config, step_id)
    if applied is None:
        message = f"Steget '{step_id}' er allerede avfyrt."
        raise Conflict(message, [Problem("steg.allerede_avfyrt", "steg", message)])
    body = applied.to_dict()
    body["stegAvfyrt"] = [step_id, *catch_up(session, run_id, config)]
    return body


def apply(run_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one kommune event by hand; what the client will see, and the steps it let fire."""
    run_or_404(run_id)
    session = get_session()
    try:
        event = load_event(body, "")
    except ValidationError as exc:
        raise validation_failed(exc, "hendelse") from exc
    config = engine_config()
    applied = apply_event(session, run_id, config, event, source="control")
    assert applied is not None  # only a client's write is ever a replay
    out = applied.to_dict()
    out["stegAvfyrt"] = catch_up(session, run_id, config)
    return out


def finish(run_id: str) -> None:
    """End the run: no more steps fire; the client may still read what was sent."""
    run_or_404(run_id)
    finish_run(get_session(), run_id, engine_config())


def pick_next(tenant_name: str, scenario_id: str | None) -> Tenant:
    """Pick the scenario the tenant's next søknad plays (None clears the pick).

    An unknown id is a 400 naming the library's ids. A marker in the søknad's title
    still wins over the pick; one søknad plays it, then it is cleared.
    """
    session = get_session()
    tenants.tenant_or_404(session, tenant_name)
    picked = None
    if scenario_id is not None:
        known = get_registry().catalogue().entries
        picked = tenants.known_scenario(scenario_id, known, "scenario")
    return tenants.pick_next(session, tenant_name, picked)
