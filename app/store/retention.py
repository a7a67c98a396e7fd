"""Runs removed once idle past the retention, with their journal and documents, by the server itself.

A plain run (one made by the control plane, the UI or a CI ``run``) is kept for
``SANDBOX_RUN_RETENTION`` (an ISO-8601 duration, default ``P7D``; ``0`` keeps runs for
good) after its last exchange, or after its creation when its client never called.
Every worker sweeps at most once every ``SWEEP_EVERY`` seconds, from the first request
after that time, so a deployment needs no separate job. The sweep is one ``DELETE``;
the database's cascades take the journal, the case rows and the documents with it.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import Engine, delete, func
from sqlalchemy.exc import SQLAlchemyError

from app.store.models import Run

SWEEP_EVERY = 600.0
log = logging.getLogger(__name__)


def sweep(engine: Engine, retention: timedelta, now: datetime | None = None) -> int:
    """Delete every run idle for longer than ``retention``; how many went."""
    cutoff = (now or datetime.now(UTC)) - retention
    last_seen = func.coalesce(Run.last_exchange_at, Run.created_at)
    with engine.begin() as connection:
        result = connection.execute(delete(Run).where(last_seen < cutoff))
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("removed %d runs idle since before %s", removed, cutoff.isoformat())
    return removed


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
        if retention is None:
            return
        try:
            sweep(current_app.extensions["sandbox.engine"], retention)
        except SQLAlchemyError:
            # Housekeeping must never fail the request that happened to come first.
            log.warning("the sweep of idle runs failed; the next one is due in %.0f s", SWEEP_EVERY)


def init_app(app: Flask) -> None:
    """Sweep idle runs from requests, at most once every ``SWEEP_EVERY`` seconds a worker."""
    app.before_request(_Schedule())
