"""What every simulated-API request does first: whose run, the clock, due steps, faults."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g

from app.api import engine_config
from app.api.auth import current_head, refuse
from app.engine.clock import aware
from app.engine.faults import FaultPlan, plan
from app.engine.runs import advance_clock, clock_of
from app.engine.snapshots import Snapshot, SnapshotCache
from app.engine.timeline import catch_up, quiet_until
from app.store.db import get_session

QUIET_UNTIL = "quiet_until"


def client_request(api: str) -> tuple[Snapshot, FaultPlan]:
    """Authenticate, move an advance-on-poll clock, fire due steps, then apply faults.

    The run comes from this worker's snapshot cache while its stored version is
    unchanged; due steps are looked for only once the clock has reached the first known
    due time, or on every request while a step waits for a client action.
    """
    head = current_head()
    cache: SnapshotCache = current_app.extensions["sandbox.snapshots"]
    version = head.version
    if head.poll_step_seconds:
        advance_clock(get_session(), head.id, timedelta(seconds=head.poll_step_seconds))
        version += 1
    # The session is opened only off the fast path (a changed run, a due step, a fault).
    snapshot = cache.cached(head.id, version) or cache.load(get_session(), head.id)
    if snapshot is None:
        raise refuse("Kjøringen finnes ikke lenger.")
    run = snapshot.run
    now = aware(clock_of(run).now())
    if run.scenario:
        if QUIET_UNTIL not in snapshot.memo:
            snapshot.memo[QUIET_UNTIL] = quiet_until(get_session(), run)
        until = snapshot.memo[QUIET_UNTIL]
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
    faults = FaultPlan()
    counts_requests = bool(run.scenario and run.scenario.get("faults"))
    if counts_requests:
        faults = plan(get_session(), run, api, now, head.journal_count)
    # The response may leave before its journal entry is committed only while no step
    # waits for a client action and no fault counts requests: then nothing this run does
    # depends on its journal until a reader settles it (see app.store.journal_writer).
    g.journal_behind = not counts_requests and (
        not run.scenario or snapshot.memo.get(QUIET_UNTIL) is not None
    )
    if faults.applied:
        g.journal_fault = "," + ",".join(faults.applied) + ","
    if faults.error is not None:
        raise faults.error
    return snapshot, faults
