"""What every simulated-API request does first: whose run, the clock, due steps, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, g, request

from app.api.auth import current_head, refuse
from app.api.kept_answers import Quiet
from app.config import engine_config
from app.engine.clock import aware
from app.engine.faults import FaultPlan, plan
from app.engine.runs import advance_clock, clock_of
from app.engine.snapshots import RunHead, Snapshot, SnapshotCache
from app.engine.timeline import catch_up, quiet_until
from app.store.db import get_session

QUIET_UNTIL = "quiet_until"
FOREVER = datetime.max.replace(tzinfo=UTC)


def _quiet(snapshot: Snapshot, head: RunHead, until: datetime) -> Quiet:
    """The run's answers at this version stay the same until ``until`` (kept per snapshot)."""
    key = ("quiet", until)
    quiet: Quiet | None = snapshot.memo.get(key)
    if quiet is None or quiet.password_sha256 != head.password_sha256:
        auth = request.authorization  # current_head has checked it
        quiet = Quiet(
            username=auth.username or "" if auth is not None else "",
            password_sha256=head.password_sha256,
            version=snapshot.version,
            until=until,
            clock=clock_of(snapshot.run),
        )
        snapshot.memo[key] = quiet
    return quiet


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
    until: datetime | None = FOREVER  # no scenario: nothing ever fires by itself
    if run.scenario:
        if QUIET_UNTIL not in snapshot.memo:
            snapshot.memo[QUIET_UNTIL] = quiet_until(get_session(), run)
        until = snapshot.memo[QUIET_UNTIL]
        if until is None or now >= until:
            until = None  # not quiet: this answer is not kept (app.api.kept_answers)
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
    if until is not None and not counts_requests and not head.poll_step_seconds:
        g.quiet = _quiet(snapshot, head, until)
    if faults.applied:
        g.journal_fault = "," + ",".join(faults.applied) + ","
    if faults.error is not None:
        raise faults.error
    return snapshot, faults
