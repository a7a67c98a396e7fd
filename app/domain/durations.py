"""Durations in scenarios and clock moves: ISO-8601 (P2D, PT3H, P1W) or Norwegian working days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.calendar import add_virkedager
from app.limits import DURATION_MAX, DURATION_MAX_TEXT, VIRKEDAGER_MAX

DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
VIRKEDAGER = re.compile(r"^(?P<count>\d+) virkedag(?:er)?$")
# The same grammar as a JSON Schema pattern, for editors.
DELAY_PATTERN = r"^(P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|\d+ virkedag(er)?)$"


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration up to ``P520W``, without years or months; else ValueError."""
    match = DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"'{text}' er ikke en ISO-8601-varighet som P2D, PT3H eller P1W.")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    try:
        duration = timedelta(**parts)
    except OverflowError:
        duration = timedelta.max
    if duration > DURATION_MAX:
        raise ValueError(f"'{text}' er lengre enn den lengste varigheten, {DURATION_MAX_TEXT}.")
    return duration


@dataclass(frozen=True)
class Delay:
    """A calendar delay (``P2D``) or a number of Norwegian working days (``3 virkedager``)."""

    duration: timedelta = timedelta(0)
    virkedager: int = 0

    def after(self, start: datetime) -> datetime:
        """The moment this delay after ``start``."""
        if self.virkedager:
            return add_virkedager(start, self.virkedager)
        return start + self.duration


def parse_delay(text: str) -> Delay:
    """Parse ``P2D``-style durations and ``N virkedager``; raise ValueError otherwise."""
    match = VIRKEDAGER.match(text.strip())
    if match:
        if len(match["count"]) > len(str(VIRKEDAGER_MAX)) or int(match["count"]) > VIRKEDAGER_MAX:
            raise ValueError(f"'{text}' er flere enn {VIRKEDAGER_MAX} virkedager.")
        return Delay(virkedager=int(match["count"]))
    if DURATION.match(text.strip()) and text.strip() not in ("P", "PT"):
        return Delay(duration=parse_duration(text.strip()))
    raise ValueError(
        f"'{text}' er ikke en varighet: skriv ISO-8601 (P2D, PT3H, P1W) eller 'N virkedager'."
    )
