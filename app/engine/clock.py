"""A run's virtual clock: every date the sandbox emits for a run comes from here.

The clock is stored as an anchor pair and a factor, so any worker computes the same
time without shared memory: ``virtual = virtual_anchor + (real - real_anchor) * factor``.
``realtime`` has factor 1, ``manual`` factor 0 (it moves only when told), ``accelerated``
a chosen factor, and ``on_poll`` factor 0 with a step added on every client request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.vocabulary import CLOCK_MODES, ClockModeName

ClockMode = ClockModeName
FACTORS: dict[str, float] = {name: mode.factor for name, mode in CLOCK_MODES.items()}


def utcnow() -> datetime:
    """The real time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class Clock:
    """The stored form of a run's clock."""

    mode: str
    factor: float
    virtual_anchor: datetime
    real_anchor: datetime

    def now(self, real: datetime | None = None) -> datetime:
        """The run's current virtual time."""
        real = real or utcnow()
        elapsed = (real - aware(self.real_anchor)).total_seconds() * self.factor
        return aware(self.virtual_anchor) + timedelta(seconds=elapsed)

    def advance(self, delta: timedelta, real: datetime | None = None) -> datetime:
        """Move the virtual time forward by ``delta``; return the new time."""
        real = real or utcnow()
        self.virtual_anchor = self.now(real) + delta
        self.real_anchor = real
        return self.virtual_anchor


def new_clock(mode: str, start: datetime | None = None, factor: float | None = None) -> Clock:
    """A clock in ``mode`` starting at ``start`` (default: the real now, to the millisecond).

    ``accelerated`` runs ``factor`` virtual seconds per real second (default: a day a second).
    """
    real = utcnow()
    begin = start or real.replace(microsecond=real.microsecond // 1000 * 1000)
    rate = factor if mode == "accelerated" and factor is not None else FACTORS[mode]
    return Clock(mode, rate, begin, real)


def aware(value: datetime) -> datetime:
    """Treat a naive datetime as UTC (SQLite returns naive ones)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
