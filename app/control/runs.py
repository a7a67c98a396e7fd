"""Control plane for runs: create, list, inspect, delete, apply kommune events, move the clock."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import delete, select

from app.config import engine_config
from app.control.auth import require_admin
from app.domain.durations import parse_duration
from app.domain.events import MottaSupplering
from app.domain.serial import to_plain
from app.engine.changes import apply_event, new_supplering_ref
from app.engine.clock import advance_clock, clock_of
from app.engine.reads import load_sak
from app.engine.runs import finish_run, start_run
from app.engine.settings import EngineConfig
from app.engine.timeline import catch_up, fire_step, next_event, timeline_view
from app.errors import Conflict, NotFound, Problem, ValidationFailed
from app.http import load_body, read_json_object, validation_failed
from app.scenarios.registry import get_registry
from app.store import journal_reads
from app.store.db import get_session
from app.store.journal_reads import entry_json as journal_json
from app.store.models import EventLog, Run
from app.wire.dates import iso
from app.wire.inputs import ClockMoveSchema, RunCreateSchema, load_event

bp = Blueprint("control", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)


def run_or_404(run_id: str) -> Run:
    """The run, or a 404 problem."""
    run = get_session().get(Run, run_id)
    if run is None:
        message = f"Kjøringen {run_id} finnes ikke."
        raise NotFound(message, [Problem("run.ukjent", "runId", message)])
    return run


def summary(run: Run, config: EngineConfig) -> dict[str, Any]:
    """What the control plane tells about a run (never its password)."""
    sak = load_sak(run)
    clock = clock_of(run)
    return {
        "id": run.id,
        "label": run.label,
        "status": run.status,
        "profile": run.profile,
        "seed": run.seed,
        "createdAt": iso(run.created_at),
        "baseUrl": config.base_url,
        "apiBaseUrl": f"{config.base_url}/api/v1",
        "username": run.username,
        "kommune": {"kommunenummer": sak.kommunenummer, "kommunenavn": sak.kommunenavn},
        "innsendingReferanser": [i.innsendingReferanse for i in sak.innsendinger],
        "scenario": run.scenario_id,
        "clock": {"mode": clock.mode, "now": iso(clock.now()), "start": iso(run.clock_start)},
        "journalCount": run.journal_count,
        "pollInterval": (run.timeline or {}).get("pollInterval", 1.0),
        "links": {
            "self": f"{config.base_url}/sandbox/runs/{run.id}",
            "case": f"{config.base_url}/sandbox/runs/{run.id}/case",
            "journal": f"{config.base_url}/sandbox/runs/{run.id}/journal",
            "events": f"{config.base_url}/sandbox/runs/{run.id}/events",
        },
    }


@bp.post("/runs")
def post_run() -> tuple[Response, int, dict[str, str]]:
    """Create a run, by hand or from a scenario; only this response shows its password."""
    data = load_body(RunCreateSchema(), "run", allow_empty=True)
    session = get_session()
    config = engine_config()
    scenario = _scenario(data["scenario"]) if data["scenario"] else None
    clock = data["clock"] or {"mode": "realtime", "start": None, "factor": None, "step": None}
    run, password = start_run(
        session,
        config,
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
        poll_interval=data["pollInterval"],
    )
    fresh = run_or_404(run.id)
    body = summary(fresh, config)
    body["credentials"] = {"username": fresh.username, "password": password}
    return jsonify(body), 201, {"Location": body["links"]["self"]}


def _scenario(scenario_id: str) -> dict[str, Any]:
    entry = get_registry().get(scenario_id)
    if entry is None:
        message = f"Scenarioet '{scenario_id}' finnes ikke i biblioteket."
        raise ValidationFailed(message, [Problem("run.scenario.ukjent", "scenario", message)])
    return entry.scenario


@bp.get("/runs")
def list_runs() -> Response:
    """All runs, newest first."""
    config = engine_config()
    runs = get_session().scalars(select(Run).order_by(Run.created_at.desc()))
    return jsonify({"runs": [summary(r, config) for r in runs]})


def _caught_up(run_id: str) -> Run:
    """The run after firing whatever is due (reads move a lazily applied case forward too)."""
    run_or_404(run_id)
    session = get_session()
    catch_up(session, run_id, engine_config())
    session.rollback()
    return run_or_404(run_id)


@bp.get("/runs/<run_id>")
def get_run(run_id: str) -> Response:
    """One run."""
    return jsonify(summary(_caught_up(run_id), engine_config()))


@bp.delete("/runs/<run_id>")
def delete_run(run_id: str) -> tuple[str, int]:
    """Delete a run with its case, journal and documents."""
    run_or_404(run_id)
    session = get_session()
    session.execute(delete(Run).where(Run.id == run_id))
    session.commit()
    return "", 204


@bp.post("/runs/<run_id>/events")
def post_event(run_id: str) -> tuple[Response, int]:
    """Apply one kommune event by hand."""
    run_or_404(run_id)
    body = read_json_object("hendelse")
    session = get_session()
    try:
        event = load_event(body, "")
    except ValidationError as exc:
        raise validation_failed(exc, "hendelse") from exc
    if isinstance(event, MottaSupplering):
        event.referanse = new_supplering_ref(session, run_id)
    config = engine_config()
    applied = apply_event(session, run_id, config, event, source="control")
    body = applied.to_dict()
    body["stegAvfyrt"] = catch_up(session, run_id, config)
    return jsonify(body), 201


@bp.post("/runs/<run_id>/clock")
def post_clock(run_id: str) -> Response:
    """Move the run's virtual clock forward by an ISO-8601 duration."""
    run_or_404(run_id)
    data = load_body(ClockMoveSchema(), "klokke")
    try:
        delta = parse_duration(data["advance"])
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), [Problem("klokke.advance.format", "advance", str(exc))]
        ) from exc
    session = get_session()
    now = advance_clock(session, run_id, delta)
    fired = catch_up(session, run_id, engine_config())
    return jsonify({"now": iso(now), "fired": fired})


@bp.post("/runs/<run_id>/next")
def post_next(run_id: str) -> Response:
    """Jump to the kommune's next step: move the clock to it, or fire the next manual one."""
    run_or_404(run_id)
    return jsonify(next_event(get_session(), run_id, engine_config()))


@bp.post("/runs/<run_id>/steps/<step_id>/fire")
def post_fire(run_id: str, step_id: str) -> tuple[Response, int]:
    """Fire one step now, whatever its trigger."""
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
    return jsonify(body), 201


@bp.post("/runs/<run_id>/finish")
def post_finish(run_id: str) -> Response:
    """End the run: no more steps fire; the client may still read what was sent."""
    run_or_404(run_id)
    finish_run(get_session(), run_id, engine_config())
    return jsonify(summary(run_or_404(run_id), engine_config()))


@bp.get("/runs/<run_id>/timeline")
def get_timeline(run_id: str) -> Response:
    """The scenario's steps with status, due and fire times."""
    run = _caught_up(run_id)
    return jsonify({"steps": timeline_view(get_session(), run), "now": iso(clock_of(run).now())})


@bp.get("/scenarios")
def list_scenarios() -> Response:
    """The scenario library, and the problems of files that did not load."""
    catalogue = get_registry().catalogue()
    return jsonify(
        {
            "scenarios": [
                {
                    "id": e.id,
                    "version": e.scenario["version"],
                    "title": e.scenario["title"],
                    "description": e.scenario["description"],
                    "tags": e.scenario.get("tags", []),
                    "steps": len(e.scenario["timeline"]),
                    "expectations": len(e.scenario.get("expect", [])),
                    "file": e.path.name,
                }
                for e in sorted(catalogue.entries.values(), key=lambda e: e.id)
            ],
            "problems": [str(p) for p in catalogue.problems],
        }
    )


@bp.get("/scenarios/<scenario_id>")
def get_scenario(scenario_id: str) -> Response:
    """One scenario as JSON, or its YAML with ``?format=yaml``."""
    entry = get_registry().get(scenario_id)
    if entry is None:
        message = f"Scenarioet '{scenario_id}' finnes ikke i biblioteket."
        raise NotFound(message, [Problem("scenario.ukjent", "scenarioId", message)])
    if request.args.get("format") == "yaml":
        return Response(entry.text, mimetype="application/yaml")
    return jsonify(entry.scenario)


@bp.get("/runs/<run_id>/case")
def get_case(run_id: str) -> Response:
    """The case as the kommune sees it, with the event log."""
    run = _caught_up(run_id)
    session = get_session()
    events = session.scalars(
        select(EventLog).where(EventLog.run_id == run_id).order_by(EventLog.seq)
    )
    return jsonify(
        {
            "run": summary(run, engine_config()),
            "sak": to_plain(load_sak(run)),
            "hendelser": [
                {
                    "sekvensnummer": e.seq,
                    "type": e.kind,
                    "kilde": e.source,
                    "virtuellTid": iso(e.virtual_time),
                    "params": e.params,
                }
                for e in events
            ],
        }
    )


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or int(raw) > maximum:
        message = f"'{name}' må være et heltall fra 0 til {maximum}, ikke '{raw}'."
        raise ValidationFailed(message, [Problem(f"journal.{name}.format", name, message)])
    return int(raw)


@bp.get("/runs/<run_id>/journal")
def get_journal(run_id: str) -> Response:
    """The run's exchanges in order; page with ``etter`` (an entry id) and ``limit``."""
    run_or_404(run_id)
    etter = _int_arg("etter", 0, 2**62)
    limit = _int_arg("limit", 500, 5000)
    entries = journal_reads.entries(get_session(), run_id, after=etter, limit=limit)
    return jsonify(
        {
            "entries": [journal_json(e) for e in entries],
            "next": entries[-1].id if len(entries) == limit else None,
        }
    )
