"""What every simulated-API request does first: whose run, the clock, due steps, faults."""

from __future__ import annotations

from flask import current_app, g

from app.api.auth import current_head, refuse
from app.config import engine_config
from app.engine.clock import aware, clock_of, poll_step, start_waiting_clock
from app.engine.faults import FaultPlan, plan
from app.engine.snapshots import Snapshot, SnapshotCache
from app.engine.timeline import catch_up
from app.scenarios.model import scenario_of
from app.store.db import get_session


def client_request(api: str) -> tuple[Snapshot, FaultPlan]:
    """Authenticate, move an advance-on-poll clock, fire due steps, then apply faults.

    The run comes from this worker's snapshot cache while its stored version is
    unchanged; due steps are looked for only once the clock has reached the first known
    due time, or on every request while a step waits for a client action.
    """
    head = current_head()
    cache: SnapshotCache = current_app.extensions["sandbox.snapshots"]
    version = head.version
    if head.clock_waiting_factor is not None and head.status == "active":
        # The first request of a clock that starts on it: from now on it runs.
        version += int(start_waiting_clock(get_session(), head.id))
    if poll_step(get_session, head.id, head.poll_step_seconds, head.status == "active"):
        version += 1
    # The session is opened only off the fast path (a changed run, a due step, a fault).
    snapshot = cache.cached(head.id, version) or cache.load(get_session(), head.id)
    if snapshot is None:
        raise refuse("Kjøringen finnes ikke lenger.")
    run = snapshot.run
    now = aware(clock_of(run).now())
    if run.scenario:
        until = snapshot.quiet_until(get_session)
        if until is None or now >= until:
            session = get_session()
            if catch_up(session, run.id, engine_config()):
                snapshot = cache.load(session, run.id)
                if snapshot is None:
                    raise refuse("Kjøringen finnes ikke lenger.")
                run = snapshot.run
                now = aware(clock_of(run).now())
            session.rollback()
    g.journal_virtual_time = now
    g.journal_fold = snapshot.fold_epoch(get_session, now)
    faults = FaultPlan()
    if scenario_of(run).faults:
        faults = plan(get_session(), run, api, now, head.journal_count)
    if faults.applied:
        g.journal_fault = "," + ",".join(faults.applied) + ","
    if faults.error is not None:
        raise faults.error
    return snapshot, faults
