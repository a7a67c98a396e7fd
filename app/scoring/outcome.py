"""What a check or a request matcher found, before severity turns it into a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """``ok``: True passed, False failed, None not exercised; with the reason and evidence.

    ``state`` names an undecided verdict state (PENDING, INCOMPLETE) when the run has not
    yet given, or no longer gives, what the verdict needs.
    """

    ok: bool | None
    reason: str
    first_divergence: str | None = None
    evidence: list[int] = field(default_factory=list)
    state: str | None = None
