"""The simulated DiBK API under /api/v1: one blueprint per API area, HTTP Basic per run."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.engine.snapshots import SnapshotCache
from app.wire.query import dibk_query_names


class CaseInsensitiveApi:
    """WSGI middleware: match /api/v1 paths and query names case-insensitively, as DiBK's
    ASP.NET routes do; the app and its journal see the path in lower case and the query
    names in DiBK's spelling."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path[:8].lower() == "/api/v1/":
            if path != path.lower():
                environ["PATH_INFO"] = path.lower()
            query = environ.get("QUERY_STRING")
            if query:
                environ["QUERY_STRING"] = dibk_query_names(query)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Register the simulated API's blueprints and the journal."""
    from app.api import dokument, innsending, journal, kvittering, oppdatering, status, supplering

    for module in (kvittering, oppdatering, status, dokument, innsending, supplering):
        app.register_blueprint(module.bp)
    journal.init_app(app)
    app.extensions["sandbox.snapshots"] = SnapshotCache()
    app.wsgi_app = CaseInsensitiveApi(app.wsgi_app)  # type: ignore[method-assign]
