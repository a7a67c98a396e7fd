"""What a check or a request matcher found, before severity turns it into a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """``ok``: True passed, False failed, None not exercised; with the reason and evidence."""

    ok: bool | None
    reason: str
    first_divergence: str | None = None
    evidence: list[int] = field(default_factory=list)
