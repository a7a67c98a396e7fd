"""The simulated DiBK API under /api/v1: one blueprint per API area, HTTP Basic per run."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.engine.snapshots import SnapshotCache


class CaseInsensitiveApiPaths:
    """WSGI middleware: match /api/v1 paths case-insensitively, as DiBK's ASP.NET routes do."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path[:8].lower() == "/api/v1/" and path != path.lower():
            environ["PATH_INFO"] = path.lower()
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Register the simulated API's blueprints and the journal."""
    from app.api import dokument, innsending, journal, kvittering, oppdatering, status, supplering

    for module in (kvittering, oppdatering, status, dokument, innsending, supplering):
        app.register_blueprint(module.bp)
    journal.init_app(app)
    app.extensions["sandbox.snapshots"] = SnapshotCache()
    app.wsgi_app = CaseInsensitiveApiPaths(app.wsgi_app)  # type: ignore[method-assign]
