"""Saksbehandlingsfrist: DiBK's deadline semantics as a small state machine.

- A complete application (milepæl KS) starts the frist: 3 or 12 weeks by søknadstype.
- A mangel with utfall MSL pauses a running frist; the remaining time is kept.
- A mangel with utfall MSI means the application is not complete: the frist has not
  started (a running one is withdrawn) and starts afresh once the søknad is complete.
- An answer that closes every pausing mangel resumes the frist with the time that was left.
- A vedtak stops it. The kommune may also set a date by hand at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

FristStatus = Literal["ikke_startet", "loper", "pauset", "stoppet"]


@dataclass
class Frist:
    """The current deadline of one søknad."""

    status: FristStatus = "ikke_startet"
    uker: int | None = None
    dato: datetime | None = None
    gjenstaende_sekunder: int | None = None

    def start(self, now: datetime, uker: int) -> datetime:
        """Start the frist now for ``uker`` weeks and return the new date."""
        self.status = "loper"
        self.uker = uker
        self.dato = now + timedelta(weeks=uker)
        self.gjenstaende_sekunder = None
        return self.dato

    def pause(self, now: datetime) -> bool:
        """Pause a running frist (MSL); return True when something changed."""
        if self.status != "loper" or self.dato is None:
            return False
        self.gjenstaende_sekunder = max(0, int((self.dato - now).total_seconds()))
        self.status = "pauset"
        self.dato = None
        return True

    def withdraw(self) -> bool:
        """Mark the frist as not started (MSI); return True when something changed."""
        if self.status == "ikke_startet":
            return False
        self.status = "ikke_startet"
        self.dato = None
        self.gjenstaende_sekunder = None
        return True

    def resume(self, now: datetime) -> datetime | None:
        """Resume a paused frist with the time that was left; return the new date."""
        if self.status != "pauset" or self.gjenstaende_sekunder is None:
            return None
        self.status = "loper"
        self.dato = now + timedelta(seconds=self.gjenstaende_sekunder)
        self.gjenstaende_sekunder = None
        return self.dato

    def set(self, dato: datetime) -> datetime:
        """Set the frist to a date chosen by the kommune."""
        self.status = "loper"
        self.dato = dato
        self.gjenstaende_sekunder = None
        return dato

    def stop(self) -> bool:
        """Stop the frist because a vedtak was made."""
        if self.status == "stoppet":
            return False
        self.status = "stoppet"
        self.gjenstaende_sekunder = None
        return True
