"""The JSON result: the source every other report is rendered from (schema in docs/results.md)."""

from __future__ import annotations

import json
from typing import Any


def render(document: dict[str, Any]) -> str:
    """Pretty, UTF-8, stable key order."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
