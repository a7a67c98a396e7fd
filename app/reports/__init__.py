"""Reports rendered from one JSON result: json, junit, html, markdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.reports import html, json, junit, markdown

RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "json": json.render,
    "junit": junit.render,
    "html": html.render,
    "markdown": markdown.render,
}
MEDIA_TYPES = {
    "json": "application/json",
    "junit": "application/xml",
    "html": "text/html",
    "markdown": "text/markdown",
}
