"""Verdict states and severities: what a verdict can say, and how much a miss counts.

Part of :mod:`app.vocabulary`, which re-exports every name here. Plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def _by_name(*entries: N) -> dict[str, N]:
    return {entry.name: entry for entry in entries}


@dataclass(frozen=True)
class VerdictStateDef:
    """What a verdict can say about one expectation."""

    name: str
    description: str
    decided: bool  # counts in the score, and as covered
    holds: bool  # a ``must`` in this state lets the run pass


VERDICT_STATES = _by_name(
    VerdictStateDef("PASSED", "the expectation held", True, True),
    VerdictStateDef("FAILED", "a `must` that did not hold", True, False),
    VerdictStateDef(
        "WARNING", "a `should` that did not hold, or a failure listed as expected", True, True
    ),
    VerdictStateDef(
        "PENDING", "the run is live and the window that decides it is still open", False, False
    ),
    VerdictStateDef(
        "INCOMPLETE", "the run finished before a step it depends on fired", False, False
    ),
    VerdictStateDef("SKIPPED", "the run never gave the client the chance", False, False),
)


@dataclass(frozen=True)
class SeverityDef:
    """How much an expectation that does not hold counts."""

    name: str
    description: str
    fails: bool  # a verdict that does not hold is FAILED (else WARNING)


SEVERITIES = _by_name(
    SeverityDef("must", "fails the build when it does not hold", True),
    SeverityDef("should", "a warning when it does not hold", False),
)
DEFAULT_SEVERITY = "must"


def fails(severity: str) -> bool:
    """True when an expectation of ``severity`` that does not hold fails the run."""
    found = SEVERITIES.get(severity)
    return found is not None and found.fails
