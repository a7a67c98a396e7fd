"""A journal entry as the JSON the control plane and the reports show."""

from __future__ import annotations

from typing import Any

from app.store.models import JournalEntry
from app.wire.dates import iso


def journal_json(entry: JournalEntry) -> dict[str, Any]:
    """One journal entry as JSON."""
    return {
        "id": entry.id,
        "realTime": iso(entry.real_time),
        "virtualTime": iso(entry.virtual_time),
        "request": {
            "method": entry.method,
            "path": entry.path,
            "query": entry.query,
            "headers": entry.request_headers,
            "body": entry.request_body,
            "bodyTruncated": entry.request_body_truncated,
        },
        "response": {
            "status": entry.status,
            "headers": entry.response_headers,
            "body": entry.response_body,
            "bodyTruncated": entry.response_body_truncated,
        },
        "durationMs": entry.duration_ms,
    }
