"""Failed sign-ins on the UI, counted per username and per remote address in a window.

A row per key holds the failures since its window began. Past a key's bound, a sign-in
is refused until that window is over; the first failure after it starts a new window.
The rows live in the database, so every worker and container counts alike, and a row
whose window is over is deleted by the next failure.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.store.models import LoginFailure


def key_of(kind: str, value: str) -> str:
    """The row key of a username (``user``) or a remote address (``addr``)."""
    digest = hashlib.sha256(value.encode(errors="surrogatepass")).hexdigest()
    return f"{kind}:{digest}"


def retry_after(
    session: Session, bounds: Mapping[str, int], now: datetime, window: timedelta
) -> int | None:
    """Seconds until every key of ``bounds`` that reached its bound is let in again; None
    when none has."""
    rows = session.scalars(select(LoginFailure).where(LoginFailure.key.in_(list(bounds))))
    waits = []
    for row in rows:
        start = (
            row.window_start if row.window_start.tzinfo else row.window_start.replace(tzinfo=UTC)
        )
        left = (start + window - now).total_seconds()
        if row.count >= bounds[row.key] and left > 0:
            waits.append(math.ceil(left))
    return max(waits) if waits else None


def count_failure(session: Session, keys: list[str], now: datetime, window: timedelta) -> None:
    """Count one failed sign-in for each of ``keys``; forget windows that are over."""
    cutoff = now - window
    for key in sorted(keys):  # one lock order for every process
        _count(session, key, now, cutoff)
    session.execute(delete(LoginFailure).where(LoginFailure.window_start <= cutoff))
    session.commit()


def _count(session: Session, key: str, now: datetime, cutoff: datetime) -> None:
    row = LoginFailure.key == key
    counted = session.execute(
        update(LoginFailure)
        .where(row, LoginFailure.window_start > cutoff)
        .values(count=LoginFailure.count + 1)
    )
    if getattr(counted, "rowcount", 0):
        return
    restarted = session.execute(update(LoginFailure).where(row).values(count=1, window_start=now))
    if getattr(restarted, "rowcount", 0):
        return
    try:
        with session.begin_nested():
            session.execute(insert(LoginFailure).values(key=key, count=1, window_start=now))
    except IntegrityError:  # another request inserted it meanwhile: count on its row
        session.execute(update(LoginFailure).where(row).values(count=LoginFailure.count + 1))


def forget(session: Session, key: str) -> None:
    """Forget the failures of ``key`` (a username that has just signed in)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))
    session.commit()
