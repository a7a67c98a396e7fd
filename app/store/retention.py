"""Runs removed once idle past the retention, with their journal and documents, by the server itself.

A plain run (one made by the control plane, the UI or a CI ``run``) is kept for
``SANDBOX_RUN_RETENTION`` (an ISO-8601 duration, default ``P7D``; ``0`` keeps runs for
good) after its last exchange, or after its creation when its client never called. A tenant's
run is kept for its tenant's ``retention`` (default ``P30D``), counted the same way.
Every worker sweeps at most once every ``SWEEP_EVERY`` seconds, from the first request
after that time, so a deployment needs no separate job. The sweep is one ``DELETE``;
the database's cascades take the journal, the case rows and the documents with it.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.domain.durations import parse_duration
from app.store.models import Run, Tenant

SWEEP_EVERY = 600.0
DEFAULT_TENANT_RETENTION = "P30D"
log = logging.getLogger(__name__)


def sweep(engine: Engine, retention: timedelta, now: datetime | None = None) -> int:
    """Delete every plain run idle for longer than ``retention``; how many went."""
    cutoff = (now or datetime.now(UTC)) - retention
    last_seen = _last_seen()
    with engine.begin() as connection:
        result = connection.execute(delete(Run).where(Run.tenant.is_(None), last_seen < cutoff))
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("removed %d runs idle since before %s", removed, cutoff.isoformat())
    return removed


def sweep_tenants(engine: Engine, now: datetime | None = None) -> int:
    """Delete every tenant's runs idle for longer than the tenant's retention; how many went."""
    moment = now or datetime.now(UTC)
    last_seen = _last_seen()
    removed = 0
    with engine.begin() as connection:
        for name, retention in connection.execute(select(Tenant.name, Tenant.retention)).all():
            try:
                kept = parse_duration(retention or DEFAULT_TENANT_RETENTION)
            except ValueError:
                kept = parse_duration(DEFAULT_TENANT_RETENTION)
            result = connection.execute(
                delete(Run).where(Run.tenant == name, last_seen < moment - kept)
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("removed %d tenant runs past their tenant's retention", removed)
    return removed


def _last_seen() -> Any:
    """When a run last saw its client, or was created when it never did."""
    return func.coalesce(Run.last_exchange_at, Run.created_at)


class _Schedule:
    """When this process sweeps next (each worker keeps its own; sweeping twice is harmless)."""

    def __init__(self) -> None:
        self.due = 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self.due:
            return
        self.due = now + SWEEP_EVERY
        retention: timedelta | None = current_app.config["RUN_RETENTION"]
        engine = current_app.extensions["sandbox.engine"]
        try:
            if retention is not None:
                sweep(engine, retention)
            sweep_tenants(engine)
        except SQLAlchemyError:
            # Housekeeping must never fail the request that happened to come first.
            log.warning("the sweep of idle runs failed; the next one is due in %.0f s", SWEEP_EVERY)


def init_app(app: Flask) -> None:
    """Sweep idle runs from requests, at most once every ``SWEEP_EVERY`` seconds a worker."""
    app.before_request(_Schedule())
