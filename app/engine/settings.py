"""The settings the run engine reads, handed to it by each door (API, control plane, UI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass
class EngineConfig:
    """The settings the engine reads from the app config."""

    base_url: str
    document_retention: timedelta = timedelta(days=30)
    default_seed: int | None = None
    journal_cap: int = 10_000  # entries a run keeps (SANDBOX_JOURNAL_MAX_ENTRIES)
