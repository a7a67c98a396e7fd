"""Keeping the vocabulary's lists in step: the cross-checks the tests run over
``app.vocabulary`` and every list that implements one of its words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import get_args

from app import vocabulary as v
from app.vocabulary import ClientActionDef


def disagreements(
    what: str, registry: Iterable[str], lists: Mapping[str, Iterable[str]]
) -> list[str]:
    """Every name one of ``lists`` has and the registry lacks, or the other way, one line each."""
    names = set(registry)
    out: list[str] = []
    for where, listed in lists.items():
        found = set(listed)
        out += [
            f"{what} '{n}' is in the vocabulary but not in {where}" for n in sorted(names - found)
        ]
        out += [
            f"{what} '{n}' is in {where} but not in the vocabulary" for n in sorted(found - names)
        ]
    return out


def missing(what: str, names: Iterable[str], known: Iterable[str], where: str) -> list[str]:
    """Every one of ``names`` that is not among ``known``, one line each."""
    allowed = set(known)
    return [f"{what} '{n}' is not in {where}" for n in names if n not in allowed]


def _made(action: ClientActionDef) -> tuple[str, str, int]:
    return action.method, action.path, action.status


def internal_disagreements() -> list[str]:
    """Where the vocabulary's own lists refer to each other and do not agree."""
    out = disagreements("clock mode", v.CLOCK_MODES, {"ClockModeName": get_args(v.ClockModeName)})
    out += missing(
        "clock mode", [v.DEFAULT_CLOCK_MODE, *v.FORM_CLOCK_MODES], v.CLOCK_MODES, "CLOCK_MODES"
    )
    out += missing("severity", [v.DEFAULT_SEVERITY], v.SEVERITIES, "SEVERITIES")
    out += missing(
        "check severity",
        [c.severity for c in v.PROTOCOL_CHECKS.values()],
        v.SEVERITIES,
        "SEVERITIES",
    )
    out += missing(
        "event kind a check needs",
        [n for c in v.PROTOCOL_CHECKS.values() for n in c.needs if n != v.EVERY_EVENT],
        v.EVENT_KINDS,
        "EVENT_KINDS",
    )
    out += missing("client action API", [a.api for a in v.CLIENT_ACTIONS.values()], v.APIS, "APIS")
    out += missing(
        "refined client action",
        [a.refines for a in v.CLIENT_ACTIONS.values() if a.refines],
        [a.name for a in v.CLIENT_ACTIONS.values() if a.refines is None],
        "the client actions that refine none",
    )
    out += [
        f"client action '{a.name}' is not made like '{a.refines}', the action it refines"
        for a in v.CLIENT_ACTIONS.values()
        if a.refines in v.CLIENT_ACTIONS and _made(a) != _made(v.CLIENT_ACTIONS[a.refines])
    ]
    out += missing(
        "fault API", [k.only_api for k in v.FAULT_KINDS.values() if k.only_api], v.APIS, "APIS"
    )
    out += missing(
        "event kind",
        [a.needs_event[0] for a in v.CLIENT_ACTIONS.values() if a.needs_event],
        v.EVENT_KINDS,
        "EVENT_KINDS",
    )
    return out
