"""DiBK's date form: ISO-8601 in UTC with milliseconds and a ``Z`` (2023-01-25T10:02:44.711Z)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def iso(value: datetime) -> str:
    """Format a datetime (naive means UTC) the way DiBK's examples do."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 date-time that carries an offset; raise ValueError otherwise."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if value.tzinfo is None:
        raise ValueError("mangler tidssone")
    return value.astimezone(UTC)
