"""A run's virtual clock: every date the sandbox emits for a run comes from here, and every
way it moves (told to, or a step on each client request) is here too.

The clock is stored as an anchor pair and a factor, so any worker computes the same
time without shared memory: ``virtual = virtual_anchor + (real - real_anchor) * factor``.
``realtime`` has factor 1, ``manual`` factor 0 (it moves only when told), ``accelerated``
a chosen factor, and ``on_poll`` factor 0 with a step added on every client request.
A move is stored through the run's one write transaction (``app.engine.apply``). No
clock runs past :data:`app.limits.HORIZON`: it stops there, whatever its mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.engine.apply import Write, write_run
from app.limits import HORIZON
from app.store.models import Run
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
        """The run's current virtual time (at most the horizon)."""
        real = real or utcnow()
        anchor = aware(self.virtual_anchor)
        elapsed = (real - aware(self.real_anchor)).total_seconds() * self.factor
        return _plus(anchor, elapsed)

    def advance(self, delta: timedelta, real: datetime | None = None) -> datetime:
        """Move the virtual time forward by ``delta``, to the horizon at most; the new time."""
        real = real or utcnow()
        self.virtual_anchor = _plus(self.now(real), delta.total_seconds())
        self.real_anchor = real
        return self.virtual_anchor


def _plus(moment: datetime, seconds: float) -> datetime:
    """``moment`` plus ``seconds``, stopped at the horizon (a moment past it stands still)."""
    if seconds >= (HORIZON - moment).total_seconds():
        return max(moment, HORIZON)
    return moment + timedelta(seconds=seconds)


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


def clock_of(run: Run) -> Clock:
    """The run's virtual clock."""
    return Clock(run.clock_mode, run.clock_factor, run.clock_virtual_anchor, run.clock_real_anchor)


def advance_clock(session: Session, run_id: str, delta: timedelta) -> datetime:
    """Move a run's virtual clock forward by ``delta``; return the new virtual time."""

    def decide(run: Run) -> Write:
        clock = clock_of(run)
        new_time = clock.advance(delta)
        values = {
            "clock_virtual_anchor": clock.virtual_anchor,
            "clock_real_anchor": clock.real_anchor,
        }
        return Write(values, result=new_time)

    moved: datetime = write_run(session, run_id, decide)
    return moved


def start_waiting_clock(session: Session, run_id: str) -> bool:
    """Start a clock that waited for the client's first request, from now; True if it did.

    Its virtual time goes on from where it stood (the run's start), at the factor it waited
    with; a second request finds it running already and changes nothing.
    """

    def decide(run: Run) -> Write | None:
        if run.clock_waiting_factor is None:
            return None
        values = {
            "clock_factor": run.clock_waiting_factor,
            "clock_waiting_factor": None,
            "clock_real_anchor": utcnow(),
        }
        return Write(values, result=True)

    return bool(write_run(session, run_id, decide))


def poll_step(
    session: Callable[[], Session], run_id: str, step_seconds: float | None, active: bool
) -> bool:
    """On an ``on_poll`` clock, move it by its step for this client request; True if moved.

    A finished run's clock stands still: its client may still read it.
    """
    if not step_seconds or not active:
        return False
    advance_clock(session(), run_id, timedelta(seconds=step_seconds))
    return True
