"""Counts, score, coverage and pass/fail from a run's verdicts (plain data, no database).

The reports and the CI runner read these too, so every door tells the same story.
"""

from __future__ import annotations

from typing import Any

from app.vocabulary import VERDICT_STATES, fails


def blocks(verdict: dict[str, Any], *, skipped_ok: bool = False) -> bool:
    """True when the verdict keeps its run from passing: a ``must`` that did not hold.

    FAILED always blocks; an undecided ``must`` (PENDING, INCOMPLETE, SKIPPED) blocks
    unless the scenario marks the expectation optional. ``skipped_ok``: a SKIPPED must
    is left to the CI runner's ``--min-coverage`` instead.
    """
    if VERDICT_STATES[verdict["status"]].holds or not fails(verdict["severity"]):
        return False
    if skipped_ok and verdict["status"] == "SKIPPED":
        return False
    return verdict["status"] == "FAILED" or not verdict.get("optional", False)


def passes(result: dict[str, Any], *, skipped_ok: bool = False) -> bool:
    """A run passes only when its result is final and no verdict blocks."""
    return bool(result.get("final")) and not any(
        blocks(v, skipped_ok=skipped_ok) for v in result["verdicts"]
    )


def recount(result: dict[str, Any]) -> None:
    """Set a run's ``counts``, ``score``, ``coverage`` and ``passed`` from its verdicts.

    Score: the weighted share of the decided verdicts that PASSED (None when none is
    decided); coverage: the share of all verdicts that is decided (None without any).
    A run passes only when its result is final and no verdict blocks.
    """
    verdicts = result["verdicts"]
    decided = [v for v in verdicts if VERDICT_STATES[v["status"]].decided]
    weight = sum(v["weight"] for v in decided)
    won = sum(v["weight"] for v in decided if v["status"] == "PASSED")
    result["counts"] = {
        state: sum(v["status"] == state for v in verdicts) for state in VERDICT_STATES
    }
    result["score"] = round(won / weight, 4) if weight else None
    result["coverage"] = round(len(decided) / len(verdicts), 4) if verdicts else None
    result["passed"] = passes(result)


def percent(share: float | None) -> str:
    """``0.75`` → ``75 %``; an undefined share (nothing decided) → ``n/a``."""
    return "n/a" if share is None else f"{share * 100:.0f} %"
