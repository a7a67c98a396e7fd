"""How far a run got, as a verdict needs to know: is it live, and which steps never fired.

A verdict on a live run whose deciding window is open is PENDING; on a finished run, a
verdict that depends on a step that never fired is INCOMPLETE, with that step named.
"""

from __future__ import annotations

from app.scenarios.model import Step, Trigger
from app.scoring.evidence import Facts
from app.vocabulary import EVERY_EVENT

ACTIVE = "active"


def live(facts: Facts) -> bool:
    """True while the run can still change (not finished)."""
    return facts.run.status == ACTIVE


def step_status(facts: Facts, step_id: str) -> str:
    """``fired``, ``failed`` or ``pending`` (never fired)."""
    state = (facts.run.timeline or {}).get("steps", {}).get(step_id) or {}
    return str(state.get("status", "pending"))


def unfired(facts: Facts, kinds: tuple[str, ...]) -> list[Step]:
    """Steps still pending whose event is of one of ``kinds`` (EVERY_EVENT: any)."""
    return [
        step
        for step in facts.scenario.timeline
        if step_status(facts, step.id) == "pending"
        and (EVERY_EVENT in kinds or step.event_type in kinds)
    ]


def waits_for(facts: Facts, step_id: str) -> str:
    """What a pending step waits for, in words."""
    step = facts.scenario.step(step_id)
    trigger = step.trigger if step is not None else Trigger()
    if trigger.on is not None:
        count = trigger.count
        return f"it waits for the client's {trigger.on}" + (f" ×{count}" if count > 1 else "")
    if trigger.after is not None:
        other = trigger.after
        if step_status(facts, other) == "pending":
            return f"it waits for step '{other}'"
        return f"it was due {trigger.delay} after step '{other}'"
    if trigger.manual:
        return "it fires only by hand"
    if trigger.at is not None:
        return f"it was due {trigger.at} after the start"
    return "it never came due"


def never_fired(facts: Facts, steps: list[Step]) -> str:
    """``step 'vedtak' never fired (it waits for …)``; several steps are all named."""
    first = steps[0].id
    why = waits_for(facts, first)
    if len(steps) == 1:
        return f"step '{first}' never fired ({why})"
    names = ", ".join(f"'{s.id}'" for s in steps)
    return f"steps {names} never fired ('{first}' {why.removeprefix('it ')})"
