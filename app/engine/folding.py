"""When a run's repeated polls may share one journal row (``app.store.journal_folding``).

Two identical polls with identical answers are one row's repeats only if no verdict can
tell them apart:

- a verdict counts exchanges in windows of virtual time that open when a step fires (the
  case changes, so ``rng_counter`` moves) and close ``within`` after it: the fold epoch
  names the case's version and the span between the deadlines the clock has passed;
- ``within_polls: N`` counts the first N polls after a step, of every API in their order,
  and a folded row's repeats lose their order among other APIs' polls: nothing folds
  until N polls have been journalled since the step;
- a trigger ``on: <action>, count: N`` with N > 1 needs the N-th exchange's own time:
  nothing folds while such a step waits.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.durations import parse_delay
from app.engine.clock import aware
from app.scenarios.model import scenario_of
from app.store.models import Run

# Windows known to hold their N polls (they never reopen): (run id, opened, N).
_FULL: set[tuple[str, str, int]] = set()
_FULL_KEPT = 100_000
_lock = threading.Lock()
PollsSince = Callable[[datetime], int]


@dataclass(frozen=True)
class FoldPlan:
    """What a run's folding depends on at one version."""

    deadlines: list[datetime]  # window ends already fixed, sorted
    poll_windows: list[tuple[datetime, int]]  # (opened, N) of open within_polls windows


def plan_of(run: Run) -> FoldPlan | None:
    """The run's fold plan; None while a step waits for the N-th (N > 1) client action."""
    scenario = scenario_of(run)
    states: dict[str, Any] = (run.timeline or {}).get("steps", {})
    for step in scenario.timeline:
        trigger = step.trigger
        waiting = states.get(step.id, {}).get("status", "pending") == "pending"
        if waiting and trigger.on and trigger.count > 1:
            return None
    ends: list[datetime] = []
    windows: list[tuple[datetime, int]] = []
    for expectation in scenario.expect:
        after = expectation.after
        if after is None:
            opened = aware(run.clock_start)
        elif states.get(after, {}).get("status") == "fired":
            opened = aware(datetime.fromisoformat(states[after]["at"]))
        else:
            continue  # opens when the step fires, which changes the case
        if expectation.within:
            ends.append(aware(parse_delay(expectation.within).after(opened)))
        if expectation.within_polls:
            windows.append((opened, expectation.within_polls))
    return FoldPlan(sorted(ends), windows)


def fold_epoch(
    plan: FoldPlan | None, run: Run, now: datetime, polls_since: PollsSince
) -> str | None:
    """The epoch a poll answered at virtual ``now`` belongs to; None: it must not fold."""
    if plan is None:
        return None
    for opened, polls in plan.poll_windows:
        key = (run.id, opened.isoformat(), polls)
        if key in _FULL:
            continue
        if polls_since(opened) < polls:
            return None
        with _lock:
            if len(_FULL) >= _FULL_KEPT:
                _FULL.clear()
            _FULL.add(key)
    return f"{run.rng_counter}:{bisect_left(plan.deadlines, aware(now))}"
