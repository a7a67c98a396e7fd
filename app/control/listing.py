"""Runs a page at a time, newest first, with filters: for the control plane's list and the UI's.

A sandbox that serves CI for months holds thousands of runs; listing them all read and
parsed every case. A page is read with a keyset cursor (``createdAt`` and ``id`` of the
last run shown), so page N costs what page 1 costs and a run created meanwhile never
shifts a page.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import request
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.errors import Problem, ValidationFailed
from app.openapi_docs import query
from app.store.models import Run

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
STATUSES = ("active", "finished")

PARAMETERS = [
    query(
        "limit",
        f"At most this many runs (default {DEFAULT_LIMIT}).",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    ),
    query("cursor", "The `next` cursor of the page before.", {"type": "string", "maxLength": 200}),
    query("status", "Only runs with this status.", {"type": "string", "enum": list(STATUSES)}),
    query("scenario", "Only runs of this scenario id.", {"type": "string", "maxLength": 100}),
]


@dataclass(frozen=True)
class RunPage:
    """One page of runs, the cursor of the next page (None at the end) and the total."""

    runs: list[Run]
    next_cursor: str | None
    total: int


def _refuse(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, [Problem(f"runs.{name}.format", name, message)])


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise _refuse("limit", f"'limit' må være et heltall fra 1 til {MAX_LIMIT}, ikke '{raw}'.")
    return int(raw)


def _encode(run: Run) -> str:
    text = f"{run.created_at.isoformat()}|{run.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(raw: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        created, _, run_id = text.partition("|")
        if not run_id:
            raise ValueError(text)
        return datetime.fromisoformat(created), run_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        message = "'cursor' er ikke en markør fra en tidligere side (bruk 'next' fra svaret)."
        raise _refuse("cursor", message) from exc


def _filtered(statement: Select[Any], status: str | None, scenario: str | None) -> Select[Any]:
    if status is not None:
        statement = statement.where(Run.status == status)
    if scenario is not None:
        statement = statement.where(Run.scenario_id == scenario)
    return statement


def page_of_runs(session: Session) -> RunPage:
    """The page of runs the request's ``limit``, ``cursor``, ``status`` and ``scenario`` ask for."""
    args = request.args
    limit = _limit(args.get("limit"))
    status, scenario = args.get("status") or None, args.get("scenario") or None
    if status is not None and status not in STATUSES:
        message = f"'status' må være en av {', '.join(STATUSES)}, ikke '{status}'."
        raise _refuse("status", message)
    statement = _filtered(select(Run), status, scenario)
    cursor = args.get("cursor")
    if cursor:
        created, run_id = _decode(cursor)
        statement = statement.where(
            or_(Run.created_at < created, and_(Run.created_at == created, Run.id < run_id))
        )
    statement = statement.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
    rows = list(session.scalars(statement))
    total = session.scalar(_filtered(select(func.count()).select_from(Run), status, scenario))
    shown = rows[:limit]
    more = len(rows) > limit
    return RunPage(shown, _encode(shown[-1]) if more and shown else None, int(total or 0))
