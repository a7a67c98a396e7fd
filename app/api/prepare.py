"""What every simulated-API request does first: whose run, the clock, due steps, faults."""

from __future__ import annotations

from datetime import timedelta

from flask import g

from app.api import engine_config
from app.api.auth import current_run
from app.engine.clock import aware
from app.engine.faults import FaultPlan, plan
from app.engine.runs import advance_clock, clock_of
from app.engine.timeline import catch_up
from app.store.db import get_session
from app.store.models import Run


def client_request(api: str) -> tuple[Run, FaultPlan]:
    """Authenticate, move an advance-on-poll clock, fire due steps, then apply faults."""
    run = current_run()
    session = get_session()
    if run.clock_poll_step_seconds or run.scenario:
        if run.clock_poll_step_seconds:
            advance_clock(session, run.id, timedelta(seconds=run.clock_poll_step_seconds))
        if run.scenario:
            catch_up(session, run.id, engine_config())
        session.rollback()
        fresh = session.get(Run, run.id, populate_existing=True)
        assert fresh is not None
        run = fresh
    now = aware(clock_of(run).now())
    g.journal_virtual_time = now
    faults = plan(session, run, api, now) if run.scenario else FaultPlan()
    if faults.applied:
        g.journal_fault = "," + ",".join(faults.applied) + ","
    if faults.error is not None:
        raise faults.error
    return run, faults
