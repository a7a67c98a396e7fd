"""Control plane for runs: create, list, inspect, delete, apply kommune events, move the clock."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import delete

from app import limits
from app.config import engine_config
from app.control import actions, listing
from app.control.actions import caught_up, run_or_404
from app.control.auth import require_admin
from app.engine.clock import clock_of
from app.engine.reads import load_sak
from app.engine.settings import EngineConfig
from app.engine.timeline import timeline_view
from app.http import load_body, read_json_object
from app.openapi_docs import BODY_ERRORS, FINISHED, UNKNOWN_RUN, doc
from app.store.db import get_session
from app.store.models import Run
from app.wire.dates import iso
from app.wire.inputs import EVENT_SCHEMAS, RunCreateSchema

bp = Blueprint("control", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)


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
        "tenant": run.tenant,
        "clock": {
            "mode": clock.mode,
            "now": iso(clock.now()),
            "start": iso(run.clock_start),
            "waitingForFirstRequest": run.clock_waiting_factor is not None,
        },
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
@doc(
    "Create a run (returns credentials once)",
    body="RunCreate",
    body_required=False,
    creates="runId",
    responses={
        "201": "The run with its credentials",
        "400": "Malformed JSON, field errors, an unknown scenario, kommunenummer or tenant, "
        "or an innsending the kommune refuses",
        **BODY_ERRORS,
    },
)
def post_run() -> tuple[Response, int, dict[str, str]]:
    """Create a run, by hand or from a scenario; only this response shows its password."""
    data = load_body(RunCreateSchema(), "run", allow_empty=True)
    run, password = actions.create(data)
    fresh = run_or_404(run.id)
    body = summary(fresh, engine_config())
    body["credentials"] = {"username": fresh.username, "password": password}
    return jsonify(body), 201, {"Location": body["links"]["self"]}


@bp.get("/runs")
@doc(
    "List runs, a page at a time",
    parameters=listing.PARAMETERS,
    responses={
        "200": "Runs, newest first; `next` is the cursor of the next page (null at the end) "
        "and `total` the number of runs the filters match",
        "400": "limit, cursor or status not valid",
    },
)
def list_runs() -> Response:
    """A page of runs, newest first; filter by ``status`` and ``scenario``, page by ``cursor``."""
    config = engine_config()
    page = listing.page_of_runs(get_session())
    return jsonify(
        {
            "runs": [summary(r, config) for r in page.runs],
            "next": page.next_cursor,
            "total": page.total,
        }
    )


@bp.get("/runs/<run_id>")
@doc("One run", responses={"200": "The run", "404": UNKNOWN_RUN})
def get_run(run_id: str) -> Response:
    """One run."""
    return jsonify(summary(caught_up(run_id), engine_config()))


@bp.delete("/runs/<run_id>")
@doc("Delete a run", responses={"204": "Deleted", "404": UNKNOWN_RUN})
def delete_run(run_id: str) -> tuple[str, int]:
    """Delete a run with its case, journal and documents."""
    run_or_404(run_id)
    session = get_session()
    session.execute(delete(Run).where(Run.id == run_id))
    session.commit()
    return "", 204


@bp.post("/runs/<run_id>/events")
@doc(
    "Apply a kommune event",
    description="Event types: " + ", ".join(EVENT_SCHEMAS) + ".",
    body="Event",
    responses={
        "201": "What the client will see",
        "400": "Malformed JSON, field errors or an innsendingReferanse the case does not have",
        "404": UNKNOWN_RUN,
        "409": f"The case does not allow this event now. {FINISHED}",
        **BODY_ERRORS,
    },
)
def post_event(run_id: str) -> tuple[Response, int]:
    """Apply one kommune event by hand."""
    run_or_404(run_id)
    return jsonify(actions.apply(run_id, read_json_object("hendelse"))), 201


@bp.post("/runs/<run_id>/clock")
@doc(
    "Move the run's virtual clock forward",
    body="ClockMove",
    responses={
        "200": "The new virtual time and the steps that fired",
        "400": "Malformed JSON, or not an ISO-8601 duration from PT0S to "
        f"{limits.DURATION_MAX_TEXT}",
        "404": UNKNOWN_RUN,
        "409": f"The move would pass the horizon {limits.HORIZON_TEXT}. {FINISHED}",
        **BODY_ERRORS,
    },
)
def post_clock(run_id: str) -> Response:
    """Move the run's virtual clock forward by an ISO-8601 duration."""
    run_or_404(run_id)
    now, fired = actions.move_clock(run_id, read_json_object("klokke"))
    return jsonify({"now": iso(now), "fired": fired})


@bp.post("/runs/<run_id>/next")
@doc(
    "Jump to the kommune's next step (move the clock or fire a manual one)",
    responses={
        "200": "What fired, the new time, what waits",
        "404": UNKNOWN_RUN,
        "409": FINISHED,
    },
)
def post_next(run_id: str) -> Response:
    """Jump to the kommune's next step: move the clock to it, or fire the next manual one."""
    return jsonify(actions.next_step(run_id))


@bp.post("/runs/<run_id>/steps/<step_id>/fire")
@doc(
    "Fire one scenario step now",
    responses={
        "201": "What the client will see",
        "404": "Unknown run, or a step the run's scenario does not have",
        "409": "Already fired, waiting for the client, or the run is finished",
    },
)
def post_fire(run_id: str, step_id: str) -> tuple[Response, int]:
    """Fire one step now, whatever its trigger."""
    return jsonify(actions.fire(run_id, step_id)), 201


@bp.post("/runs/<run_id>/finish")
@doc(
    "End the run: no more steps fire",
    responses={"200": "The run", "404": UNKNOWN_RUN, "409": FINISHED},
)
def post_finish(run_id: str) -> Response:
    """End the run: no more steps fire; the client may still read what was sent."""
    actions.finish(run_id)
    return jsonify(summary(run_or_404(run_id), engine_config()))


@bp.get("/runs/<run_id>/timeline")
@doc(
    "The scenario's steps with status, due and fire times",
    responses={"200": "Timeline", "404": UNKNOWN_RUN},
)
def get_timeline(run_id: str) -> Response:
    """The scenario's steps with status, due and fire times."""
    run = caught_up(run_id)
    return jsonify({"steps": timeline_view(get_session(), run), "now": iso(clock_of(run).now())})
