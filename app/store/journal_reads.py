"""Reading a run's journal: the one place that queries it, for the control plane, the UI,
scoring, scenario triggers and faults.

Every entry is committed before its answer leaves (``app.store.journal_writer``), so a
reader sees every exchange the sandbox has answered; there is nothing to wait for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.store.models import JournalEntry
from app.vocabulary import POLL_PATHS, counted_as
from app.wire.dates import iso


def entries(
    session: Session, run_id: str, *, after: int = 0, limit: int | None = None
) -> list[JournalEntry]:
    """The run's entries in order, those after entry id ``after``, at most ``limit``."""
    query = (
        select(JournalEntry)
        .where(JournalEntry.run_id == run_id, JournalEntry.id > after)
        .order_by(JournalEntry.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def entries_by_id(session: Session, run_id: str, ids: Iterable[int]) -> list[JournalEntry]:
    """The run's entries with these ids, newest first."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = (
        select(JournalEntry)
        .where(JournalEntry.run_id == run_id, JournalEntry.id.in_(wanted))
        .order_by(JournalEntry.id.desc())
    )
    return list(session.scalars(query))


def action_time(
    session: Session, run_id: str, action: str, count: int, poll_paths: Sequence[str] = POLL_PATHS
) -> datetime | None:
    """Virtual time of the client's ``count``-th ``action`` (``poll``: any GET on
    ``poll_paths``; every kind of ``action`` counts as it), or None if it has not happened."""
    query = select(JournalEntry.virtual_time).where(JournalEntry.run_id == run_id)
    if action == "poll":
        query = query.where(JournalEntry.method == "GET", JournalEntry.path.in_(poll_paths))
    else:
        query = query.where(JournalEntry.action.in_(counted_as(action)))
    found: datetime | None = session.scalars(
        query.order_by(JournalEntry.id).offset(count - 1).limit(1)
    ).first()
    return found


def first_answer(
    session: Session, run_id: str, method: str, path: str, canonical: str
) -> JournalEntry | None:
    """The run's first successful exchange of this request with this canonical body, if any
    (a client write sent again gets its answer)."""
    query = (
        select(JournalEntry)
        .where(
            JournalEntry.run_id == run_id,
            JournalEntry.method == method,
            JournalEntry.path == path,
            JournalEntry.request_body_canonical == canonical,
            JournalEntry.status >= 200,
            JournalEntry.status < 300,
            JournalEntry.replay_of.is_(None),
        )
        .order_by(JournalEntry.id)
        .limit(1)
    )
    found: JournalEntry | None = session.scalars(query).first()
    return found


def polls_since(session: Session, run_id: str, when: datetime) -> int:
    """How many polls of the run were answered at or after virtual time ``when``."""
    query = select(func.coalesce(func.sum(JournalEntry.repeats), 0)).where(
        JournalEntry.run_id == run_id,
        JournalEntry.method == "GET",
        JournalEntry.path.in_(POLL_PATHS),
        JournalEntry.virtual_time >= when,
    )
    return int(session.scalar(query) or 0)


def fault_strikes(session: Session, run_id: str, fault_id: str) -> int:
    """How many of the run's answers the fault ``fault_id`` has shaped."""
    count = session.scalar(
        select(func.count())
        .select_from(JournalEntry)
        .where(JournalEntry.run_id == run_id, JournalEntry.fault.like(f"%,{fault_id},%"))
    )
    return int(count or 0)


def entry_json(entry: JournalEntry) -> dict[str, Any]:
    """One journal entry as the JSON the control plane, the UI and the reports show."""
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
            "canonicalBody": entry.request_body_canonical,
        },
        "response": {
            "status": entry.status,
            "headers": entry.response_headers,
            "body": entry.response_body,
            "bodyTruncated": entry.response_body_truncated,
        },
        "durationMs": entry.duration_ms,
        "replayOf": entry.replay_of,
        # Identical polls folded into this entry (app.store.journal_folding).
        "repeats": entry.repeats or 1,
        "lastRealTime": iso(entry.last_real_time) if entry.last_real_time else None,
        "lastVirtualTime": iso(entry.last_virtual_time) if entry.last_virtual_time else None,
        "minGapMs": entry.min_gap_ms,
    }
