"""Control plane for runs: create, list, inspect, delete, apply kommune events, move the clock."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import delete, select

from app.api import engine_config
from app.control.auth import require_admin
from app.domain.events import MottaSupplering
from app.domain.serial import to_plain
from app.engine.durations import parse_duration
from app.engine.runs import (
    EngineConfig,
    advance_clock,
    apply_event,
    clock_of,
    create_run,
    load_sak,
    new_supplering_ref,
    submit_innsending,
)
from app.errors import NotFound, Problem, ValidationFailed
from app.http import load_body, read_json_object, validation_failed
from app.store.db import get_session
from app.store.models import EventLog, JournalEntry, Run
from app.wire.dates import iso
from app.wire.inputs import ClockMoveSchema, RunCreateSchema, load_event

bp = Blueprint("control", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)


def _run_or_404(run_id: str) -> Run:
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
        "clock": {"mode": clock.mode, "now": iso(clock.now())},
        "links": {
            "self": f"{config.base_url}/sandbox/runs/{run.id}",
            "case": f"{config.base_url}/sandbox/runs/{run.id}/case",
            "journal": f"{config.base_url}/sandbox/runs/{run.id}/journal",
            "events": f"{config.base_url}/sandbox/runs/{run.id}/events",
        },
    }


@bp.post("/runs")
def post_run() -> tuple[Response, int, dict[str, str]]:
    """Create a run; the response is the only place its password is shown."""
    data = load_body(RunCreateSchema(), "run", allow_empty=True)
    session = get_session()
    config = engine_config()
    run, password = create_run(
        session,
        config,
        label=data["label"],
        seed=data["seed"],
        profile=data["profile"],
        kommunenummer=data["kommunenummer"],
        fraEbyggesaksystem=data["fraEbyggesaksystem"],
        clock_mode=data["clock"]["mode"],
        clock_start=data["clock"]["start"],
    )
    if data["innsending"] is not None:
        try:
            submit_innsending(session, run.id, config, data["innsending"])
        except ValidationFailed:
            session.execute(delete(Run).where(Run.id == run.id))
            session.commit()
            raise
        session.refresh(run)
    body = summary(run, config)
    body["credentials"] = {"username": run.username, "password": password}
    return jsonify(body), 201, {"Location": body["links"]["self"]}


@bp.get("/runs")
def list_runs() -> Response:
    """All runs, newest first."""
    config = engine_config()
    runs = get_session().scalars(select(Run).order_by(Run.created_at.desc()))
    return jsonify({"runs": [summary(r, config) for r in runs]})


@bp.get("/runs/<run_id>")
def get_run(run_id: str) -> Response:
    """One run."""
    return jsonify(summary(_run_or_404(run_id), engine_config()))


@bp.delete("/runs/<run_id>")
def delete_run(run_id: str) -> tuple[str, int]:
    """Delete a run with its case, journal and documents."""
    _run_or_404(run_id)
    session = get_session()
    session.execute(delete(Run).where(Run.id == run_id))
    session.commit()
    return "", 204


@bp.post("/runs/<run_id>/events")
def post_event(run_id: str) -> tuple[Response, int]:
    """Apply one kommune event by hand."""
    _run_or_404(run_id)
    body = read_json_object("hendelse")
    session = get_session()
    try:
        event = load_event(body, "")
    except ValidationError as exc:
        raise validation_failed(exc, "hendelse") from exc
    if isinstance(event, MottaSupplering):
        event.referanse = new_supplering_ref(session, run_id)
    applied = apply_event(session, run_id, engine_config(), event, source="control")
    return jsonify(applied.to_dict()), 201


@bp.post("/runs/<run_id>/clock")
def post_clock(run_id: str) -> Response:
    """Move the run's virtual clock forward by an ISO-8601 duration."""
    _run_or_404(run_id)
    data = load_body(ClockMoveSchema(), "klokke")
    try:
        delta = parse_duration(data["advance"])
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), [Problem("klokke.advance.format", "advance", str(exc))]
        ) from exc
    now = advance_clock(get_session(), run_id, delta)
    return jsonify({"now": iso(now)})


@bp.get("/runs/<run_id>/case")
def get_case(run_id: str) -> Response:
    """The case as the kommune sees it, with the event log."""
    run = _run_or_404(run_id)
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
    _run_or_404(run_id)
    etter = _int_arg("etter", 0, 2**62)
    limit = _int_arg("limit", 500, 5000)
    entries = list(
        get_session().scalars(
            select(JournalEntry)
            .where(JournalEntry.run_id == run_id, JournalEntry.id > etter)
            .order_by(JournalEntry.id)
            .limit(limit)
        )
    )
    return jsonify(
        {
            "entries": [journal_json(e) for e in entries],
            "next": entries[-1].id if len(entries) == limit else None,
        }
    )


def journal_json(entry: JournalEntry) -> dict[str, Any]:
    """One journal entry as JSON."""
    return {
        "id": entry.id,
        "realTime": iso(entry.real_time),
        "virtualTime": iso(entry.virtual_time),
        "request": {
            "method": entry.method,
            "path": entry.path,
            "query": entry.query,
            "headers": entry.request_headers,
            "body": entry.request_body,
            "bodyTruncated": entry.request_body_truncated,
        },
        "response": {
            "status": entry.status,
            "headers": entry.response_headers,
            "body": entry.response_body,
            "bodyTruncated": entry.response_body_truncated,
        },
        "durationMs": entry.duration_ms,
    }
