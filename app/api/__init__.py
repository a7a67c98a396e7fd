"""The simulated DiBK API under /api/v1: one blueprint per API area, HTTP Basic per run."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from flask import Flask

from app.engine.snapshots import SnapshotCache
from app.vocabulary import QUERY_NAMES

_QUERY_NAMES = {name.lower(): name for name in QUERY_NAMES}


def dibk_query_names(query: str) -> str:
    """``query`` with each of the API's query names in DiBK's spelling; values untouched."""
    parts = query.split("&")
    spelled = [part.partition("=") for part in parts]
    renamed = [
        (_QUERY_NAMES.get(unquote_plus(name).lower(), name), eq, value)
        for name, eq, value in spelled
    ]
    if renamed == spelled:
        return query
    return "&".join(name + eq + value for name, eq, value in renamed)


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
