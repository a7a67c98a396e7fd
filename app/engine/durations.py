"""ISO-8601 durations (P2D, PT3H, P1W, P1DT12H) for moving a run's clock."""

from __future__ import annotations

import re
from datetime import timedelta

DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration without years or months; raise ValueError otherwise."""
    match = DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"'{text}' er ikke en ISO-8601-varighet som P2D, PT3H eller P1W.")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return timedelta(**parts)
